/**
 * Regenerate the effect and preset references in packages/dsp/README.md from the declarations (between the markers).
 *   node --import tsx packages/dsp/bench/gen-docs.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '../src/effects/registry.ts';
import { presets } from '../src/presets.ts';
import type { ParamSpec } from '../src/types.ts';

const range = (s: ParamSpec): string => {
  switch (s.kind) {
    case 'number':
      return `${s.min} … ${s.max} ${s.unit}`.trim();
    case 'enum':
      return s.values.map((v) => `\`${v}\``).join(', ');
    case 'boolean':
      return 'true / false';
    case 'list':
      return `${s.minItems}–${s.maxItems} of { ${Object.entries(s.item).map(([k, v]) => `${k}: ${range(v)}`).join('; ')} }`;
  }
};
const def = (s: ParamSpec) => (s.kind === 'list' ? '`' + JSON.stringify(s.default) + '`' : `\`${String(s.default)}\``);

const lines: string[] = [];
for (const d of registry.values()) {
  lines.push(`### \`${d.id}\``, '', d.description + '.', '');
  if (d.wholeStream) lines.push(`*Whole stream:* ${d.wholeStream}.`, '');
  if (d.tail) lines.push(`*Tail:* ${d.tail}.`, '');
  const params = Object.entries(d.parameters);
  if (params.length === 0) lines.push('No parameters.', '');
  else {
    lines.push('| parameter | range | default | what it does |', '| --- | --- | --- | --- |');
    for (const [name, s] of params) lines.push(`| \`${name}\` | ${range(s)} | ${def(s)} | ${s.doc} |`);
    lines.push('');
  }
}
const presetLines: string[] = ['| preset | target | steps | what it is for |', '| --- | --- | --- | --- |'];
for (const p of presets.values()) {
  const steps = p.chain.map((s) => `\`${s.effect}\``).join(' → ');
  presetLines.push(`| \`${p.id}\` | ${p.target.integratedLufs} LUFS, ≤ ${p.target.truePeakDbtp} dBTP | ${steps} | ${p.description} |`);
}

const path = join(import.meta.dirname, '..', 'README.md');
let readme = readFileSync(path, 'utf8');
function replaceBetween(name: string, body: string[]) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = readme.indexOf(start), b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README markers for ${name} not found`);
  readme = readme.slice(0, a + start.length) + '\n\n' + body.join('\n') + '\n' + readme.slice(b);
}
replaceBetween('effects', lines);
replaceBetween('presets', presetLines);
writeFileSync(path, readme);
console.log(`documented ${registry.size} effects and ${presets.size} presets`);
