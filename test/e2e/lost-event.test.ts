import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
import { startEmulators, startLocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { freePorts } from '../helpers/ports.ts';

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the local S3 event bridge after a crash', () => {
  it('announces again, at start-up, an upload S3 accepted whose event was never sent', async () => {
    dir = await mkdtemp(join(tmpdir(), 'david-lost-event-'));
    const dataDir = join(dir, 'data');
    const quiet = { logLevel: 'SILENT', onError: () => undefined } as const;
    // The same ports on every start: the handler modules keep their clients, as a warm Lambda would (chosen below
    // the ephemeral range, so nothing else is handed them between the starts).
    const [s3Port, sqsPort, dynamodbPort] = await freePorts(3);
    const ports = { s3: s3Port, sqs: sqsPort, dynamodb: dynamodbPort };
    const first = await startLocalStack({ dataDir, port: 0, deliveryPort: 0, emulatorPorts: ports, ...quiet });
    let api = new ApiClient(first.apiUrl);
    const session = await api.createSession('Lost event');
    const bytes = sineWav({ seconds: 0.5 });
    const req = await api.call('POST', '/api/audio/upload', {
      token: session.access_token,
      body: { session_id: session.session_id, filename: 'lost.wav', content_type: 'audio/wav', size: bytes.length },
    });
    expect(req.status).toBe(201);
    await first.stop();

    // S3 accepts the upload while nothing bridges its event (as when the stack dies between the two).
    const emulators = await startEmulators('s3rver', dataDir, ports, [BUCKETS.uploads.name, BUCKETS.processed.name, BUCKETS.index.name]);
    const s3 = new S3Client({ region: 'us-east-1', endpoint: emulators.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new PutObjectCommand({ Bucket: BUCKETS.uploads.name, Key: req.body.upload.fields.key, Body: bytes, ContentType: 'audio/wav' }));
    s3.destroy();
    await emulators.stop();

    const again = await startLocalStack({ dataDir, port: 0, deliveryPort: 0, emulatorPorts: ports, ...quiet });
    try {
      api = new ApiClient(again.apiUrl);
      expect(await api.waitForFile(session, req.body.file_id)).toMatchObject({ status: 'ready', duration_s: 0.5 });
    } finally {
      await again.stop();
    }
  });
});
