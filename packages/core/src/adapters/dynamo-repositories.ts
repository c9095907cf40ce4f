import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Connection, FileRecord, Job, Progress, Session } from '../domain/types.ts';
import type { IdempotencyRecord, IdempotencyStore } from '../use-cases/idempotency.ts';
import type { ConnectionRepository, FileRepository, JobLease, JobRepository, SessionRepository } from '../ports.ts';
import { batchReaderFor } from './dynamo-batch-reader.ts';
import { EXPIRY_PK, expirySk, fileSk, idempotencySk, jobSk, LEASES_PK, leaseSk, PENDING_PK, pendingSk, SESSION_SK, sessionPk } from './dynamo-keys.ts';

/**
 * DynamoDB's TTL (`ttl_at`, on every item but the index pointer) deletes an item this long after the time it stops
 * mattering: a session's items after the session's expiry, a watch or lease after it is due. It is a backstop for a
 * sweeper that did not run for a week; the sweeper deletes expired sessions with their objects long before.
 */
export const TTL_BACKSTOP_SECONDS = 7 * 86_400;
const ttl = (seconds: number | undefined) => (seconds === undefined ? {} : { ttl_at: seconds + TTL_BACKSTOP_SECONDS });
const ttlOfIso = (at: string) => ttl(Math.floor(Date.parse(at) / 1000));

const KEY_ATTRS = ['pk', 'sk', 'type'] as const;
function strip<T>(item: Record<string, unknown> | undefined): T | null {
  if (!item) return null;
  const copy = { ...item };
  for (const k of KEY_ATTRS) delete copy[k];
  // String sets (a file's version ids) come back as Set: records hold plain arrays.
  for (const [k, v] of Object.entries(copy)) if (v instanceof Set) copy[k] = [...(v as Set<string>)].sort();
  return copy as T;
}

const conditionFailed = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Build `SET a = :a, b = :b` from an object, skipping undefined values. */
function setExpression(values: Record<string, unknown>) {
  const names: Record<string, string> = {};
  const vals: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    names[`#${k}`] = k;
    vals[`:${k}`] = v;
    parts.push(`#${k} = :${k}`);
  }
  return { expr: `SET ${parts.join(', ')}`, names, vals };
}

abstract class Repo {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
  ) {}

  /** One item by its key, strongly consistent; reads asked for together go out as one request (`BatchReader`). */
  protected read(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    return batchReaderFor(this.db, this.table, ['pk', 'sk']).get({ pk, sk });
  }

  /** An update that applies only while the item exists (false when it is gone). */
  protected async updateIfExists(key: Record<string, string>, update: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({ TableName: this.table, Key: key, UpdateExpression: update, ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: values }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  /** Up to `limit` items of a partition whose sort key sorts before `bound` (the due items of a watch partition). */
  protected async queryBefore(pk: string, bound: string, limit: number): Promise<Record<string, unknown>[]> {
    const res = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk AND sk < :bound', ExpressionAttributeValues: { ':pk': pk, ':bound': bound }, Limit: limit }),
    );
    return res.Items ?? [];
  }

  protected async queryPartition(pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
          ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':sk': skPrefix } : { ':pk': pk },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

export class DynamoSessionRepository extends Repo implements SessionRepository {
  async create(session: Session): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: sessionPk(session.session_id),
          sk: SESSION_SK,
          type: 'session',
          ...session,
          ...ttl(session.expires_at),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(sessionId: string): Promise<Session | null> {
    return strip<Session>(await this.read(sessionPk(sessionId), SESSION_SK));
  }

  async touch(sessionId: string, activeAt: string, expiresAt: number): Promise<void> {
    await this.updateIfExists({ pk: sessionPk(sessionId), sk: SESSION_SK }, 'SET active_at = :a, expires_at = :e, ttl_at = :t', {
      ':a': activeAt,
      ':e': expiresAt,
      ':t': expiresAt + TTL_BACKSTOP_SECONDS,
    });
  }

  async markWatched(sessionId: string, at: string): Promise<void> {
    await this.updateIfExists({ pk: sessionPk(sessionId), sk: SESSION_SK }, 'SET watched_at = if_not_exists(watched_at, :at)', { ':at': at });
  }

  async watchExpiry(sessionId: string, expiresAt: number): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: EXPIRY_PK, sk: expirySk(expiresAt, sessionId), type: 'expiry', session_id: sessionId, expires_at: expiresAt, ...ttl(expiresAt) } }),
    );
  }

  async restampItems(sessionId: string, expiresAt: number): Promise<number> {
    const { ttl_at } = ttl(expiresAt);
    let n = 0;
    for (const it of await this.queryPartition(sessionPk(sessionId))) {
      if (it.sk === SESSION_SK || (it.ttl_at as number | undefined) === ttl_at) continue;
      if (await this.updateIfExists({ pk: it.pk as string, sk: it.sk as string }, 'SET ttl_at = :t', { ':t': ttl_at })) n++;
    }
    return n;
  }

  async unwatchExpiry(sessionId: string, expiresAt: number): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: EXPIRY_PK, sk: expirySk(expiresAt, sessionId) } }));
  }

  async listExpiryDue(nowSeconds: number): Promise<{ session_id: string; expires_at: number }[]> {
    const items = await this.queryBefore(EXPIRY_PK, String(nowSeconds).padStart(12, '0'), 100);
    return items.map((i) => ({ session_id: i.session_id as string, expires_at: i.expires_at as number }));
  }

  async markDeleting(sessionId: string, at: string): Promise<void> {
    await this.updateIfExists({ pk: sessionPk(sessionId), sk: SESSION_SK }, 'SET deleting_at = if_not_exists(deleting_at, :at)', { ':at': at });
  }

  async delete(sessionId: string): Promise<void> {
    const pk = sessionPk(sessionId);
    // Everything under the session first and the session item (the tombstone) last: a crash in between leaves
    // a session that a retried DELETE can still open and finish.
    const items = (await this.queryPartition(pk)).filter((it) => it.sk !== SESSION_SK);
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((it) => ({ DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const res = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        requests = (res.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk: SESSION_SK } }));
  }
}

export class DynamoFileRepository extends Repo implements FileRepository {
  async create(file: FileRecord, sessionExpiresAt?: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: sessionPk(file.session_id), sk: fileSk(file.file_id), type: 'file', ...file, ...ttl(sessionExpiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(sessionId: string, fileId: string): Promise<FileRecord | null> {
    return strip<FileRecord>(await this.read(sessionPk(sessionId), fileSk(fileId)));
  }

  async list(sessionId: string): Promise<FileRecord[]> {
    return (await this.queryPartition(sessionPk(sessionId), 'FILE#')).map((i) => strip<FileRecord>(i)!);
  }

  async delete(sessionId: string, fileId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: sessionPk(sessionId), sk: fileSk(fileId) } }));
  }

  async reportProgress(sessionId: string, fileId: string, progress: Progress): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: fileSk(fileId) },
          UpdateExpression: 'SET progress = :p',
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':p': progress, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async addVersion(sessionId: string, fileId: string, jobId: string): Promise<number> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: fileSk(fileId) },
          UpdateExpression: 'ADD version_ids :j',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':j': new Set([jobId]) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return (res.Attributes?.version_ids as Set<string> | undefined)?.size ?? 0;
    } catch (err) {
      if (conditionFailed(err)) return 0;
      throw err;
    }
  }

  async removeVersions(sessionId: string, fileId: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.updateIfExists({ pk: sessionPk(sessionId), sk: fileSk(fileId) }, 'DELETE version_ids :j', { ':j': new Set(jobIds) });
  }

  async recordOverwrite(sessionId: string, fileId: string, overwritten: NonNullable<FileRecord['overwritten']>): Promise<void> {
    await this.updateIfExists({ pk: sessionPk(sessionId), sk: fileSk(fileId) }, 'SET overwritten = :o', { ':o': overwritten });
  }

  async watchPending(sessionId: string, fileId: string, dueAt: string): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: PENDING_PK, sk: pendingSk(dueAt, sessionId, fileId), type: 'pending', session_id: sessionId, file_id: fileId, due_at: dueAt, ...ttlOfIso(dueAt) } }),
    );
  }

  async unwatchPending(sessionId: string, fileId: string, dueAt: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: PENDING_PK, sk: pendingSk(dueAt, sessionId, fileId) } }));
  }

  async listPendingDue(now: string): Promise<{ session_id: string; file_id: string; due_at: string }[]> {
    const items = await this.queryBefore(PENDING_PK, now, 500);
    return items.map((i) => ({ session_id: i.session_id as string, file_id: i.file_id as string, due_at: i.due_at as string }));
  }

  async completeIngest(sessionId: string, fileId: string, outcome: Partial<FileRecord> & { status: 'ready' | 'rejected' | 'expired' }): Promise<boolean> {
    const { expr, names, vals } = setExpression(outcome);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: fileSk(fileId) },
          UpdateExpression: `${expr} REMOVE progress`,
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...vals, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }
}

export class DynamoJobRepository extends Repo implements JobRepository {
  async create(job: Job, sessionExpiresAt?: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: sessionPk(job.session_id), sk: jobSk(job.job_id), type: 'job', ...job, ...ttl(sessionExpiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(sessionId: string, jobId: string): Promise<Job | null> {
    return strip<Job>(await this.read(sessionPk(sessionId), jobSk(jobId)));
  }

  async list(sessionId: string): Promise<Job[]> {
    return (await this.queryPartition(sessionPk(sessionId), 'JOB#')).map((i) => strip<Job>(i)!);
  }

  async delete(sessionId: string, jobId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) } }));
  }

  async renewLease(sessionId: string, jobId: string, attempt: number, leaseUntil: Date): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: 'SET lease_until = :lease',
          ConditionExpression: 'attribute_exists(pk) AND attempts = :attempt AND #status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':lease': leaseUntil.toISOString(), ':attempt': attempt, ':processing': 'processing' },
        }),
      );
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
    await this.trackLease({ session_id: sessionId, job_id: jobId, lease_until: leaseUntil.toISOString() });
    return true;
  }

  async reportProgress(sessionId: string, jobId: string, attempt: number, progress: Progress): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: 'SET progress = :p',
          ConditionExpression: 'attribute_exists(pk) AND attempts = :attempt AND #status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':p': progress, ':attempt': attempt, ':processing': 'processing' },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async trackLease(lease: JobLease): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: LEASES_PK, sk: leaseSk(lease.session_id, lease.job_id), type: 'lease', ...lease, ...ttlOfIso(lease.lease_until) } }));
  }

  async dropLease(sessionId: string, jobId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: LEASES_PK, sk: leaseSk(sessionId, jobId) } }));
  }

  async listLeases(): Promise<JobLease[]> {
    return (await this.queryPartition(LEASES_PK)).map((i) => strip<JobLease>(i)!);
  }

  async claim(sessionId: string, jobId: string, now: Date, leaseUntil: Date): Promise<Job | null> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: 'SET #status = :processing, attempts = attempts + :one, lease_until = :lease, updated_at = :now REMOVE progress',
          ConditionExpression: 'attribute_exists(pk) AND (#status = :queued OR (#status = :processing AND lease_until < :now))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':processing': 'processing',
            ':queued': 'queued',
            ':one': 1,
            ':lease': leaseUntil.toISOString(),
            ':now': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<Job>(res.Attributes);
    } catch (err) {
      if (conditionFailed(err)) return null;
      throw err;
    }
  }

  async expire(sessionId: string, jobId: string, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: 'SET #status = :expired, expired_at = :at, updated_at = :at',
          ConditionExpression: 'attribute_exists(pk) AND #status = :completed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':expired': 'expired', ':completed': 'completed', ':at': at },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async dropOutputs(sessionId: string, jobId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: 'REMOVE outputs',
          ConditionExpression: 'attribute_exists(pk) AND #status = :expired',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':expired': 'expired' },
        }),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
    }
  }

  async finish(sessionId: string, jobId: string, attempt: number, result: Pick<Job, 'status' | 'outputs' | 'error' | 'timings_ms' | 'progress'>): Promise<boolean> {
    const { expr, names, vals } = setExpression({ ...result, updated_at: new Date().toISOString() });
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionPk(sessionId), sk: jobSk(jobId) },
          UpdateExpression: `${expr} REMOVE lease_until`,
          ConditionExpression: 'attribute_exists(pk) AND attempts = :attempt AND #status IN (:queued, :processing)',
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: { ...vals, ':attempt': attempt, ':queued': 'queued', ':processing': 'processing' },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }
}

export class DynamoIdempotencyStore extends Repo implements IdempotencyStore {
  async get(sessionId: string, key: string): Promise<IdempotencyRecord | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: sessionPk(sessionId), sk: idempotencySk(key) }, ConsistentRead: true }));
    return strip<IdempotencyRecord>(res.Item);
  }

  async reserve(sessionId: string, key: string, record: IdempotencyRecord, staleBefore: string, sessionExpiresAt?: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: sessionPk(sessionId), sk: idempotencySk(key), type: 'idempotency', ...record, ...ttl(sessionExpiresAt) },
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :running AND #at < :stale)',
          ExpressionAttributeNames: { '#state': 'state', '#at': 'at' },
          ExpressionAttributeValues: { ':running': 'running', ':stale': staleBefore },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async complete(sessionId: string, key: string, record: IdempotencyRecord, sessionExpiresAt?: number): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: sessionPk(sessionId), sk: idempotencySk(key), type: 'idempotency', ...record, ...ttl(sessionExpiresAt) } }),
    );
  }

  async release(sessionId: string, key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: sessionPk(sessionId), sk: idempotencySk(key) } }));
  }
}

/**
 * WebSocket connections, in a table of their own (high churn, short-lived, no backups): keyed by connection id,
 * a GSI by session for the fan-out, and TTL as the backstop for connections whose $disconnect never came.
 */
export class DynamoConnectionRepository implements ConnectionRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly bySession: string,
  ) {}

  async put(connection: Connection, expiresAt: number): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...connection, ttl_at: expiresAt } }));
  }

  async get(connectionId: string): Promise<Connection | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { connection_id: connectionId }, ConsistentRead: true }));
    if (!res.Item) return null;
    const { ttl_at: _ttl, ...connection } = res.Item;
    return connection as Connection;
  }

  async delete(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { connection_id: connectionId } }));
  }

  async listBySession(sessionId: string): Promise<Connection[]> {
    const out: Connection[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: this.bySession,
          KeyConditionExpression: 'session_id = :s',
          ExpressionAttributeValues: { ':s': sessionId },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of res.Items ?? []) out.push({ connection_id: i.connection_id as string, session_id: i.session_id as string, connected_at: i.connected_at as string });
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
