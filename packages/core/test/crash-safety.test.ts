import { DspError } from '@david/dsp';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  createSession,
  expireSessions,
  deleteSession,
  expireUploads,
  failureInfo,
  hashToken,
  ingestObject,
  isPermanentFailure,
  LIMITS,
  newFileId,
  newJobId,
  newSessionId,
  NotFoundError,
  requestUpload,
  runJob,
  sweepJobs,
  TransientError,
  uploadKey,
  ValidationError,
  type FileRecord,
  type Job,
} from '../src/index.ts';
import { failFirst, memoryDeps, memoryStore, RecordingQueue, unreachableStore } from './memory-adapters.ts';
import { pcm16Wav } from '../../../test/helpers/audio.ts';

let tempDir: string;
beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'david-crash-'));
});
afterAll(() => rm(tempDir, { recursive: true, force: true }));

/** A 0.1 s 16-bit mono WAV: a 440 Hz tone. */
function wav(): Buffer {
  return pcm16Wav(Int16Array.from({ length: 4410 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 44100))), 1, 44100);
}

async function pendingUpload(bytes: Buffer, store = (o: Map<string, Buffer>) => memoryStore(o)) {
  const objects = new Map<string, Buffer>();
  const deps = memoryDeps(store(objects), () => new Date('2026-01-01T00:00:00Z'));
  const session_id = newSessionId();
  const file_id = newFileId();
  const key = uploadKey(session_id, file_id, 'take.wav');
  objects.set(key, bytes);
  await deps.repos.create({ session_id, name: 's', created_at: '2026-01-01T00:00:00Z', token_hash: 'x' });
  const file: FileRecord = { session_id, file_id, filename: 'take.wav', content_type: 'audio/wav', declared_size: bytes.length, key, status: 'pending', created_at: '2026-01-01T00:00:00Z' };
  await deps.repos.create(file);
  return { deps, file, objects, obj: { bucket: 'uploads', key } };
}

describe('failures are classified by whether a retry can help', () => {
  it('retries the machine’s failures and records the input’s', () => {
    const transient = [
      new DspError('Codec::Timeout', 'ffmpeg took longer than 20000 ms'),
      new DspError('Codec::FfmpegFailed', 'could not run ffmpeg: spawn EAGAIN'),
      new DspError('Codec::FfmpegNotFound', 'no working ffmpeg'),
      new TransientError('Job::QueueUnavailable', 'queue down'),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
    ];
    const permanent = [
      new DspError('Media::UnknownFormat', 'not audio'),
      new DspError('Wav::Truncated', 'truncated'),
      new ValidationError('Job::MissingEffect', 'no effect'),
      new NotFoundError('File::InputMissing', 'gone'),
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    ];
    for (const e of transient) expect(isPermanentFailure(e), e.message).toBe(false);
    for (const e of permanent) expect(isPermanentFailure(e), e.message).toBe(true);
    expect(failureInfo(permanent[4])).toMatchObject({ code: 'Storage::NoSpace' });
    expect(failureInfo(permanent[0])).toEqual({ code: 'Media::UnknownFormat', message: 'not audio' });
  });
});

describe('ingest across crashes and retries', () => {
  it('tells the index again when a crash came between the record and the index (the retry sees a duplicate)', async () => {
    const { deps, file, obj } = await pendingUpload(wav());
    const feed = failFirst(new RecordingQueue(), 'publish', 1);
    const d = { ...deps, index: feed };
    await expect(ingestObject(d, obj, { tempDir })).rejects.toThrow(/ECONNREFUSED/);
    expect((await deps.files.get(file.session_id, file.file_id))?.status).toBe('ready');
    expect(feed.changes).toHaveLength(0);
    // The redelivered event: the record says ready, and the index now hears of it.
    expect((await ingestObject(d, obj, { tempDir })).outcome).toBe('duplicate');
    expect(feed.changes).toEqual([{ op: 'upsert', entry: expect.objectContaining({ file_id: file.file_id, status: 'ready', kind: 'upload', duration_s: 0.1 }) }]);
  });

  it('retries a transient failure and, on the last attempt, rejects the file with the reason instead of leaving it pending', async () => {
    const { deps, file, obj, objects } = await pendingUpload(wav(), (o) => failFirst(memoryStore(o), 'readUploadStart', 99));
    const attempt = (receiveCount: number) => ingestObject(deps, obj, { tempDir, receiveCount, maxReceiveCount: 3 });
    await expect(attempt(1)).rejects.toThrow(/ECONNREFUSED/);
    await expect(attempt(2)).rejects.toThrow(/ECONNREFUSED/);
    expect((await deps.files.get(file.session_id, file.file_id))?.status).toBe('pending');
    const last = await attempt(3);
    expect(last).toMatchObject({ outcome: 'rejected', reason: { code: 'Ingest::RetriesExhausted' } });
    expect(await deps.files.get(file.session_id, file.file_id)).toMatchObject({ status: 'rejected', rejection: { code: 'Ingest::RetriesExhausted' } });
    expect(objects.has(obj.key)).toBe(false);
    expect(deps.queueLog.changes.at(-1)).toMatchObject({ op: 'upsert', entry: { status: 'rejected' } });
  });

  it('records bad media once, without retry', async () => {
    const { deps, file, obj } = await pendingUpload(Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WAVE'), Buffer.alloc(40)]));
    expect((await ingestObject(deps, obj, { tempDir, receiveCount: 1, maxReceiveCount: 3 })).outcome).toBe('rejected');
    expect((await deps.files.get(file.session_id, file.file_id))?.rejection?.code).toMatch(/^Wav::/);
  });
});

describe('a finished job across crashes', () => {
  it('tells the index about a completed job again on redelivery', async () => {
    const deps = memoryDeps(unreachableStore(), () => new Date('2026-01-01T00:00:00Z'));
    const session_id = newSessionId();
    const job: Job = {
      session_id,
      job_id: newJobId(),
      file_id: newFileId(),
      chain: [{ effect: 'gain', parameters: { gainDb: 0 } }],
      output_formats: ['wav', 'mp3'],
      status: 'completed',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:05Z',
      attempts: 1,
      outputs: [
        { key: `processed/${session_id}/x.wav`, format: 'wav', duration_s: 1, size: 100, sample_rate: 44100, channels: 2 },
        { key: `processed/${session_id}/x.mp3`, format: 'mp3', duration_s: 1, size: 20, sample_rate: 44100, channels: 2 },
      ],
    };
    await deps.repos.create(job);
    const out = await runJob(deps, { session_id, job_id: job.job_id }, { tempDir, leaseMs: 1000, receiveCount: 2, maxReceiveCount: 3 });
    expect(out.outcome).toBe('skipped');
    expect(deps.queueLog.changes).toEqual([{ op: 'upsert', entry: expect.objectContaining({ file_id: job.job_id, kind: 'output', size: 120, format: 'wav+mp3' }) }]);
  });
});

describe('deleting a session across a crash', () => {
  it('hides the session at once and lets a retried DELETE finish everything', async () => {
    const { deps, file, objects } = await pendingUpload(wav(), (o) => failFirst(memoryStore(o), 'deleteSessionObjects', 1));
    const token = 'tok';
    await deps.repos.create({ session_id: file.session_id, name: 's', created_at: '2026-01-01T00:00:00Z', token_hash: hashToken(token) });
    const session = await authorize(deps, file.session_id, token);
    await expect(deleteSession(deps, session)).rejects.toThrow(/ECONNREFUSED/);
    // Mid-deletion: invisible to every route, still there for the DELETE that resumes.
    await expect(authorize(deps, file.session_id, token)).rejects.toMatchObject({ status: 404, code: 'Session::NotFound' });
    const resumed = await authorize(deps, file.session_id, token, { resumeDeletion: true });
    expect(resumed.deleting_at).toBeTruthy();
    expect(objects.size).toBe(1);
    await deleteSession(deps, resumed);
    expect(objects.size).toBe(0);
    expect(await deps.sessions.get(file.session_id)).toBeNull();
    expect(await deps.files.list(file.session_id)).toEqual([]);
    expect(deps.queueLog.changes).toContainEqual({ op: 'removeSession', session_id: file.session_id });
    await expect(authorize(deps, file.session_id, token, { resumeDeletion: true })).rejects.toMatchObject({ status: 404 });
  });
});

describe('the heartbeat', () => {
  it('keeps a running job’s lease alive, so no second worker takes it over', async () => {
    const slow = (o: Map<string, Buffer>) => {
      const base = memoryStore(o);
      return { ...base, downloadUpload: async () => new Promise<void>((_, reject) => setTimeout(() => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 600)) };
    };
    const { deps, file } = await pendingUpload(wav(), slow);
    await deps.repos.create({ ...file, status: 'ready', etag: 'e', size: 1 });
    const job: Job = {
      session_id: file.session_id,
      job_id: newJobId(),
      file_id: file.file_id,
      chain: [{ effect: 'gain', parameters: { gainDb: 0 } }],
      output_formats: ['wav'],
      status: 'queued',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      attempts: 0,
    };
    await deps.repos.create(job);
    const realClock = { now: () => new Date() };
    const d = { ...deps, clock: realClock };
    const msg = { session_id: job.session_id, job_id: job.job_id };
    const running = runJob(d, msg, { tempDir, leaseMs: 100, receiveCount: 1, maxReceiveCount: 3, maxAttempts: 3 });
    await new Promise((r) => setTimeout(r, 350)); // three and a half leases
    // Another worker (a duplicate delivery, or a sweep) finds the lease alive.
    expect(await deps.jobs.claim(job.session_id, job.job_id, new Date(), new Date(Date.now() + 100))).toBeNull();
    expect((await deps.jobs.listLeases()).map((l) => l.job_id)).toEqual([job.job_id]);
    await expect(running).rejects.toThrow(/socket hang up/);
    // A transient failure keeps the lease item: the sweeper sends the job again once it runs out.
    await new Promise((r) => setTimeout(r, 150));
    expect(await sweepJobs({ ...d, queue: deps.queueLog }, 100)).toEqual({ resent: 1, dropped: 0, running: 0 });
    expect(deps.queueLog.sent).toEqual([msg]);
    expect(await sweepJobs({ ...d, queue: deps.queueLog }, 100_000)).toEqual({ resent: 0, dropped: 0, running: 0 }); // once per lease
    expect((await deps.jobs.get(job.session_id, job.job_id))?.attempts).toBe(1);
  });
});

describe('analysis at ingest', () => {
  it('is bounded in time and never decides a file’s fate: a timeout is recorded on a ready file', async () => {
    const { deps, file, obj } = await pendingUpload(wav());
    const analyze = async () => {
      throw new DspError('Analysis::TimedOut', 'the analysis did not finish in the time it had');
    };
    expect((await ingestObject(deps, obj, { tempDir, analyze })).outcome).toBe('ready');
    expect(await deps.files.get(file.session_id, file.file_id)).toMatchObject({ status: 'ready', analysis_error: { code: 'Analysis::TimedOut' } });
  });
});

describe('ingest where the store enforces no policy', () => {
  it('rejects an upload whose size is not the declared one', async () => {
    const { deps, file, obj, objects } = await pendingUpload(wav());
    await deps.repos.create({ ...file, declared_size: 100 });
    expect(await ingestObject(deps, obj, { tempDir })).toMatchObject({ outcome: 'rejected', reason: { code: 'Upload::SizeMismatch' } });
    expect(objects.has(obj.key)).toBe(false);
  });
});

describe('uploads that never arrive', () => {
  it('expire after the link ran out (plus a grace), unless bytes arrived; ingest ends the watch', async () => {
    let clock = new Date('2026-01-01T00:00:00Z');
    const objects = new Map<string, Buffer>();
    const deps = memoryDeps(memoryStore(objects), () => clock);
    const session = { session_id: newSessionId(), name: 's', created_at: clock.toISOString(), token_hash: 'x' };
    await deps.repos.create(session);
    const ask = () => requestUpload(deps, session, { session_id: session.session_id, filename: 'a.wav', content_type: 'audio/wav', size: wav().length });
    const never = await ask();
    const arrivedLate = await ask();
    const ingested = await ask();
    const keyOf = async (id: string) => (await deps.files.get(session.session_id, id))!.key;
    objects.set(await keyOf(arrivedLate.file_id), wav());
    objects.set(await keyOf(ingested.file_id), wav());
    expect((await ingestObject(deps, { bucket: 'u', key: await keyOf(ingested.file_id) }, { tempDir })).outcome).toBe('ready');

    // Before the link and its grace ran out, nothing changes.
    clock = new Date(clock.getTime() + LIMITS.uploadExpirySeconds * 1000);
    expect(await expireUploads(deps)).toEqual({ expired: 0, dropped: 0, waiting: 0 });
    clock = new Date(clock.getTime() + (LIMITS.uploadGraceSeconds + 1) * 1000);
    expect(await expireUploads(deps)).toEqual({ expired: 1, dropped: 0, waiting: 1 });
    expect(await deps.files.get(session.session_id, never.file_id)).toMatchObject({ status: 'expired', rejection: { code: 'Upload::Expired' } });
    expect((await deps.files.get(session.session_id, arrivedLate.file_id))?.status).toBe('pending');
    expect(deps.queueLog.changes.at(-1)).toMatchObject({ op: 'upsert', entry: { file_id: never.file_id, status: 'expired' } });
    // The late one is ingested when its event comes; the sweep after that has nothing left to watch.
    await ingestObject(deps, { bucket: 'u', key: await keyOf(arrivedLate.file_id) }, { tempDir });
    expect(await expireUploads(deps)).toEqual({ expired: 0, dropped: 0, waiting: 0 });
    expect(deps.repos.pendingDue.size).toBe(0);
  });
});

describe('idle sessions', () => {
  it('expire with everything they hold; using a session pushes its expiry back', async () => {
    let clock = new Date('2026-01-01T00:00:00Z');
    const objects = new Map<string, Buffer>();
    const deps = { ...memoryDeps(memoryStore(objects), () => clock), sessionIdleSeconds: 10 * 86_400 };
    const used = await createSession(deps, { name: 'used' });
    const idle = await createSession(deps, { name: 'idle' });
    for (const s of [used, idle]) objects.set(`uploads/${s.session_id}/fil_x/a.wav`, wav());
    const day = 86_400_000;

    clock = new Date(clock.getTime() + 6 * day);
    await authorize(deps, used.session_id, used.access_token); // in use on day 6: now expires on day 16
    clock = new Date(clock.getTime() + 5 * day); // day 11
    // The idle one goes; the used one's watch (day 10) finds it alive: renewed, watched again at day 16, items along.
    expect(await expireSessions(deps)).toEqual({ expired: 1, renewed: 1, dropped: 0 });
    expect(deps.repos.itemsExpireAt.get(used.session_id)).toBe(Date.parse('2026-01-17T00:00:00Z') / 1000);
    await expect(authorize(deps, idle.session_id, idle.access_token)).rejects.toMatchObject({ status: 404 });
    expect(await deps.sessions.get(idle.session_id)).toBeNull();
    expect([...objects.keys()]).toEqual([`uploads/${used.session_id}/fil_x/a.wav`]);
    expect(deps.queueLog.changes).toContainEqual({ op: 'removeSession', session_id: idle.session_id });
    expect((await authorize(deps, used.session_id, used.access_token)).expires_at).toBe(Date.parse('2026-01-22T00:00:00Z') / 1000); // used again on day 11

    // Past its pushed-back expiry (day 21) the used one is gone too — at once for every route, and then for good.
    clock = new Date(clock.getTime() + 9 * day); // day 20: still there (its day-16 watch renews it to day 21)
    expect(await expireSessions(deps)).toEqual({ expired: 0, renewed: 1, dropped: 0 });
    clock = new Date(clock.getTime() + 2 * day); // day 22
    await expect(authorize(deps, used.session_id, used.access_token)).rejects.toMatchObject({ status: 404 });
    expect(await expireSessions(deps)).toEqual({ expired: 1, renewed: 0, dropped: 0 });
    expect(objects.size).toBe(0);
    expect(deps.repos.expiryDue.size).toBe(0);
  });
});

describe('pictures drawn at ingest', () => {
  const visuals = { waveform: { version: 2 as const, channels: 1, sample_rate: 8000, samples_per_pixel: 256, bits: 8 as const, length: 1, data: [0, 0] }, spectrogram: new Uint8Array([1, 2, 3]) };
  const pictures = (objects: Map<string, Buffer>) => [...objects.keys()].filter((k) => k.startsWith('visuals/'));

  it('are stored with a ready file, and removed again when the session’s deletion began or the file went meanwhile', async () => {
    const kept = await pendingUpload(wav());
    expect((await ingestObject(kept.deps, kept.obj, { tempDir, analyze: async () => ({ analysis: {}, visuals }) })).outcome).toBe('ready');
    expect(pictures(kept.objects)).toHaveLength(3);
    expect((await kept.deps.files.get(kept.file.session_id, kept.file.file_id))?.visuals_at).toBeDefined();

    // A DELETE of the session begins while the file is analysed.
    const deleting = await pendingUpload(wav());
    const sid = deleting.file.session_id;
    await ingestObject(deleting.deps, deleting.obj, { tempDir, analyze: async () => (await deleting.deps.sessions.markDeleting(sid, '2026-01-01T00:00:01Z'), { analysis: {}, visuals }) });
    expect(pictures(deleting.objects)).toEqual([]);

    // The file is deleted while it is analysed.
    const deleted = await pendingUpload(wav());
    const { session_id, file_id } = deleted.file;
    await ingestObject(deleted.deps, deleted.obj, { tempDir, analyze: async () => (await deleted.deps.files.delete(session_id, file_id), { analysis: {}, visuals }) });
    expect(pictures(deleted.objects)).toEqual([]);
  });
});
