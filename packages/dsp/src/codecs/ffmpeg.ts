import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { DspError } from '../errors.ts';

/** Loaded on first use: a WAV-to-WAV run never starts ffmpeg and need not pay for the module (~5 ms). */
const childProcess = () => process.getBuiltinModule('node:child_process');

export interface FfmpegInfo {
  readonly path: string;
  readonly source: 'env' | 'ffmpeg-static' | 'system' | '@ffmpeg-installer';
  readonly version: string;
}

const require = createRequire(import.meta.url);
const cache = new Map<string, Promise<FfmpegInfo>>();

async function executable(path: string | undefined | null): Promise<string | null> {
  if (!path) return null;
  try {
    await access(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

function fromPackage(name: string, pick: (m: unknown) => string | undefined): string | null {
  try {
    return pick(require(name)) ?? null;
  } catch {
    return null;
  }
}

async function onPath(env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // Our own node_modules/.bin never holds ffmpeg; skip nothing, just look.
    const found = dir ? await executable(join(dir, 'ffmpeg')) : null;
    if (found) return found;
  }
  return null;
}

function versionOf(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    childProcess().execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(/ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown');
    });
  });
}

/**
 * Find ffmpeg in a fixed order and say which one is used: FFMPEG_PATH, the `ffmpeg-static` package (optional; its
 * binary download fails offline, so often absent), `ffmpeg` on PATH (e.g. Debian's), the binary inside
 * `@ffmpeg-installer/ffmpeg`.
 */
export function locateFfmpeg(env: NodeJS.ProcessEnv = process.env): Promise<FfmpegInfo> {
  const key = `${env.FFMPEG_PATH ?? ''}|${env.PATH ?? ''}`;
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      // A path the user set is used or refused, never skipped in silence.
      if (env.FFMPEG_PATH) {
        const path = await executable(env.FFMPEG_PATH);
        const version = path ? await versionOf(path).catch(() => null) : null;
        if (!path || !version) {
          throw new DspError('Codec::FfmpegPathUnusable', `FFMPEG_PATH=${env.FFMPEG_PATH} is not a working ffmpeg (${path ? 'it does not run' : 'no executable file there'}); fix it or unset it`, {
            FFMPEG_PATH: env.FFMPEG_PATH,
          });
        }
        return { path, source: 'env' as const, version };
      }
      const candidates: [FfmpegInfo['source'], () => Promise<string | null>][] = [
        ['ffmpeg-static', () => executable(fromPackage('ffmpeg-static', (m) => (typeof m === 'string' ? m : undefined)))],
        ['system', () => onPath(env)],
        ['@ffmpeg-installer', () => executable(fromPackage('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: string })?.path))],
      ];
      for (const [source, find] of candidates) {
        const path = await find();
        if (!path) continue;
        const version = await versionOf(path).catch(() => null);
        if (version) return { path, source, version };
      }
      throw new DspError('Codec::FfmpegNotFound', 'no working ffmpeg: set FFMPEG_PATH, install ffmpeg, or install @ffmpeg-installer/ffmpeg');
    })();
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

/** Flags on every ffmpeg call: no stdin, no network protocols, quiet. */
export const SAFE_INPUT_FLAGS = ['-nostdin', '-hide_banner', '-protocol_whitelist', 'file,pipe', '-probesize', '5000000', '-analyzeduration', '20000000'];

const STDERR_LIMIT = 16 * 1024;

export interface FfmpegProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with stderr when ffmpeg exits 0; rejects with a DspError otherwise (or on timeout). */
  readonly done: Promise<string>;
  kill(): void;
}

/**
 * ffmpeg runs at its caller's priority. It inherits the caller's niceness, but its own process group is also a session
 * of its own, and where Linux schedules sessions as groups (autogroup) the group's niceness is what counts: a worker
 * running below the API would otherwise start ffmpeg level with it.
 */
function keepPriority(pid: number | undefined): void {
  const os = process.getBuiltinModule('node:os');
  const niceness = os.getPriority();
  if (!pid || niceness <= 0) return;
  try {
    process.getBuiltinModule('node:fs').writeFileSync(`/proc/${pid}/autogroup`, String(niceness));
  } catch {
    // no autogroup scheduling here: the inherited niceness is what counts
  }
}

/** Start ffmpeg with a wall-clock limit and bounded stderr capture. */
export function startFfmpeg(ffmpeg: FfmpegInfo, args: string[], opts: { timeoutMs: number; failCode: string }): FfmpegProcess {
  // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches us, and we finish or stop
  // the work in flight; it must not kill ffmpeg under a job that is being finished. It still ends with its pipes.
  const child = childProcess().spawn(ffmpeg.path, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  keepPriority(child.pid);
  let stderr = '';
  let timedOut = false;
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += d.toString('utf8').slice(0, STDERR_LIMIT - stderr.length);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new DspError('Codec::FfmpegFailed', `could not run ffmpeg: ${err.message}`, undefined, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return reject(new DspError('Codec::Timeout', `ffmpeg took longer than ${opts.timeoutMs} ms`));
      if (code === 0) return resolve(stderr);
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new DspError(opts.failCode, `ffmpeg failed (${signal ?? `exit ${code}`}): ${last || 'no message'}`));
    });
  });
  done.catch(() => undefined);
  return {
    child,
    done,
    kill: () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
    },
  };
}
