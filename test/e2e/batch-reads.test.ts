import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFileRepository, DynamoJobRepository, DynamoSessionRepository, fileSk, jobSk, SESSION_SK, sessionPk, TABLE } from '@david/core';
import { EMULATOR_CREDENTIALS } from '@david/local';
import { describe, expect, it } from 'vitest';
import { provisionTable } from '../../packages/local/src/provision.ts';
import { emulatorsForFile } from '../helpers/emulators.ts';
import { startFaultProxy, type FaultRule } from '../helpers/fault-proxy.ts';

const shared = emulatorsForFile('david-batch-reads-');

const table = TABLE.name;

/** Our table, `n` sessions (ids `${tag}0`…) with a file and a job each, and repositories whose client goes through a proxy. */
async function setUp(tag: string, n: number, rule: FaultRule = () => 'pass') {
  const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: shared.emulators.endpoints.dynamodb, credentials: EMULATOR_CREDENTIALS });
  await provisionTable(ddb);
  const direct = DynamoDBDocumentClient.from(ddb);
  const items = Array.from({ length: n }, (_, i) => [
    { pk: sessionPk(`${tag}${i}`), sk: SESSION_SK, session_id: `${tag}${i}`, name: `session ${i}` },
    { pk: sessionPk(`${tag}${i}`), sk: fileSk(`f${i}`), session_id: `${tag}${i}`, file_id: `f${i}`, status: i % 2 ? 'ready' : 'pending' },
    { pk: sessionPk(`${tag}${i}`), sk: jobSk(`j${i}`), session_id: `${tag}${i}`, job_id: `j${i}`, status: 'completed' },
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
    const { direct, calls, proxy, repos } = await setUp('a', 60);
    try {
      // 60 sessions, 60 files, 60 jobs, 20 of each that do not exist, and every file asked twice: 320 reads, 240 keys.
      const asks = [
        ...Array.from({ length: 80 }, (_, i) => ['session', () => repos.sessions.get(`a${i}`), { pk: sessionPk(`a${i}`), sk: SESSION_SK }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['file', () => repos.files.get(`a${i}`, `f${i}`), { pk: sessionPk(`a${i}`), sk: fileSk(`f${i}`) }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['file again', () => repos.files.get(`a${i}`, `f${i}`), { pk: sessionPk(`a${i}`), sk: fileSk(`f${i}`) }] as const),
        ...Array.from({ length: 80 }, (_, i) => ['job', () => repos.jobs.get(`a${i}`, `j${i}`), { pk: sessionPk(`a${i}`), sk: jobSk(`j${i}`) }] as const),
      ];
      const got = await Promise.all(asks.map(([, ask]) => ask()));
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
      // Each answer is what a GetItem of its key returns (the key attributes left out, as the repositories do).
      for (const [i, [what, , key]] of asks.entries()) {
        const one = (await direct.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
        if (!one) expect(got[i], `${what} ${i}`).toBeNull();
        else {
          const { pk: _pk, sk: _sk, ...rest } = one;
          expect(got[i], `${what} ${i}`).toEqual(rest);
        }
      }
      expect(got.filter((g) => g === null)).toHaveLength(80);

      // Reads asked for one after another are one request each, as before.
      calls.length = 0;
      expect((await repos.files.get('a1', 'f1'))?.status).toBe('ready');
      expect((await repos.jobs.get('a1', 'j1'))?.status).toBe('completed');
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem']);
    } finally {
      await proxy.close();
    }
  });

  it('ask again for the keys DynamoDB leaves unprocessed, and fail every read of a request that fails', async () => {
    let throttle = 2;
    let fail = false;
    const { calls, proxy, repos } = await setUp('b', 30, (req) => {
      if (fail) return { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }) };
      if (throttle-- <= 0) return 'pass';
      // DynamoDB's answer when it throttles part of a batch: the keys back, unread (here all of them, twice).
      const asked = JSON.parse(req.body.toString()) as { RequestItems: Record<string, { Keys: unknown[]; ConsistentRead?: boolean }> };
      return { status: 200, body: JSON.stringify({ Responses: { [table]: [] }, UnprocessedKeys: asked.RequestItems }) };
    });
    try {
      const got = await Promise.all(Array.from({ length: 30 }, (_, i) => repos.files.get(`b${i}`, `f${i}`)));
      expect(got.map((f) => f?.file_id)).toEqual(Array.from({ length: 30 }, (_, i) => `f${i}`));
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);

      fail = true;
      const failed = await Promise.allSettled([repos.files.get('b1', 'f1'), repos.sessions.get('b2'), repos.jobs.get('b3', 'j3')]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/injected/);
      // The next reads, the store well again, are not held by the failure.
      fail = false;
      expect((await repos.sessions.get('b2'))?.name).toBe('session 2');
    } finally {
      await proxy.close();
    }
  });
});
