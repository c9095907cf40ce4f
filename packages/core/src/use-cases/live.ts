import type { Connection, FileRecord, Job, LiveEvent, LiveMessage, Progress, Session } from '../domain/types.ts';
import type { Clock, ConnectionRepository, EventFeed, FileRepository, JobRepository, PushChannel, SessionRepository } from '../ports.ts';
import { isWebhookEvent, webhookDelivery, type WebhookQueue } from './webhooks.ts';
import { fileView, jobView } from './views.ts';
import type { Deps } from './deps.ts';

/** Progress is written (and pushed) at most this often per job or file. */
export const PROGRESS_EVERY_MS = 250;

/** Where each phase sits in the whole of a job's percent (a phase's own fraction maps into its span). */
export const PHASE_SPANS: Readonly<Record<Progress['phase'], readonly [number, number]>> = {
  downloading: [0, 5],
  decoding: [5, 10],
  processing: [10, 90],
  encoding: [90, 95],
  uploading: [95, 100],
};

/** The whole job's percent for a phase that is `fraction` (0–1) done. */
export function percentOf(phase: Progress['phase'], fraction: number): number {
  const [from, to] = PHASE_SPANS[phase];
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  return Math.round((from + (to - from) * f) * 10) / 10;
}

/**
 * Throttled progress: `report` as often as you like; the latest state is written at most every `everyMs` (the first
 * write `everyMs` after the start, so a job shorter than that writes none), one write at a time, in order, and the
 * percent never goes back. A failing write is dropped: progress is advice, the job's result is what counts.
 */
export class ProgressReporter {
  private latest: Progress | null = null;
  private sentPercent = -1;
  private lastWrite: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> | null = null;
  private closed = false;
  private latestSentPhase: Progress['phase'] | null = null;

  constructor(
    /** Writes one report; `at` is when it was taken (ISO 8601). */
    private readonly write: (p: Progress, at: string) => Promise<void>,
    private readonly everyMs = PROGRESS_EVERY_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastWrite = now();
  }

  report(phase: Progress['phase'], fraction = 0): void {
    if (this.closed) return;
    const percent = Math.max(percentOf(phase, fraction), this.latest?.percent ?? 0);
    this.latest = { phase, percent };
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.writing || this.closed) return;
    const wait = this.lastWrite + this.everyMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      this.timer.unref?.();
      return;
    }
    const p = this.latest;
    if (!p || (p.percent === this.sentPercent && p.phase === this.latestSentPhase)) return;
    this.lastWrite = this.now();
    this.sentPercent = p.percent;
    this.latestSentPhase = p.phase;
    this.writing = this.write(p, new Date().toISOString())
      .catch(() => undefined)
      .finally(() => {
        this.writing = null;
        if (this.latest && (this.latest.percent !== this.sentPercent || this.latest.phase !== this.latestSentPhase)) this.schedule();
      });
  }

  /** Stop reporting; waits for the write in flight (so nothing lands after the final state). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
  }
}

/** Count the frames that pass through a stream. */
export async function* countFrames<B extends ArrayLike<unknown>[]>(stream: AsyncIterable<B>, onFrames: (frames: number) => void): AsyncIterable<B> {
  for await (const block of stream) {
    onFrames(block[0]?.length ?? 0);
    yield block;
  }
}

export function jobMessage(job: Job, deliveryBaseUrl: string, type: 'job.updated' | 'job.progress', at: string): LiveMessage {
  return {
    type,
    session_id: job.session_id,
    file_id: job.file_id,
    job_id: job.job_id,
    status: job.status,
    ...(job.progress ? { progress: job.progress } : {}),
    at,
    ...(type === 'job.updated' ? { job: jobView(job, deliveryBaseUrl) } : {}),
  };
}

export function fileMessage(file: FileRecord, at: string): LiveMessage {
  return {
    type: 'file.updated',
    session_id: file.session_id,
    file_id: file.file_id,
    status: file.status,
    ...(file.progress ? { progress: file.progress } : {}),
    at,
    file: fileView(file),
  };
}

type PublishDeps = Pick<Deps, 'events' | 'sessions' | 'clock'>;

/** Sessions known to be watched, per repository (watching is never undone, so a yes can be remembered). */
const knownWatched = new WeakMap<object, Set<string>>();
const KNOWN_WATCHED_MAX = 10_000;
/** When each session was last read unwatched, per repository: a progress report (advice) trusts that for a while. */
const lastUnwatched = new WeakMap<object, Map<string, number>>();

/**
 * How long a progress report trusts a "nobody watches" read instead of reading the session again: a client that
 * connects meanwhile finds the current progress in its snapshot and gets every later state change; at most this
 * much of the progress in between is not pushed to it.
 */
export const PROGRESS_TRUSTS_UNWATCHED_MS = 2_000;

/** How a change is published: `after` is the session as read after the change was written (a read the caller made anyway); `advisory` marks progress. */
export interface PublishOptions {
  readonly after?: Session | null;
  readonly advisory?: boolean;
}

/**
 * Whether anyone can receive a session's changes: it has a callback_url or had a WebSocket connection. Read after
 * the state change was written, and $connect marks the session before it reads the snapshot, so a change is either
 * in a new connection's snapshot or published (never neither). Progress (`advisory`) may use a "no" read within
 * PROGRESS_TRUSTS_UNWATCHED_MS instead.
 */
export async function isWatched(deps: Pick<Deps, 'sessions' | 'clock'>, sessionId: string, opts: PublishOptions = {}): Promise<boolean> {
  let known = knownWatched.get(deps.sessions);
  if (known?.has(sessionId)) return true;
  let unwatched = lastUnwatched.get(deps.sessions);
  const now = deps.clock.now().getTime();
  if (opts.advisory && now - (unwatched?.get(sessionId) ?? -Infinity) < PROGRESS_TRUSTS_UNWATCHED_MS) return false;
  const session = opts.after !== undefined ? opts.after : await deps.sessions.get(sessionId);
  if (!session?.watched_at && !session?.callback_url) {
    if (!unwatched) lastUnwatched.set(deps.sessions, (unwatched = new Map()));
    if (unwatched.size >= KNOWN_WATCHED_MAX) unwatched.clear();
    unwatched.set(sessionId, now);
    return false;
  }
  unwatched?.delete(sessionId);
  if (!known) knownWatched.set(deps.sessions, (known = new Set()));
  if (known.size >= KNOWN_WATCHED_MAX) known.clear();
  known.add(sessionId);
  return true;
}

async function publish(deps: PublishDeps, message: LiveMessage, opts: PublishOptions): Promise<void> {
  if (deps.events && (await isWatched(deps, message.session_id, opts))) await deps.events.publish({ kind: 'change', message });
}

/** Push a job's new state (its record as it now is). Rejects when the feed fails, so the caller may retry. */
export async function publishJob(
  deps: PublishDeps & Pick<Deps, 'deliveryBaseUrl'>,
  job: Job,
  type: 'job.updated' | 'job.progress' = 'job.updated',
  at = deps.clock.now().toISOString(),
  opts: PublishOptions = {},
): Promise<void> {
  await publish(deps, jobMessage(job, deps.deliveryBaseUrl, type, at), opts);
}

export async function publishFile(deps: PublishDeps, file: FileRecord, at = deps.clock.now().toISOString(), opts: PublishOptions = {}): Promise<void> {
  await publish(deps, fileMessage(file, at), opts);
}

/** A job's progress, written on the job (for GET) and pushed; only while `attempt` holds the job. */
export function jobProgress(deps: PublishDeps & Pick<Deps, 'jobs' | 'deliveryBaseUrl'>, job: Job): ProgressReporter {
  return new ProgressReporter(async (progress, at) => {
    if (await deps.jobs.reportProgress(job.session_id, job.job_id, job.attempts, progress)) await publishJob(deps, { ...job, progress }, 'job.progress', at, { advisory: true });
  });
}

/** Ingest's progress on a pending file. */
export function fileProgress(deps: PublishDeps & Pick<Deps, 'files'>, file: FileRecord): ProgressReporter {
  return new ProgressReporter(async (progress, at) => {
    if (await deps.files.reportProgress(file.session_id, file.file_id, progress)) await publishFile(deps, { ...file, progress }, at, { advisory: true });
  });
}

/** The notifier's needs: who is connected, how to reach them, and the state to send a new connection. */
export interface LiveDeps {
  /** Webhooks: a change worth POSTing is queued for the session's callback, if it has one. */
  readonly webhooks?: { readonly sessions: Pick<SessionRepository, 'get'>; readonly queue: WebhookQueue };
  readonly connections: ConnectionRepository;
  readonly push: PushChannel;
  readonly files: Pick<FileRepository, 'list'>;
  readonly jobs: Pick<JobRepository, 'list'>;
  readonly deliveryBaseUrl: string;
  readonly clock: Clock;
}

/** Send one message to a connection; a connection the client left is forgotten. */
async function sendTo(deps: LiveDeps, connectionId: string, message: LiveMessage): Promise<boolean> {
  if ((await deps.push.send(connectionId, JSON.stringify(message))) === 'sent') return true;
  await deps.connections.delete(connectionId);
  return false;
}

/** A state change, to every open connection of its session. */
export async function fanOut(deps: LiveDeps, message: LiveMessage): Promise<{ sent: number; gone: number }> {
  const counts = { sent: 0, gone: 0 };
  const connections = await deps.connections.listBySession(message.session_id);
  await Promise.all(
    connections.map(async (c) => {
      if (await sendTo(deps, c.connection_id, message)) counts.sent++;
      else counts.gone++;
    }),
  );
  return counts;
}

/**
 * What a new connection gets first: the current state of every unfinished file (pending) and job (queued,
 * processing), oldest first, each marked `snapshot`. Changes made meanwhile reach it too (it was registered first);
 * `at` tells which is newer.
 */
export async function snapshotMessages(deps: Pick<LiveDeps, 'files' | 'jobs' | 'deliveryBaseUrl' | 'clock'>, sessionId: string): Promise<LiveMessage[]> {
  const [files, jobs] = await Promise.all([deps.files.list(sessionId), deps.jobs.list(sessionId)]);
  const at = deps.clock.now().toISOString();
  const byAge = <T extends { created_at: string }>(a: T, b: T) => a.created_at.localeCompare(b.created_at);
  return [
    ...files.filter((f) => f.status === 'pending').sort(byAge).map((f) => fileMessage(f, at)),
    ...jobs.filter((j) => j.status === 'queued' || j.status === 'processing').sort(byAge).map((j) => jobMessage(j, deps.deliveryBaseUrl, 'job.updated', at)),
  ].map((m) => ({ ...m, snapshot: true as const }));
}

/** Connections are kept at most this long (API Gateway closes a WebSocket after two hours). */
export const CONNECTION_TTL_SECONDS = 2 * 3600 + 600;

/**
 * $connect, after the authoriser let it in: mark its session watched (so its changes are published from now on),
 * remember the connection, then ask for its snapshot.
 */
export async function openConnection(
  deps: { sessions: Pick<SessionRepository, 'markWatched'>; connections: ConnectionRepository; events: EventFeed; clock: Clock },
  connection: Omit<Connection, 'connected_at'>,
): Promise<void> {
  const now = deps.clock.now();
  await deps.sessions.markWatched(connection.session_id, now.toISOString());
  await deps.connections.put({ ...connection, connected_at: now.toISOString() }, Math.floor(now.getTime() / 1000) + CONNECTION_TTL_SECONDS);
  await deps.events.publish({ kind: 'snapshot', session_id: connection.session_id, connection_id: connection.connection_id });
}

/** An events-queue body, or null when it is not one (a poison message: no retry can help). */
export function parseLiveEvent(body: string): LiveEvent | null {
  let e: unknown;
  try {
    e = JSON.parse(body);
  } catch {
    return null;
  }
  const o = e as Record<string, unknown> | null;
  if (o?.kind === 'snapshot') return typeof o.session_id === 'string' && typeof o.connection_id === 'string' ? (o as unknown as LiveEvent) : null;
  const m = o?.kind === 'change' ? (o.message as Record<string, unknown> | null) : null;
  const types: readonly unknown[] = ['file.updated', 'job.progress', 'job.updated'];
  return m && types.includes(m.type) && typeof m.session_id === 'string' && typeof m.status === 'string' ? (o as unknown as LiveEvent) : null;
}

/** How long a snapshot waits for a connection API Gateway has not finished opening (its $connect just returned). */
const OPENING_MS = 5_000;

/** The notifier: a change to its session's connections, or a new connection's snapshot. */
export async function deliverLiveEvent(deps: LiveDeps, event: LiveEvent, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  if (event.kind === 'change') {
    if (deps.webhooks && isWebhookEvent(event.message)) {
      const session = await deps.webhooks.sessions.get(event.message.session_id);
      if (session?.callback_url && !session.deleting_at) await deps.webhooks.queue.schedule(webhookDelivery(event.message, deps.clock.now().toISOString()), 0);
    }
    await fanOut(deps, event.message);
    return;
  }
  // The snapshot may come before the connection is usable (it was asked for inside $connect): a young connection
  // that reads as gone is tried again for a few seconds before it is given up.
  for (let waited = 0; ; waited += 250) {
    const connection = await deps.connections.get(event.connection_id);
    if (!connection || connection.session_id !== event.session_id) return;
    const young = Date.parse(connection.connected_at) + OPENING_MS > deps.clock.now().getTime();
    const first = await snapshotMessages(deps, event.session_id);
    const outcome = await sendAll(deps.push, event.connection_id, first);
    if (outcome === 'sent') return;
    if (!young || waited >= OPENING_MS) {
      await deps.connections.delete(event.connection_id);
      return;
    }
    await sleep(250);
  }
}

async function sendAll(push: PushChannel, connectionId: string, messages: readonly LiveMessage[]): Promise<'sent' | 'gone'> {
  for (const m of messages) if ((await push.send(connectionId, JSON.stringify(m))) === 'gone') return 'gone';
  return 'sent';
}
