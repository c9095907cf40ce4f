/**
 * `david remote process`: run a chain on many files through a David API — create (or reuse) a session, upload
 * through the presigned POSTs, run the jobs with the batch route, follow them with long polls and download every
 * output into --out under the input's name. A rerun resumes from `<out>/.david-remote.json` and redoes nothing
 * that finished. Built on the typed client generated from the OpenAPI document.
 */
import { createDavidClient, DavidApiError, unwrap, type components, type DavidClient, type JobView } from '@david/client';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { FORMATS, formatFromPath, isFormat, FORMAT_IDS, type ContainerFormat } from '../codecs/formats.ts';
import { resolveChain } from '../engine/chain.ts';
import type { ChainStep } from '../types.ts';
import { flag, positiveInt, readChain, UsageError, type Parsed } from './main.ts';

const STATE_FILE = '.david-remote.json';
const BATCH = 100;
const WAIT = 20;
/** Exit code when some files failed (the others are done). */
export const EXIT_SOME_FAILED = 4;

interface FileState {
  input: string;
  size: number;
  mtimeMs: number;
  file_id?: string;
  job_id?: string;
  outputs?: string[];
  done?: boolean;
}
interface State {
  api: string;
  session_id: string;
  token: string;
  /** What was asked for: a rerun with another chain or format starts over rather than mixing results. */
  request: string;
  files: Record<string, FileState>;
  /** Idempotency keys of batch calls whose answer is not saved yet, by their file ids. */
  batches?: Record<string, string>;
}

type Phase = 'waiting' | 'uploading' | 'ingesting' | 'queued' | 'processing' | 'downloading' | 'done' | 'failed' | 'resumed';
const PHASES: Phase[] = ['waiting', 'uploading', 'ingesting', 'queued', 'processing', 'downloading', 'done'];

interface Item {
  /** Output name stem relative to --out (the input's path below the folder it was found in). */
  readonly name: string;
  readonly input: string;
  readonly format: ContainerFormat;
  state: FileState;
  phase: Phase;
  error?: string;
}

/** Audio files among the arguments: files as given, folders walked recursively (by extension, hidden files skipped). */
async function collectInputs(args: string[]): Promise<{ input: string; name: string; format: ContainerFormat }[]> {
  const out: { input: string; name: string; format: ContainerFormat }[] = [];
  const walk = async (root: string, path: string) => {
    for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(root, full);
      else if (entry.isFile() && formatFromPath(entry.name)) out.push({ input: full, name: relative(root, full), format: formatFromPath(entry.name)! });
    }
  };
  for (const arg of args) {
    const s = await stat(arg).catch(() => null);
    if (!s) throw new UsageError(`no such file or folder: ${arg}`);
    if (s.isDirectory()) await walk(arg, arg);
    else {
      const format = formatFromPath(arg);
      if (!format) throw new UsageError(`${arg} is not a file we can send (use ${Object.values(FORMATS).flatMap((f) => f.extensions).join(' ')})`);
      out.push({ input: arg, name: basename(arg), format });
    }
  }
  const names = new Map<string, string>();
  for (const f of out) {
    const prev = names.get(f.name);
    if (prev && resolve(prev) !== resolve(f.input)) throw new UsageError(`${prev} and ${f.input} would both be written as ${f.name}; process them in separate runs`);
    names.set(f.name, f.input);
  }
  if (out.length === 0) throw new UsageError('no audio files found in the arguments');
  return [...new Map(out.map((f) => [f.name, f])).values()];
}

/** Run `fn` over `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** A live view on a terminal: the overall bar and one bar per file in flight; elsewhere one line per finished file. */
function display(items: Item[], quiet: boolean, json: boolean) {
  const tty = !quiet && !json && process.stderr.isTTY;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const bar = (f: number, width: number) => `[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}]`;
  const draw = () => {
    const finished = items.filter((i) => i.phase === 'done' || i.phase === 'failed' || i.phase === 'resumed').length;
    const failed = items.filter((i) => i.phase === 'failed').length;
    const active = items.filter((i) => !['waiting', 'done', 'failed', 'resumed'].includes(i.phase)).slice(0, 12);
    const lines = [
      `${bar(finished / items.length, 30)} ${finished}/${items.length} files${failed ? `, ${failed} failed` : ''}`,
      ...active.map((i) => `  ${bar(PHASES.indexOf(i.phase) / (PHASES.length - 1), 12)} ${i.phase.padEnd(11)} ${i.name}`),
    ];
    process.stderr.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n\x1b[J`);
    drawn = lines.length;
  };
  return {
    start() {
      if (tty) timer = setInterval(draw, 200);
    },
    finished(item: Item) {
      if (tty || quiet || json) return;
      if (item.phase === 'failed') console.error(`failed  ${item.name}: ${item.error}`);
      else console.error(`${item.phase === 'resumed' ? 'kept   ' : 'done   '} ${item.name} → ${item.state.outputs?.join(', ')}`);
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) draw();
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return !!(await stat(path).catch(() => null));
}

export async function cmdRemote(p: Parsed): Promise<number> {
  const [sub, ...args] = p.positional;
  if (sub !== 'process') throw new UsageError(`david remote has one command, process (got '${sub}')`);
  const api = flag(p, 'api');
  const outDir = flag(p, 'out');
  if (!api) throw new UsageError('--api <url> is required (e.g. http://localhost:3000)');
  if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be an http(s) URL (got '${api}')`);
  if (!outDir) throw new UsageError('--out <dir> is required');
  const format = flag(p, 'format');
  if (format !== undefined && !isFormat(format)) throw new UsageError(`--format must be one of ${FORMAT_IDS.join(', ')} (got '${format}')`);
  const concurrency = positiveInt(p, 'concurrency', 4, 64);
  if (flag(p, 'session') === undefined !== (flag(p, 'token') === undefined)) throw new UsageError('--session and --token go together');
  const json = flag(p, 'json') === 'true';
  const quiet = flag(p, 'quiet') === 'true';

  // The chain: checked here against the same declarations the server uses, before anything is uploaded.
  // A preset is the API's own (its version may differ from this one): its chain is fetched to check and to key the
  // saved state, and the jobs name the preset, so they record it.
  const preset = flag(p, 'preset');
  let steps: ChainStep[];
  if (preset !== undefined) {
    if (flag(p, 'effect') || flag(p, 'chain') || p.flags.has('param')) throw new UsageError('give one of --effect (with --param), --chain or --preset');
    const res = await fetch(`${api.replace(/\/+$/, '')}/api/presets/${encodeURIComponent(preset)}`);
    const body = (await res.json().catch(() => null)) as { chain?: ChainStep[]; error?: { message?: string } } | null;
    if (!res.ok || !body?.chain) throw new UsageError(`the API at ${api} has no preset '${preset}': ${body?.error?.message ?? `GET /api/presets answered ${res.status}`}`);
    steps = body.chain;
  } else steps = await readChain(p);
  const chain = resolveChain(steps).map((s) => ({ effect: s.decl.id as components['schemas']['ChainStep']['effect'], parameters: s.params }));
  const request = JSON.stringify({ chain, ...(preset !== undefined ? { preset } : {}), format: format ?? null });

  const inputs = await collectInputs(args);
  for (const f of inputs) {
    const target = resolve(outDir, outputName(f.name, format ?? f.format));
    if (target === resolve(f.input)) throw new UsageError(`the output for ${f.input} would replace it; choose another --out folder`);
  }
  await mkdir(outDir, { recursive: true });
  const statePath = join(outDir, STATE_FILE);
  const saved = await readFile(statePath, 'utf8').then((t) => JSON.parse(t) as State, () => null);
  let state: State;
  if (flag(p, 'session')) state = { api, session_id: flag(p, 'session')!, token: flag(p, 'token')!, request, files: saved?.request === request ? saved.files : {} };
  else if (saved && saved.api === api && saved.request === request) state = saved;
  else {
    const created = unwrap(await createDavidClient(api).POST('/api/audio/session', { body: { name: `david remote ${new Date().toISOString().slice(0, 19)}` } }));
    state = { api, session_id: created.session_id, token: created.access_token, request, files: {} };
  }
  const client = createDavidClient(api, state.token);
  let saving = Promise.resolve();
  const save = () =>
    (saving = saving.then(async () => {
      const temp = `${statePath}.part`;
      await writeFile(temp, JSON.stringify(state, null, 1), { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, statePath);
    }));
  await save();

  const items: Item[] = [];
  for (const f of inputs) {
    const s = await stat(f.input);
    const prev = state.files[f.name];
    const same = prev && prev.input === resolve(f.input) && prev.size === s.size && prev.mtimeMs === s.mtimeMs;
    const fresh: FileState = { input: resolve(f.input), size: s.size, mtimeMs: s.mtimeMs };
    const item: Item = { ...f, state: same ? prev : fresh, phase: 'waiting' };
    if (same && prev.done && prev.outputs && (await Promise.all(prev.outputs.map((o) => exists(join(outDir, o))))).every(Boolean)) item.phase = 'resumed';
    else if (!same || prev.done) item.state = fresh; // changed input, or outputs gone: do it again
    state.files[f.name] = item.state;
    items.push(item);
  }

  const view = display(items, quiet, json);
  view.start();
  const fail = (item: Item, why: string) => {
    item.phase = 'failed';
    item.error = why;
    view.finished(item);
  };
  const why = (err: unknown) => (err instanceof DavidApiError ? `${err.code}: ${err.message}` : (err as Error).message);
  for (const item of items) if (item.phase === 'resumed') view.finished(item);

  const todo = items.filter((i) => i.phase === 'waiting');
  const followers: Promise<void>[] = [];
  let following = 0;
  const followSlots: (() => void)[] = [];
  const slot = async () => {
    while (following >= concurrency) await new Promise<void>((r) => followSlots.push(r));
    following++;
  };
  const release = () => {
    following--;
    followSlots.shift()?.();
  };

  for (let i = 0; i < todo.length; i += BATCH) {
    const chunk = todo.slice(i, i + BATCH);
    await pool(chunk, concurrency, async (item) => {
      try {
        if (!item.state.file_id) await upload(client, state.session_id, item);
        item.phase = 'ingesting';
        const file = await waitForFile(client, state.session_id, item.state.file_id!);
        // Not only `rejected`: an `expired` file (or any status but ready) would make the whole batch call fail.
        if (file.status !== 'ready') return fail(item, `${file.rejection?.code ?? `File::${file.status}`}: ${file.rejection?.message ?? file.status}`);
        item.phase = 'queued';
      } catch (err) {
        item.state.file_id = undefined;
        fail(item, why(err));
      } finally {
        await save();
      }
    });
    const ready = chunk.filter((c) => c.phase === 'queued');
    const needJob = ready.filter((c) => !c.state.job_id);
    if (needJob.length > 0) {
      // The batch's Idempotency-Key is saved before the call and dropped after its answer is: a rerun after a crash
      // in between sends the same key and gets the first answer back instead of a second set of jobs.
      const fileIds = needJob.map((c) => c.state.file_id!);
      const ids = fileIds.join(',');
      state.batches ??= {};
      const key = (state.batches[ids] ??= `batch-${process.getBuiltinModule('node:crypto').randomUUID()}`);
      await save();
      try {
        const res = unwrap(
          await client.POST('/api/audio/{session_id}/batch', {
            params: { path: { session_id: state.session_id }, header: { 'idempotency-key': key } },
            body: { file_ids: fileIds, ...(preset !== undefined ? { preset: preset as components['schemas']['BatchRequest']['preset'] } : { chain }), ...(format ? { output_format: format as ContainerFormat } : {}) },
          }),
        );
        for (const [k, j] of res.jobs.entries()) needJob[k].state.job_id = j.job_id;
        delete state.batches[ids];
        await save();
      } catch (err) {
        for (const c of needJob) fail(c, why(err));
      }
    }
    for (const item of ready.filter((c) => c.state.job_id)) {
      followers.push(
        (async () => {
          await slot();
          try {
            const job = await waitForJob(client, state.session_id, item);
            if (job.status === 'failed') return fail(item, `${job.error?.code}: ${job.error?.message}`);
            item.phase = 'downloading';
            item.state.outputs = await download(job, outDir, item);
            item.state.done = true;
            item.phase = 'done';
            view.finished(item);
          } catch (err) {
            fail(item, why(err));
          } finally {
            release();
            await save();
          }
        })(),
      );
    }
  }
  await Promise.all(followers);
  await save();
  view.stop();

  const failed = items.filter((i) => i.phase === 'failed');
  const summary = {
    api,
    session_id: state.session_id,
    total: items.length,
    done: items.filter((i) => i.phase === 'done').length,
    resumed: items.filter((i) => i.phase === 'resumed').length,
    failed: failed.map((i) => ({ file: i.input, error: i.error })),
  };
  if (json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.error(`${summary.done} done, ${summary.resumed} already done, ${failed.length} failed (session ${state.session_id})`);
    for (const f of failed) console.error(`  ${f.input}: ${f.error}`);
  }
  return failed.length > 0 ? EXIT_SOME_FAILED : 0;
}

async function upload(client: DavidClient, sessionId: string, item: Item): Promise<void> {
  item.phase = 'uploading';
  const contentType = FORMATS[item.format].contentTypes[0];
  const ticket = unwrap(
    await client.POST('/api/audio/upload', { body: { session_id: sessionId, filename: basename(item.input), content_type: contentType, size: item.state.size } }),
  );
  const form = new FormData();
  for (const [k, v] of Object.entries(ticket.upload.fields)) form.append(k, v);
  form.append('file', await process.getBuiltinModule('node:fs').openAsBlob(item.input, { type: contentType }), basename(item.input));
  const res = await fetch(ticket.upload.url, { method: 'POST', body: form });
  if (res.status >= 300) throw new Error(`the upload was refused (${res.status}): ${(await res.text()).slice(0, 200)}`);
  item.state.file_id = ticket.file_id;
}

async function waitForFile(client: DavidClient, sessionId: string, fileId: string) {
  for (;;) {
    const f = unwrap(await client.GET('/api/audio/{session_id}/files/{file_id}', { params: { path: { session_id: sessionId, file_id: fileId }, query: { wait: WAIT } } }));
    if (f.status !== 'pending') return f;
  }
}

async function waitForJob(client: DavidClient, sessionId: string, item: Item): Promise<JobView> {
  for (;;) {
    const j = unwrap(await client.GET('/api/audio/{session_id}/jobs/{job_id}', { params: { path: { session_id: sessionId, job_id: item.state.job_id! }, query: { wait: WAIT } } }));
    if (j.status === 'processing') item.phase = 'processing';
    if (j.status === 'completed' || j.status === 'failed') return j;
  }
}

/** Every output of a job into the out folder under the input's name (`take.wav` → `take.mp3`), each written whole or not at all. */
function outputName(name: string, format: string): string {
  const stem = name.slice(0, name.lastIndexOf('.'));
  return `${stem}${isFormat(format) ? FORMATS[format].extensions[0] : `.${format}`}`;
}

async function download(job: JobView, outDir: string, item: Item): Promise<string[]> {
  const written: string[] = [];
  for (const o of job.outputs ?? []) {
    const rel = outputName(item.name, o.format);
    const target = join(outDir, rel);
    if (resolve(target) === resolve(item.input)) throw new Error(`refusing to write ${target} over its input`);
    await mkdir(dirname(target), { recursive: true });
    const res = await fetch(o.url);
    if (!res.ok) throw new Error(`downloading ${o.url}: ${res.status}`);
    const temp = `${target}.part`;
    try {
      // node:stream only here (loading it costs every command's start ~10 ms).
      const { Readable } = process.getBuiltinModule('node:stream');
      const { pipeline } = process.getBuiltinModule('node:stream/promises');
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), process.getBuiltinModule('node:fs').createWriteStream(temp));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    written.push(rel);
  }
  return written;
}
