import { createHash } from 'node:crypto';
import type { FileRecord, Job, Progress, Session } from '../src/domain/types.ts';
import type { AudioStore, FileRepository, IndexChange, IndexFeed, JobLease, JobQueue, JobRepository, SessionRepository } from '../src/ports.ts';
import type { Deps } from '../src/use-cases/deps.ts';

/**
 * In-memory adapters with the same conditional semantics as the DynamoDB ones, for unit tests whose point is
 * domain logic (claims, leases, retries). Integration tests use the real adapters against the emulators.
 */
export class MemoryRepos implements SessionRepository, FileRepository, JobRepository {
  sessionsById = new Map<string, Session>();
  filesByKey = new Map<string, FileRecord>();
  jobsByKey = new Map<string, Job>();

  // SessionRepository
  async create(item: Session | FileRecord | Job): Promise<void> {
    if ('job_id' in item) this.jobsByKey.set(`${item.session_id}/${item.job_id}`, item);
    else if ('file_id' in item) this.filesByKey.set(`${item.session_id}/${item.file_id}`, item);
    else this.sessionsById.set(item.session_id, item);
  }
  async get(sessionId: string, id?: string): Promise<never> {
    if (id === undefined) return (this.sessionsById.get(sessionId) ?? null) as never;
    return (this.jobsByKey.get(`${sessionId}/${id}`) ?? this.filesByKey.get(`${sessionId}/${id}`) ?? null) as never;
  }
  expiryDue = new Map<string, { session_id: string; expires_at: number }>();
  async touch(sessionId: string, activeAt: string, expiresAt: number): Promise<void> {
    const s = this.sessionsById.get(sessionId);
    if (s) this.sessionsById.set(sessionId, { ...s, active_at: activeAt, expires_at: expiresAt });
  }
  async watchExpiry(sessionId: string, expiresAt: number): Promise<void> {
    this.expiryDue.set(`${String(expiresAt).padStart(12, '0')}#${sessionId}`, { session_id: sessionId, expires_at: expiresAt });
  }
  async unwatchExpiry(sessionId: string, expiresAt: number): Promise<void> {
    this.expiryDue.delete(`${String(expiresAt).padStart(12, '0')}#${sessionId}`);
  }
  async listExpiryDue(nowSeconds: number) {
    return [...this.expiryDue.entries()].filter(([k]) => k < String(nowSeconds).padStart(12, '0')).map(([, v]) => v);
  }
  /** Memory has no TTL; the items' expiry it would carry is noted per session. */
  itemsExpireAt = new Map<string, number>();
  async restampItems(sessionId: string, expiresAt: number): Promise<number> {
    this.itemsExpireAt.set(sessionId, expiresAt);
    return 0;
  }
  async markWatched(sessionId: string, at: string): Promise<void> {
    const s = this.sessionsById.get(sessionId);
    if (s) this.sessionsById.set(sessionId, { ...s, watched_at: s.watched_at ?? at });
  }
  async markDeleting(sessionId: string, at: string): Promise<void> {
    const s = this.sessionsById.get(sessionId);
    if (s) this.sessionsById.set(sessionId, { ...s, deleting_at: s.deleting_at ?? at });
  }
  async delete(sessionId: string, id?: string): Promise<void> {
    if (id !== undefined) {
      this.filesByKey.delete(`${sessionId}/${id}`);
      this.jobsByKey.delete(`${sessionId}/${id}`);
      return;
    }
    this.sessionsById.delete(sessionId);
    for (const m of [this.filesByKey, this.jobsByKey]) for (const k of [...m.keys()]) if (k.startsWith(`${sessionId}/`)) m.delete(k);
  }
  async list(sessionId: string): Promise<never[]> {
    return [...this.filesByKey.values(), ...this.jobsByKey.values()].filter((x) => x.session_id === sessionId) as never[];
  }
  async addVersion(sessionId: string, fileId: string, jobId: string): Promise<number> {
    const f = this.filesByKey.get(`${sessionId}/${fileId}`);
    if (!f) return 0;
    const ids = [...new Set([...(f.version_ids ?? []), jobId])].sort();
    this.filesByKey.set(`${sessionId}/${fileId}`, { ...f, version_ids: ids });
    return ids.length;
  }
  async removeVersions(sessionId: string, fileId: string, jobIds: readonly string[]): Promise<void> {
    const f = this.filesByKey.get(`${sessionId}/${fileId}`);
    if (f) this.filesByKey.set(`${sessionId}/${fileId}`, { ...f, version_ids: (f.version_ids ?? []).filter((id) => !jobIds.includes(id)) });
  }
  async recordOverwrite(sessionId: string, fileId: string, overwritten: NonNullable<FileRecord['overwritten']>): Promise<void> {
    const f = this.filesByKey.get(`${sessionId}/${fileId}`);
    if (f) this.filesByKey.set(`${sessionId}/${fileId}`, { ...f, overwritten });
  }
  pendingDue = new Map<string, { session_id: string; file_id: string; due_at: string }>();
  async watchPending(sessionId: string, fileId: string, dueAt: string): Promise<void> {
    this.pendingDue.set(`${dueAt}#${sessionId}#${fileId}`, { session_id: sessionId, file_id: fileId, due_at: dueAt });
  }
  async unwatchPending(sessionId: string, fileId: string, dueAt: string): Promise<void> {
    this.pendingDue.delete(`${dueAt}#${sessionId}#${fileId}`);
  }
  async listPendingDue(now: string) {
    return [...this.pendingDue.entries()].filter(([k]) => k < now).map(([, v]) => v);
  }
  async completeIngest(sessionId: string, fileId: string, outcome: Partial<FileRecord>): Promise<boolean> {
    const f = this.filesByKey.get(`${sessionId}/${fileId}`);
    if (!f || f.status !== 'pending') return false;
    const { progress: _p, ...rest } = f;
    this.filesByKey.set(`${sessionId}/${fileId}`, { ...rest, ...outcome });
    return true;
  }
  async reportProgress(sessionId: string, id: string, a: unknown, b?: unknown): Promise<boolean> {
    // Files: (session, file, progress); jobs: (session, job, attempt, progress).
    if (b === undefined) {
      const f = this.filesByKey.get(`${sessionId}/${id}`);
      if (f?.status !== 'pending') return false;
      this.filesByKey.set(`${sessionId}/${id}`, { ...f, progress: a as Progress });
      return true;
    }
    const j = this.jobsByKey.get(`${sessionId}/${id}`);
    if (!j || j.attempts !== a || j.status !== 'processing') return false;
    this.jobsByKey.set(`${sessionId}/${id}`, { ...j, progress: b as Progress });
    return true;
  }
  async claim(sessionId: string, jobId: string, now: Date, leaseUntil: Date): Promise<Job | null> {
    const key = `${sessionId}/${jobId}`;
    const j = this.jobsByKey.get(key);
    if (!j) return null;
    const expired = j.status === 'processing' && (j.lease_until ?? '') < now.toISOString();
    if (j.status !== 'queued' && !expired) return null;
    const { progress: _p, ...rest } = j;
    const next: Job = { ...rest, status: 'processing', attempts: j.attempts + 1, lease_until: leaseUntil.toISOString(), updated_at: now.toISOString() };
    this.jobsByKey.set(key, next);
    return next;
  }
  leases = new Map<string, JobLease>();
  async renewLease(sessionId: string, jobId: string, attempt: number, leaseUntil: Date): Promise<boolean> {
    const j = this.jobsByKey.get(`${sessionId}/${jobId}`);
    if (!j || j.attempts !== attempt || j.status !== 'processing') return false;
    this.jobsByKey.set(`${sessionId}/${jobId}`, { ...j, lease_until: leaseUntil.toISOString() });
    await this.trackLease({ session_id: sessionId, job_id: jobId, lease_until: leaseUntil.toISOString() });
    return true;
  }
  async trackLease(lease: JobLease): Promise<void> {
    this.leases.set(`${lease.session_id}/${lease.job_id}`, lease);
  }
  async dropLease(sessionId: string, jobId: string): Promise<void> {
    this.leases.delete(`${sessionId}/${jobId}`);
  }
  async listLeases(): Promise<JobLease[]> {
    return [...this.leases.values()];
  }
  async expire(sessionId: string, jobId: string, at: string): Promise<boolean> {
    const j = this.jobsByKey.get(`${sessionId}/${jobId}`);
    if (!j || j.status !== 'completed') return false;
    this.jobsByKey.set(`${sessionId}/${jobId}`, { ...j, status: 'expired', expired_at: at, updated_at: at });
    return true;
  }
  async dropOutputs(sessionId: string, jobId: string): Promise<void> {
    const j = this.jobsByKey.get(`${sessionId}/${jobId}`);
    if (j?.status !== 'expired') return;
    const { outputs: _o, ...rest } = j;
    this.jobsByKey.set(`${sessionId}/${jobId}`, rest);
  }
  async finish(sessionId: string, jobId: string, attempt: number, result: Pick<Job, 'status' | 'outputs' | 'error' | 'timings_ms' | 'progress'>): Promise<boolean> {
    const key = `${sessionId}/${jobId}`;
    const j = this.jobsByKey.get(key);
    if (!j || j.attempts !== attempt || (j.status !== 'queued' && j.status !== 'processing')) return false;
    const { lease_until: _lease, ...rest } = j;
    this.jobsByKey.set(key, { ...rest, ...result });
    return true;
  }
}

export class RecordingQueue implements JobQueue, IndexFeed {
  sent: { session_id: string; job_id: string }[] = [];
  changes: IndexChange[] = [];
  async sendJob(m: { session_id: string; job_id: string }) {
    this.sent.push(m);
  }
  async publish(change: IndexChange) {
    this.changes.push(change);
  }
}

/** A store whose every call fails as a network fault would (not an S3 "not found"). */
export function unreachableStore(): AudioStore {
  const fail = async (): Promise<never> => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  };
  return {
    presignUpload: fail,
    statUpload: fail,
    readUploadStart: fail,
    downloadUpload: fail,
    deleteUpload: fail,
    presignDownload: fail,
    putOutput: fail,
    putVisuals: fail,
    deleteOutput: fail,
    downloadOutput: fail,
    deleteSessionObjects: fail,
  };
}

export function memoryDeps(store: AudioStore, now: () => Date): Deps & { repos: MemoryRepos; queueLog: RecordingQueue } {
  const repos = new MemoryRepos();
  const queueLog = new RecordingQueue();
  return {
    repos,
    queueLog,
    sessions: repos,
    files: repos,
    jobs: repos,
    store,
    queue: queueLog,
    index: queueLog,
    clock: { now },
    deliveryBaseUrl: 'https://cdn.example',
  };
}

/** The buckets in memory: enough of the store for ingest (stat, head, download, delete) and a job (outputs). */
export function memoryStore(objects: Map<string, Buffer>): AudioStore {
  const none = async (): Promise<never> => {
    throw new Error('not used by these tests');
  };
  return {
    async presignUpload(input) {
      return { url: 'http://uploads.invalid/', fields: { key: input.key } };
    },
    presignDownload: none,
    async statUpload(key) {
      const b = objects.get(key);
      return b ? { size: b.length, etag: createHash('md5').update(b).digest('hex') } : null;
    },
    async readUploadStart(key, bytes) {
      const b = objects.get(key);
      return b ? { size: b.length, etag: createHash('md5').update(b).digest('hex'), bytes: new Uint8Array(b.subarray(0, bytes)) } : null;
    },
    async downloadUpload(key, path) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path, objects.get(key)!);
    },
    async putVisuals(list) {
      for (const o of list) objects.set(o.key, Buffer.from(o.bytes));
    },
    async deleteUpload(key) {
      objects.delete(key);
    },
    async putOutput(key, path) {
      const { readFile } = await import('node:fs/promises');
      objects.set(key, await readFile(path));
      return { size: objects.get(key)!.length };
    },
    async deleteOutput(key) {
      objects.delete(key);
    },
    downloadOutput: none,
    async deleteSessionObjects(sessionId) {
      const keys = [...objects.keys()].filter((k) => k.includes(`/${sessionId}/`));
      for (const k of keys) objects.delete(k);
      return keys.length;
    },
  };
}

/** A store or feed whose calls fail like a network fault for the first `n` calls of one method. */
export function failFirst<T extends object>(target: T, method: keyof T, n: number): T & { calls: number } {
  let calls = 0;
  const wrapped = Object.create(target) as T & { calls: number };
  Object.defineProperty(wrapped, 'calls', { get: () => calls });
  (wrapped as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
    calls++;
    if (calls <= n) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    return (target[method] as (...a: unknown[]) => unknown).apply(target, args);
  };
  return wrapped;
}
