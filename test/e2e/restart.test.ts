import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { freePorts } from '../helpers/ports.ts';

let dir: string;
let stack: LocalStack | undefined;

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the local stack', () => {
  it('keeps sessions, files, jobs and outputs across a restart on the same data directory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'david-restart-'));
    const dataDir = join(dir, 'data');
    // Ports the restart can have back (below the ephemeral range: nothing else is handed them meanwhile).
    const [s3, sqs, dynamodb, delivery] = await freePorts(4);
    stack = await startLocalStack({ dataDir, port: 0, deliveryPort: delivery, emulatorPorts: { s3, sqs, dynamodb }, logLevel: 'SILENT', onError: () => undefined });
    let api = new ApiClient(stack.apiUrl);
    const session = await api.createSession('Persistent');
    const { file_id } = await api.upload(session, 'keep.wav', 'audio/wav', sineWav({ seconds: 0.5 }));
    await api.waitForFile(session, file_id);
    const submit = await api.call('POST', `/api/audio/${session.session_id}/process`, {
      token: session.access_token,
      body: { file_id, effect: 'gain', parameters: { gainDb: -3 } },
    });
    const job = await api.waitForJob(session, submit.body.job_id);
    expect(job.status).toBe('completed');
    const before = await api.call('GET', `/api/audio/${session.session_id}`, { token: session.access_token });
    const ports = stack.emulatorPorts;
    const deliveryPort = Number(new URL(stack.deliveryUrl).port);
    await stack.stop();

    // Same ports: the handler modules keep their clients (as a warm Lambda would), and delivery URLs stay valid.
    stack = await startLocalStack({ dataDir, port: 0, deliveryPort, emulatorPorts: ports, logLevel: 'SILENT', onError: () => undefined });
    api = new ApiClient(stack.apiUrl);
    const after = await api.call('GET', `/api/audio/${session.session_id}`, { token: session.access_token });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    const download = await fetch(job.output.url);
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(job.output.size);
  });
});
