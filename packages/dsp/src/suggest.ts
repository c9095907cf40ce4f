import { InvalidParameterError } from './errors.ts';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The known name closest to a mistyped one, when it is close enough to be what was meant (a third of its length,
 * at least 2 edits), or one it abbreviates; otherwise undefined.
 */
export function closest(input: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(input, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(input.length / 3))) return best;
  // An abbreviation: `params` for `parameters`, `chan` for `channels` (a shared start of 4+ characters).
  const lower = input.toLowerCase();
  let bestPrefix = 0;
  let abbreviated: string | undefined;
  for (const k of known) {
    const kl = k.toLowerCase();
    let n = 0;
    while (n < lower.length && n < kl.length && lower[n] === kl[n]) n++;
    if (n >= 4 && n >= Math.ceil((2 * lower.length) / 3) && n > bestPrefix) [bestPrefix, abbreviated] = [n, k];
  }
  return abbreviated;
}

/** " (did you mean 'x'?)" or "" — for messages. */
export function didYouMean(input: string, known: Iterable<string>): string {
  const s = closest(input, known);
  return s ? `; did you mean '${s}'?` : '';
}

/**
 * `map`'s entry for `id` (a Map lookup: `__proto__` or `toString` are just unknown ids), or an InvalidParameterError
 * with `code` that names the closest id and the known ones: `unknown effect 'gian'; did you mean 'gain'?; known …`.
 */
export function lookupById<T>(map: ReadonlyMap<string, T>, id: string, code: string, what: string): T {
  const found = map.get(id);
  if (found !== undefined) return found;
  const known = [...map.keys()];
  const suggestion = closest(id, known);
  throw new InvalidParameterError(code, `unknown ${what} '${id}'${didYouMean(id, known)}; known ${what}s: ${known.join(', ')}`, {
    [what]: id,
    known,
    ...(suggestion ? { suggestion } : {}),
  });
}
