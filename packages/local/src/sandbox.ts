import type { Bundle } from '@david/bundle';
import type { FunctionSpec } from '@david/core';
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';

/** Why an invocation failed in the runtime rather than in the handler (Lambda's own error types). */
export class RuntimeError extends Error {
  constructor(
    readonly errorType: 'Sandbox.Timedout' | 'Runtime.OutOfMemory' | 'Runtime.ExitError' | 'Runtime.InitError' | 'Sandbox.EphemeralStorageFull',
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

export interface PoolOptions {
  readonly name: string;
  readonly spec: FunctionSpec;
  readonly bundle: Bundle;
  /** The function's environment (its configuration in the cloud); nothing else of ours reaches it. */
  readonly environment: Readonly<Record<string, string>>;
  /** Most environments at once (reserved concurrency, or what the machine affords). */
  readonly concurrency: number;
  /** Each environment's /tmp is a folder under this one. */
  readonly tmpRoot: string;
  /** How often memory and /tmp are measured. */
  readonly watchEveryMs?: number;
  /**
   * Scheduling niceness of its processes (0 = as the stack, up to 19). Background workers run below the stack so
   * that, on a busy machine, the API and the emulators answer first (in the cloud they do not share cores at all).
   */
  readonly niceness?: number;
}

/** Lambda's default /tmp when a function sets no ephemeral storage. */
const DEFAULT_EPHEMERAL_MB = 512;
const RUNNER = new URL('./sandbox-runner.mjs', import.meta.url);
/** The variables of the machine an environment gets (Lambda sets its own equivalents). */
const PASSED = ['PATH', 'HOME', 'LANG', 'TZ', 'FFMPEG_PATH'];

/**
 * Runs a process (and what it spawns) below the stack. Its own process group is also a session of its own, and where
 * Linux groups scheduling by session (autogroup, on by default) a session's niceness is the autogroup's, not the
 * process's: a process alone in its session at niceness 10 still gets as much CPU as the API. So both are set.
 */
function lowerPriority(pid: number, niceness: number): void {
  try {
    setPriority(pid, niceness);
  } catch {
    // not allowed here: it runs at the stack's priority
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(niceness));
  } catch {
    // no autogroup scheduling here (another OS, or turned off): the process niceness is what counts
  }
}

let sequence = 0;

const readOrEmpty = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // gone meanwhile
  }
};

/**
 * A process and all its descendants, read synchronously from /proc (a few small files), following the children of
 * each process's main thread: Node spawns from its event-loop thread and ffmpeg spawns nothing, so the other threads'
 * lists (a dozen files per Node process, every 200 ms for every busy environment) need not be read.
 */
export function processTree(pid: number): number[] {
  const pids: number[] = [];
  const visit = (p: number) => {
    pids.push(p);
    for (const c of readOrEmpty(`/proc/${p}/task/${p}/children`).split(/\s+/).filter(Boolean)) visit(Number(c));
  };
  visit(pid);
  return pids;
}

/** Resident memory (kB) of a process and all its descendants (ffmpeg children count, as in a Lambda sandbox). */
function treeRssKb(pid: number): { kb: number; pids: number[] } {
  const pids = processTree(pid);
  let kb = 0;
  for (const p of pids) kb += Number(/VmRSS:\s+(\d+)/.exec(readOrEmpty(`/proc/${p}/status`))?.[1] ?? 0);
  return { kb, pids };
}

/** Bytes under a directory (an environment's /tmp), read synchronously like its memory: an empty one is a single readdir. */
function dirBytes(dir: string): number {
  let total = 0;
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else {
      try {
        total += statSync(p).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return total;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; deadline: number };

/**
 * One execution environment: a Node process that loaded the bundle, reused warm until it fails. It runs up to
 * `perEnvironment` invocations at once (1, as in classic Lambda, unless the pool allows more).
 */
class Environment {
  readonly tmp: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  dead = false;
  /**
   * Takes no new invocation: being killed, or its IPC channel closed (the process is on its way out). Until its exit
   * it still counts against the function's concurrency, as a crashed Lambda environment does until it is cleaned up.
   */
  get gone(): boolean {
    return this.dead || this.killed !== undefined || !this.child.connected;
  }
  initMs = 0;
  private readonly pending = new Map<number, Pending>();
  private killed?: { type: RuntimeError['errorType']; note: string };
  private watching?: Promise<void>;
  private wake = () => undefined as void;

  constructor(private readonly pool: PoolOptions, tmp: string) {
    this.tmp = tmp;
    const env: Record<string, string> = {};
    for (const k of PASSED) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, pool.environment, {
      TMPDIR: tmp,
      AWS_LAMBDA_FUNCTION_NAME: pool.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(pool.spec.memoryMb),
      DAVID_BUNDLE: pool.bundle.file,
      DAVID_FUNCTION_NAME: pool.name,
      DAVID_FUNCTION_MEMORY_MB: String(pool.spec.memoryMb),
    });
    // Its own process group, so a terminal's Ctrl-C reaches only the stack, which finishes the work in flight.
    this.child = fork(RUNNER, [], {
      env,
      execArgv: [`--max-old-space-size=${pool.spec.memoryMb}`, '--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
      serialization: 'advanced',
    });
    if (pool.niceness && this.child.pid) lowerPriority(this.child.pid, pool.niceness);
    this.ready = new Promise((resolve, reject) => {
      // A process that could not be spawned fails its start; later errors (a send to a channel that just closed) go
      // to that send's callback (see run). None may go unheard and take the stack down with it.
      this.child.on('error', (err) => reject(new RuntimeError('Runtime.InitError', `${pool.name} failed to start: ${err.message}`)));
      this.child.on('message', (m: { type: string; id?: number; result?: unknown; error?: { name: string; message: string; stack?: string }; initMs?: number }) => {
        if (m.type === 'ready') {
          this.initMs = m.initMs ?? 0;
          resolve();
        } else if (m.type === 'init-error') {
          reject(new RuntimeError('Runtime.InitError', `${pool.name} failed to start: ${m.error?.message}`));
        } else if (m.id !== undefined && this.pending.has(m.id)) {
          const p = this.pending.get(m.id)!;
          this.pending.delete(m.id);
          if (m.type === 'result') p.resolve(m.result);
          else p.reject(Object.assign(new Error(m.error?.message), { name: m.error?.name ?? 'Error', stack: m.error?.stack }));
        }
      });
      this.child.once('exit', (code, signal) => {
        this.dead = true;
        this.wake();
        const why = this.killed?.note ?? `Runtime exited with ${signal ? `signal ${signal}` : `error: exit status ${code}`}`;
        reject(new RuntimeError('Runtime.ExitError', `${pool.name}: ${why}`));
        for (const p of this.pending.values()) p.reject(new RuntimeError(this.killed?.type ?? 'Runtime.ExitError', `${pool.name}: ${why}`));
        this.pending.clear();
        // A crashed environment's /tmp goes with it (a killed one's is removed by kill()).
        void rm(this.tmp, { recursive: true, force: true }).catch(() => undefined);
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Invocations this environment has been given and not yet finished (set by the pool before it runs them). */
  claims = 0;

  /** Run one event; the environment is killed (with its children) when it runs out of time, memory or /tmp. */
  async run(event: unknown): Promise<unknown> {
    await this.ready;
    if (this.gone) throw new RuntimeError('Runtime.ExitError', `${this.pool.name}: the environment is gone`);
    const id = ++sequence;
    const result = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + this.pool.spec.timeoutSeconds * 1000 });
    });
    this.watching ??= this.watch().finally(() => {
      this.watching = undefined;
    });
    // The channel may close between the check above and the send (the process crashing): the invocation fails as
    // Lambda's would, and the next one gets a fresh environment.
    this.child.send({ type: 'invoke', id, event, deadline: this.pending.get(id)!.deadline }, (err) => {
      if (!err || !this.pending.has(id)) return;
      this.pending.get(id)!.reject(new RuntimeError('Runtime.ExitError', `${this.pool.name}: the environment is gone (${err.message})`));
      this.pending.delete(id);
    });
    try {
      return await result;
    } finally {
      if (this.pending.size === 0) this.wake();
    }
  }

  /** While invocations run: their deadlines, and the environment's memory and /tmp, every watchEveryMs. */
  private async watch(): Promise<void> {
    const { spec } = this.pool;
    const limitKb = spec.memoryMb * 1024;
    const tmpBytes = (spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_MB) * 1024 * 1024;
    while (!this.dead && this.pending.size > 0) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, this.pool.watchEveryMs ?? 200);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      if (this.dead || this.pending.size === 0) return;
      if ([...this.pending.values()].some((p) => Date.now() >= p.deadline)) {
        return this.kill({ type: 'Sandbox.Timedout', note: `Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds` });
      }
      const { kb } = treeRssKb(this.child.pid!);
      if (kb > limitKb) return this.kill({ type: 'Runtime.OutOfMemory', note: `out of memory: ${Math.round(kb / 1024)} MB used, the limit is ${spec.memoryMb} MB` });
      const used = dirBytes(this.tmp);
      if (used > tmpBytes) {
        return this.kill({ type: 'Sandbox.EphemeralStorageFull', note: `ephemeral storage full: ${Math.round(used / 1048576)} MB in /tmp, the limit is ${tmpBytes / 1048576} MB` });
      }
    }
  }

  async kill(why: { type: RuntimeError['errorType']; note: string } = { type: 'Runtime.ExitError', note: 'stopped' }): Promise<void> {
    if (this.dead) return;
    this.killed = why;
    const { pids } = treeRssKb(this.child.pid!);
    for (const p of pids.reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise<void>((resolve) => (this.dead ? resolve() : this.child.once('exit', () => resolve())));
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/**
 * A function as Lambda runs it: up to `concurrency` execution environments, each its own process with the bundle
 * loaded, reused warm; one that timed out, ran out of memory or /tmp, or crashed is discarded and the next
 * invocation gets a fresh one (a cold start). Each runs one invocation at a time unless `perEnvironment` allows
 * more (as Lambda Managed Instances do); invocations beyond that wait.
 */
export class FunctionPool {
  private readonly envs: Environment[] = [];
  private readonly waiting: (() => void)[] = [];
  private starting = 0;
  private stopped = false;
  private next = 0;
  /** Cold starts and how long loading the bundle took. */
  readonly starts: number[] = [];

  constructor(private readonly opts: PoolOptions & { readonly perEnvironment?: number }) {}

  get name(): string {
    return this.opts.name;
  }

  async invoke(event: unknown): Promise<unknown> {
    const env = await this.acquire();
    try {
      return await env.run(event);
    } finally {
      env.claims--;
      if (env.dead && this.envs.includes(env)) this.envs.splice(this.envs.indexOf(env), 1);
      this.waiting.shift()?.();
    }
  }

  private async acquire(): Promise<Environment> {
    const per = this.opts.perEnvironment ?? 1;
    for (;;) {
      if (this.stopped) throw new RuntimeError('Runtime.ExitError', `${this.opts.name} is stopping`);
      for (const e of [...this.envs]) if (e.dead) this.envs.splice(this.envs.indexOf(e), 1);
      // An idle warm environment; else a new one while the concurrency allows; else the least busy with room.
      const warm = this.envs.filter((e) => e.claims < per && !e.gone).sort((a, b) => a.claims - b.claims)[0];
      if (warm && (warm.claims === 0 || this.envs.length + this.starting >= this.opts.concurrency)) {
        warm.claims++;
        return warm;
      }
      if (this.envs.length + this.starting < this.opts.concurrency) return this.start(1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /**
   * A new environment with a fresh /tmp, holding `claims` invocations from the start, counted as starting until its
   * bundle is loaded (one that fails to start is killed). When it leaves, its place is free: an invocation waiting
   * for one goes on at once, not at the next finish.
   */
  private async start(claims: number): Promise<Environment> {
    const tmp = join(this.opts.tmpRoot, `${this.opts.name}-${process.pid}-${this.next++}`);
    this.starting++;
    let env: Environment | undefined;
    try {
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      env = new Environment(this.opts, tmp);
      env.child.once('exit', () => this.waiting.shift()?.());
      env.claims = claims;
      await env.ready;
    } catch (err) {
      await env?.kill();
      throw err;
    } finally {
      this.starting--;
    }
    this.envs.push(env);
    this.starts.push(env.initMs);
    return env;
  }

  /** Start `n` environments ahead of any invocation (provisioned concurrency): the first events find them warm. */
  async provision(n: number): Promise<void> {
    const count = Math.min(n, this.opts.concurrency) - this.envs.length - this.starting;
    await Promise.all(
      Array.from({ length: Math.max(0, count) }, () => this.start(0)),
    );
  }

  /** Kill every environment (call after the work in flight is done). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w();
    await Promise.all(this.envs.map((e) => e.kill()));
    this.envs.length = 0;
  }
}
