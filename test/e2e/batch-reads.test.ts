import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFileRepository, DynamoJobRepository, DynamoSessionRepository, fileSk, jobSk, SESSION_SK, sessionPk } from '@david/core';
import { EMULATOR_CREDENTIALS } from '@david/local';
import { describe, expect, it } from 'vitest';
import { emulatorsForFile } from '../helpers/emulators.ts';
import { startFaultProxy, type FaultRule } from '../helpers/fault-proxy.ts';

const shared = emulatorsForFile('david-batch-reads-');

/** A table of its own (the shape of ours: pk, sk), `n` sessions with a file and a job each, and a client through a proxy. */
async function setUp(table: string, n: number, rule: FaultRule = () => 'pass') {
  const direct = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: shared.emulators.endpoints.dynamodb, credentials: EMULATOR_CREDENTIALS }));
  await direct.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    }),
  );
  const items = Array.from({ length: n }, (_, i) => [
    { pk: sessionPk(`s${i}`), sk: SESSION_SK, session_id: `s${i}`, name: `session ${i}` },
    { pk: sessionPk(`s${i}`), sk: fileSk(`f${i}`), session_id: `s${i}`, file_id: `f${i}`, status: i % 2 ? 'ready' : 'pending' },
    { pk: sessionPk(`s${i}`), sk: jobSk(`j${i}`), session_id: `s${i}`, job_id: `j${i}`, status: 'completed' },
  ]).flat();
  for (let i = 0; i < items.length; i += 25) await direct.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  const calls: string[] = [];
  const proxy = await startFaultProxy(shared.emulators.endpoints.dynamodb, (req) => {
    const target = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
    calls.push(target);
    return rule(req);
  });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: proxy.url, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }));
  return { direct, db, calls, proxy, repos: { sessions: new DynamoSessionRepository(db, table), files: new DynamoFileRepository(db, table), jobs: new DynamoJobRepository(db, table) } };
}

describe('single-item reads asked for together', () => {
  it('go out as one BatchGetItem per 100 keys, each answered with its own item (or null), as a GetItem would', async () => {
    const { direct, calls, proxy, repos } = await setUp('batch-reads-1', 60);
    try {
      // 60 sessions, 60 files, 60 jobs, 20 of each that do not exist, and every file asked twice: 320 reads, 240 keys.
      const asks = [
        ...Array.from({ length: 80 }, (_, i) => ['session', () => repos.sessions.get(`s${i}`), { pk: sessionPk(`s${i}`), sk: SESSION_SK }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['file', () => repos.files.get(`s${i}`, `f${i}`), { pk: sessionPk(`s${i}`), sk: fileSk(`f${i}`) }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['file again', () => repos.files.get(`s${i}`, `f${i}`), { pk: sessionPk(`s${i}`), sk: fileSk(`f${i}`) }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['job', () => repos.jobs.get(`s${i}`, `j${i}`), { pk: sessionPk(`s${i}`), sk: jobSk(`j${i}`) }] as const),
      ];
      const got = await Promise.all(asks.map(([, ask]) => ask()));
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
      // Each answer is what a GetItem of its key returns (the key attributes left out, as the repositories do).
      for (const [i, [what, , key]] of asks.entries()) {
        const one = (await direct.send(new GetCommand({ TableName: 'batch-reads-1', Key: key, ConsistentRead: true }))).Item;
        if (!one) expect(got[i], `${what} ${i}`).toBeNull();
        else {
          const { pk: _pk, sk: _sk, ...rest } = one;
          expect(got[i], `${what} ${i}`).toEqual(rest);
        }
      }
      expect(got.filter((g) => g === null)).toHaveLength(80);

      // Reads asked for one after another are one request each, as before.
      calls.length = 0;
      expect((await repos.files.get('s1', 'f1'))?.status).toBe('ready');
      expect((await repos.jobs.get('s1', 'j1'))?.status).toBe('completed');
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem']);
    } finally {
      await proxy.close();
    }
  });

  it('ask again for the keys DynamoDB leaves unprocessed, and fail every read of a request that fails', async () => {
    let throttle = 2;
    let fail = false;
    const { calls, proxy, repos } = await setUp('batch-reads-2', 30, (req) => {
      if (fail) return { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }) };
      if (throttle-- <= 0) return 'pass';
      // DynamoDB's answer when it throttles part of a batch: the keys back, unread (here all of them, twice).
      const asked = JSON.parse(req.body.toString()) as { RequestItems: Record<string, { Keys: unknown[]; ConsistentRead?: boolean }> };
      return { status: 200, body: JSON.stringify({ Responses: { 'batch-reads-2': [] }, UnprocessedKeys: asked.RequestItems }) };
    });
    try {
      const got = await Promise.all(Array.from({ length: 30 }, (_, i) => repos.files.get(`s${i}`, `f${i}`)));
      expect(got.map((f) => f?.file_id)).toEqual(Array.from({ length: 30 }, (_, i) => `f${i}`));
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);

      fail = true;
      const failed = await Promise.allSettled([repos.files.get('s1', 'f1'), repos.sessions.get('s2'), repos.jobs.get('s3', 'j3')]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/injected/);
      // The next reads, the store well again, are not held by the failure.
      fail = false;
      expect((await repos.sessions.get('s2'))?.name).toBe('session 2');
    } finally {
      await proxy.close();
    }
  });
});
