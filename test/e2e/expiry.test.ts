import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';

// Sessions idle for 4 s expire here (the default is 30 days); the sweeper runs every second.
let stack: LocalStack;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-expiry-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined, sessionIdleSeconds: 4, jobs: { sweepEverySeconds: 1 } });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an idle session', () => {
  it('is gone for every route once idle past its expiry, and the sweeper removes its objects', { timeout: 60_000 }, async () => {
    const api = new ApiClient(stack.apiUrl);
    const s = await api.createSession('short-lived');
    await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    await api.waitFor(async () => ((await api.call('GET', `/api/audio/${s.session_id}`, { token: s.access_token })).status === 404 ? true : undefined), 'the session to expire', 20_000);
    const left = async () => {
      const [up, out] = await Promise.all(
        [BUCKETS.uploads, BUCKETS.processed].map((b) => stack.clients.s3.send(new ListObjectsV2Command({ Bucket: b.name, Prefix: `${b.prefix}${s.session_id}/` }))),
      );
      return (up.Contents?.length ?? 0) + (out.Contents?.length ?? 0);
    };
    await api.waitFor(async () => ((await left()) === 0 ? true : undefined), 'its objects to go', 20_000);
    expect(await left()).toBe(0);
    expect((await api.call('GET', `/api/audio/${s.session_id}/files`, { token: s.access_token })).status).toBe(404);
  });
});
