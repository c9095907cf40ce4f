import type { Connection, FileRecord, Job, LiveEvent, Progress, Session } from './domain/types.ts';

/** Where audio bytes live (S3 in the cloud and locally on the S3 emulator). Methods are named by purpose. */
export interface AudioStore {
  /** A presigned POST that fixes the key, pins the content type and the exact size. */
  presignUpload(input: {
    key: string;
    contentType: string;
    bytes: number;
    expiresSeconds: number;
  }): Promise<{ url: string; fields: Record<string, string> }>;
  statUpload(key: string): Promise<{ size: number; etag: string; contentType?: string } | null>;
  /**
   * The upload's size and ETag with its first `bytes` bytes, in one read (the whole object when it is no longer):
   * null when it is gone.
   */
  readUploadStart(key: string, bytes: number): Promise<{ size: number; etag: string; bytes: Uint8Array } | null>;
  /**
   * Download an upload; with `expect`, only the very bytes ingest checked (an ETag condition, and size and MD5
   * verified after the download): anything else is a permanent `File::Changed`.
   */
  downloadUpload(key: string, path: string, expect?: { etag: string; size: number }): Promise<void>;
  deleteUpload(key: string): Promise<void>;
  /** A short-lived GET URL of an upload, served as an attachment under the given name. */
  presignDownload(key: string, filename: string, expiresSeconds: number): Promise<string>;
  /** An output file (written in full on local disk) into the processed bucket; resolves to its size. */
  putOutput(key: string, path: string, contentType: string): Promise<{ size: number }>;
  deleteOutput(key: string): Promise<void>;
  /** Small objects (waveforms, spectrograms) into the processed bucket, all of them or a rejection. */
  putVisuals(objects: readonly { key: string; bytes: Uint8Array; contentType: string }[]): Promise<void>;
  /** Download an output (the input of a job on a job); a missing one is a permanent `Job::InputGone`. */
  downloadOutput(key: string, path: string): Promise<void>;
  deleteSessionObjects(sessionId: string): Promise<number>;
}

export interface SessionRepository {
  create(session: Session): Promise<void>;
  get(sessionId: string): Promise<Session | null>;
  /** The tombstone: mark the session as being deleted (no-op when it is gone). */
  markDeleting(sessionId: string, at: string): Promise<void>;
  /** Removes every item under the session (files, jobs) and the session item last, so a retry can resume. */
  delete(sessionId: string): Promise<void>;
  /** Note that the session has a listener (sets `watched_at` once; no-op when the session is gone). */
  markWatched(sessionId: string, at: string): Promise<void>;
  /** Push the idle expiry back (only while the session exists). */
  touch(sessionId: string, activeAt: string, expiresAt: number): Promise<void>;
  /** Sessions by the time they expire (small items in one partition, for the sweeper). */
  watchExpiry(sessionId: string, expiresAt: number): Promise<void>;
  unwatchExpiry(sessionId: string, expiresAt: number): Promise<void>;
  listExpiryDue(nowSeconds: number): Promise<{ session_id: string; expires_at: number }[]>;
  /** Carry the session's (later) expiry onto every item under it, so none outlives or predeceases it. */
  restampItems(sessionId: string, expiresAt: number): Promise<number>;
}

export interface FileRepository {
  /** A new record; it expires with its session (`sessionExpiresAt`, epoch seconds). */
  create(file: FileRecord, sessionExpiresAt?: number): Promise<void>;
  get(sessionId: string, fileId: string): Promise<FileRecord | null>;
  list(sessionId: string): Promise<FileRecord[]>;
  /** Remove one file record (no-op when it is gone). */
  delete(sessionId: string, fileId: string): Promise<void>;
  /**
   * Record the outcome of ingest exactly once: succeeds only while the file is still `pending`
   * (and its session exists). Returns false when another delivery got there first.
   */
  completeIngest(sessionId: string, fileId: string, outcome: Partial<FileRecord> & { status: 'ready' | 'rejected' | 'expired' }): Promise<boolean>;
  /** Pending uploads by the time they are due (small items in one partition, for the sweeper). */
  watchPending(sessionId: string, fileId: string, dueAt: string): Promise<void>;
  unwatchPending(sessionId: string, fileId: string, dueAt: string): Promise<void>;
  listPendingDue(now: string): Promise<{ session_id: string; file_id: string; due_at: string }[]>;
  /** Ingest's progress on a pending file (false, and nothing written, once it is decided or gone). */
  reportProgress(sessionId: string, fileId: string, progress: Progress): Promise<boolean>;
  /**
   * Count a completed version on its file (idempotent per job: a set of job ids): how many the file now counts
   * (0 when the file is gone). Lets a completion skip listing the session's jobs while the file is under its limit.
   */
  addVersion(sessionId: string, fileId: string, jobId: string): Promise<number>;
  /** Take jobs off the file's count (expired, failed or gone). */
  removeVersions(sessionId: string, fileId: string, jobIds: readonly string[]): Promise<void>;
  /** Note a later write to a ready file's key (only while the file exists). */
  recordOverwrite(sessionId: string, fileId: string, overwritten: NonNullable<FileRecord['overwritten']>): Promise<void>;
}

/** A running job as the sweeper sees it. */
export interface JobLease {
  readonly session_id: string;
  readonly job_id: string;
  readonly lease_until: string;
  /** When the sweeper last sent the job again (so it is sent once per lease, not on every sweep). */
  readonly resent_at?: string;
}

export interface JobRepository {
  /** A new record; it expires with its session (`sessionExpiresAt`, epoch seconds). */
  create(job: Job, sessionExpiresAt?: number): Promise<void>;
  get(sessionId: string, jobId: string): Promise<Job | null>;
  list(sessionId: string): Promise<Job[]>;
  /** Remove one job record (no-op when it is gone); a worker still running it then finds it gone and drops its output. */
  delete(sessionId: string, jobId: string): Promise<void>;
  /** The heartbeat: extend the lease of the attempt that holds it (false when the job is finished or taken over). */
  renewLease(sessionId: string, jobId: string, attempt: number, leaseUntil: Date): Promise<boolean>;
  /** Progress of the attempt that holds the job (false when it is finished or taken over). */
  reportProgress(sessionId: string, jobId: string, attempt: number, progress: Progress): Promise<boolean>;
  /** The leases of running jobs, for the sweeper (one small item per running job). */
  trackLease(lease: JobLease): Promise<void>;
  dropLease(sessionId: string, jobId: string): Promise<void>;
  listLeases(): Promise<JobLease[]>;
  /**
   * Take the job for processing: succeeds when it is queued, or processing under an expired lease.
   * Returns the claimed job, or null when it is finished or another worker holds a live lease.
   */
  claim(sessionId: string, jobId: string, now: Date, leaseUntil: Date): Promise<Job | null>;
  /** A completed job whose output goes (the version limit): false when it is not completed (any more). */
  expire(sessionId: string, jobId: string, at: string): Promise<boolean>;
  /** Forget an expired job's outputs once their objects are deleted. */
  dropOutputs(sessionId: string, jobId: string): Promise<void>;
  /** Finish the job; only the holder of the current attempt can finish it, and only once. */
  finish(sessionId: string, jobId: string, attempt: number, result: Pick<Job, 'status' | 'outputs' | 'error' | 'timings_ms' | 'progress'>): Promise<boolean>;
}

export interface JobQueue {
  sendJob(message: { session_id: string; job_id: string }): Promise<void>;
}

/** Changes for the file index (consumed by the index worker, one writer per index). */
export type { IndexChange, FileEntry as IndexEntry } from '@david/avl-index';
import type { IndexChange } from '@david/avl-index';

export interface IndexFeed {
  publish(change: IndexChange, dedupId: string): Promise<void>;
}

/**
 * Where state changes go to reach clients (a FIFO queue, one message group per session so they keep their order).
 * At least once: a consumer may see a change twice.
 */
export interface EventFeed {
  publish(event: LiveEvent): Promise<void>;
}

/** Open WebSocket connections by session (a DynamoDB table with TTL). */
export interface ConnectionRepository {
  put(connection: Connection, expiresAt: number): Promise<void>;
  get(connectionId: string): Promise<Connection | null>;
  delete(connectionId: string): Promise<void>;
  listBySession(sessionId: string): Promise<Connection[]>;
}

/** Sends a message down one connection (API Gateway's management API); 'gone' when the client has left. */
export interface PushChannel {
  send(connectionId: string, data: string): Promise<'sent' | 'gone'>;
}

/** The clock, so tests can move time. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
