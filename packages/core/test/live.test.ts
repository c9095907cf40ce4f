import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, FileRecord, LiveEvent, LiveMessage, Session } from '../src/domain/types.ts';
import type { ConnectionRepository, EventFeed, PushChannel } from '../src/ports.ts';
import { deliverLiveEvent, fanOut, openConnection, parseLiveEvent, percentOf, PROGRESS_TRUSTS_UNWATCHED_MS, ProgressReporter, publishFile, type LiveDeps } from '../src/use-cases/live.ts';
import { MemoryRepos } from './memory-adapters.ts';

describe('progress reports', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the latest state at most every 250 ms, the first 250 ms in, never falling, nothing after close', async () => {
    const writes: { percent: number; phase: string; t: number }[] = [];
    const reporter = new ProgressReporter(async (p) => {
      writes.push({ ...p, t: Date.now() });
    }, 250, () => Date.now());
    const t0 = Date.now();
    reporter.report('downloading');
    reporter.report('decoding');
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(50);
      reporter.report('processing', i / 10);
    }
    // 500 ms of reports every 50 ms: two writes (at 250 and 500), each the latest state at its time.
    expect(writes.map((w) => w.t - t0)).toEqual([250, 500]);
    // At 250 ms the timer fires before that step's report: the state then was 4/10.
    expect(writes[0]).toMatchObject({ phase: 'processing', percent: percentOf('processing', 0.4) });
    expect(writes[1]).toMatchObject({ phase: 'processing', percent: percentOf('processing', 0.9) });
    // The last report (10/10) goes out a period later, and a smaller fraction reported since does not move it back.
    reporter.report('processing', 0.2);
    await vi.advanceTimersByTimeAsync(300);
    expect(writes).toHaveLength(3);
    expect(writes[2]).toMatchObject({ phase: 'processing', percent: 90, t: t0 + 750 });
    // Nothing new: nothing written.
    await vi.advanceTimersByTimeAsync(600);
    expect(writes).toHaveLength(3);
    reporter.report('uploading', 0.5);
    await vi.advanceTimersByTimeAsync(10);
    expect(writes.at(-1)).toMatchObject({ phase: 'uploading', percent: 97.5 });
    await reporter.close();
    reporter.report('uploading', 1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toHaveLength(4);
  });

  it('lets a run shorter than one period write nothing, and waits for a write in flight on close', async () => {
    let release!: () => void;
    const writes: number[] = [];
    const slow = new ProgressReporter(
      () =>
        new Promise<void>((r) => {
          writes.push(Date.now());
          release = r;
        }),
      250,
      () => Date.now(),
    );
    const quick = new ProgressReporter(async () => {
      throw new Error('must not be called');
    }, 250, () => Date.now());
    quick.report('processing', 0.5);
    await quick.close();
    slow.report('processing', 0.3);
    await vi.advanceTimersByTimeAsync(260);
    expect(writes).toHaveLength(1);
    let closed = false;
    const closing = slow.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(closed).toBe(false);
    release();
    await closing;
    expect(closed).toBe(true);
  });

  it('maps phases onto one rising percent', () => {
    expect(percentOf('downloading', 0)).toBe(0);
    expect(percentOf('processing', 0)).toBe(10);
    expect(percentOf('processing', 1)).toBe(90);
    expect(percentOf('processing', 7)).toBe(90);
    expect(percentOf('uploading', 1)).toBe(100);
    expect(percentOf('processing', Number.NaN)).toBe(10);
  });
});

/** In-memory connections and a push channel where some connections are gone. */
function liveDeps(connections: Connection[], gone: Set<string>, pending: FileRecord[] = []) {
  const sent: { id: string; m: LiveMessage }[] = [];
  const repo: ConnectionRepository = {
    put: async (c) => void connections.push(c),
    get: async (id) => connections.find((c) => c.connection_id === id) ?? null,
    delete: async (id) => void connections.splice(0, connections.length, ...connections.filter((c) => c.connection_id !== id)),
    listBySession: async (s) => connections.filter((c) => c.session_id === s),
  };
  const push: PushChannel = {
    send: async (id, data) => {
      if (gone.has(id)) return 'gone';
      sent.push({ id, m: JSON.parse(data) });
      return 'sent';
    },
  };
  const deps: LiveDeps = {
    connections: repo,
    push,
    files: { list: async (s) => pending.filter((f) => f.session_id === s) },
    jobs: { list: async () => [] },
    deliveryBaseUrl: 'https://cdn.example',
    clock: { now: () => new Date() },
  };
  return { deps, sent, connections };
}

const message = (session: string): LiveMessage => ({ type: 'job.updated', session_id: session, job_id: 'job_x', status: 'completed', at: new Date().toISOString() });
const conn = (id: string, session: string, ageMs = 60_000): Connection => ({ connection_id: id, session_id: session, connected_at: new Date(Date.now() - ageMs).toISOString() });

describe('the notifier', () => {
  it('sends a change to its session’s connections only, and forgets those that are gone', async () => {
    const { deps, sent, connections } = liveDeps([conn('a1', 'A'), conn('a2', 'A'), conn('b1', 'B')], new Set(['a2']));
    expect(await fanOut(deps, message('A'))).toEqual({ sent: 1, gone: 1 });
    expect(sent.map((s) => s.id)).toEqual(['a1']);
    expect(connections.map((c) => c.connection_id)).toEqual(['a1', 'b1']);
  });

  it('retries a snapshot for a connection still opening, and gives up an old one that is gone', async () => {
    const file: FileRecord = { session_id: 'A', file_id: 'fil_1', filename: 'a.wav', content_type: 'audio/wav', declared_size: 1, key: 'k', status: 'pending', created_at: new Date().toISOString() };
    const opensLater = new Set(['y']);
    const young = liveDeps([conn('y', 'A', 0)], opensLater, [file]);
    const sleeps: number[] = [];
    const opening = deliverLiveEvent(young.deps, { kind: 'snapshot', session_id: 'A', connection_id: 'y' }, async (ms) => {
      sleeps.push(ms);
      if (sleeps.length === 3) opensLater.delete('y');
    });
    await opening;
    expect(sleeps).toEqual([250, 250, 250]);
    expect(young.connections).toHaveLength(1);
    expect(young.sent.map((s) => s.m)).toEqual([expect.objectContaining({ type: 'file.updated', file_id: 'fil_1', snapshot: true })]);

    const old = liveDeps([conn('o', 'A')], new Set(['o']), [file]);
    await deliverLiveEvent(old.deps, { kind: 'snapshot', session_id: 'A', connection_id: 'o' }, async () => {
      throw new Error('an old connection is not waited for');
    });
    expect(old.connections).toHaveLength(0);
  });

  it('never sends one session’s snapshot down another session’s connection', async () => {
    const { deps, sent } = liveDeps([conn('b1', 'B')], new Set());
    await deliverLiveEvent(deps, { kind: 'snapshot', session_id: 'A', connection_id: 'b1' });
    expect(sent).toHaveLength(0);
  });

  it('sets aside what is not an event', () => {
    expect(parseLiveEvent('nope')).toBeNull();
    expect(parseLiveEvent(JSON.stringify({ kind: 'change', message: { type: 'job.deleted', session_id: 'A', status: 'x' } }))).toBeNull();
    expect(parseLiveEvent(JSON.stringify({ kind: 'snapshot', session_id: 'A' }))).toBeNull();
    expect(parseLiveEvent(JSON.stringify({ kind: 'change', message: message('A') }))).not.toBeNull();
  });
});

describe('publishing', () => {
  const file = (session: string): FileRecord => ({
    session_id: session,
    file_id: 'fil_1',
    filename: 'a.wav',
    key: `uploads/${session}/fil_1/a.wav`,
    status: 'ready',
    content_type: 'audio/wav',
    declared_size: 10,
    created_at: '2026-01-01T00:00:00Z',
  });

  it('puts a change on the feed only for a session that was connected to or has a callback, from its connect on', async () => {
    const repos = new MemoryRepos();
    const published: LiveEvent[] = [];
    const events: EventFeed = { publish: async (e) => void published.push(e) };
    const deps = { sessions: repos, events, clock: { now: () => new Date() } };
    for (const [id, extra] of [['ses_quiet', {}], ['ses_hook', { callback_url: 'https://hooks.example/x' }], ['ses_live', {}]] as const) {
      await repos.create({ session_id: id, name: id, created_at: '2026-01-01T00:00:00Z', token_hash: 'h', ...extra });
    }
    await publishFile(deps, file('ses_live'));
    expect(published).toEqual([]);
    // Connecting marks the session before anything else, so the next change is on the feed.
    await openConnection({ sessions: repos, connections: liveDeps([], new Set()).deps.connections, events, clock: deps.clock }, { connection_id: 'c1', session_id: 'ses_live' });
    expect(published.map((e) => e.kind)).toEqual(['snapshot']);
    for (const s of ['ses_quiet', 'ses_hook', 'ses_live']) await publishFile(deps, file(s));
    expect(published.filter((e) => e.kind === 'change').map((e) => (e.kind === 'change' ? e.message.session_id : ''))).toEqual(['ses_hook', 'ses_live']);
  });

  it('reads the session once per change, or not at all when the caller read it after the change; progress trusts a recent "no"', async () => {
    const repos = new MemoryRepos();
    let reads = 0;
    const sessions = Object.assign(Object.create(repos) as MemoryRepos, { get: (...a: Parameters<MemoryRepos['get']>) => (reads++, repos.get(...a)) });
    const published: LiveEvent[] = [];
    let now = Date.parse('2026-01-01T00:00:00Z');
    const deps = { sessions, events: { publish: async (e: LiveEvent) => void published.push(e) }, clock: { now: () => new Date(now) } };
    await repos.create({ session_id: 'ses_a', name: 'a', created_at: '2026-01-01T00:00:00Z', token_hash: 'h' });
    const changes = () => published.filter((e) => e.kind === 'change').length;

    // A state change reads the session (after the change), every time while it is unwatched.
    await publishFile(deps, file('ses_a'));
    await publishFile(deps, file('ses_a'));
    expect([reads, changes()]).toEqual([2, 0]);
    // Progress within the trust period takes the last "no" without a read...
    now += PROGRESS_TRUSTS_UNWATCHED_MS - 1;
    await publishFile(deps, file('ses_a'), undefined, { advisory: true });
    expect([reads, changes()]).toEqual([2, 0]);
    // ...and reads again once it has passed.
    now += 1;
    await publishFile(deps, file('ses_a'), undefined, { advisory: true });
    expect(reads).toBe(3);
    // A client connects: progress may miss it for at most the trust period, a state change never does.
    await repos.markWatched('ses_a', new Date(now).toISOString());
    await publishFile(deps, file('ses_a'), undefined, { advisory: true });
    expect([reads, changes()]).toEqual([3, 0]);
    await publishFile(deps, file('ses_a'));
    expect([reads, changes()]).toEqual([4, 1]);
    // Watched is remembered: no more reads, progress included.
    await publishFile(deps, file('ses_a'), undefined, { advisory: true });
    expect([reads, changes()]).toEqual([4, 2]);

    // A session the caller read after its change answers without a read: watched, unwatched or gone.
    await repos.create({ session_id: 'ses_b', name: 'b', created_at: '2026-01-01T00:00:00Z', token_hash: 'h' });
    const b: Session = await repos.get('ses_b');
    await publishFile(deps, file('ses_b'), undefined, { after: b });
    await publishFile(deps, file('ses_b'), undefined, { after: null });
    expect([reads, changes()]).toEqual([4, 2]);
    await publishFile(deps, file('ses_b'), undefined, { after: { ...b, watched_at: new Date(now).toISOString() } });
    expect([reads, changes()]).toEqual([4, 3]);
  });
});
