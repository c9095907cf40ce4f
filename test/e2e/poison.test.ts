import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { BUCKETS } from '@david/core';
import { objectCreatedEvent } from '@david/local';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('poison');

async function depth(url: string): Promise<number> {
  const a = await ctx.stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

describe('poison messages', () => {
  it('are set aside at once in every queue, and the work around them still happens', async () => {
    const { sqs } = ctx.stack.clients;
    const q = ctx.stack.queues;
    const api = new ApiClient(ctx.stack.apiUrl);
    const send = (url: string, body: string, fifo = false) =>
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, ...(fifo ? { MessageGroupId: 'files', MessageDeduplicationId: `poison-${Math.random()}` } : {}) }));
    await send(q.ingest.url, 'not json at all');
    await send(q.ingest.url, '{"Records": "nope"}');
    await send(q.process.url, '{"job":"missing ids"}');
    await send(q.index.url, '{"op":"upsert"}', true);
    await send(q.index.url, '{"op":"frobnicate","file_id":"x"}', true);

    // Ordinary work right behind the poison: an upload, a job, and the listing that depends on the index queue.
    const s = await api.createSession('poison');
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    expect((await api.waitForFile(s, file_id)).status).toBe('ready');
    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
    expect((await api.waitForJob(s, job.body.job_id)).status).toBe('completed');
    const listed = await api.waitFor(async () => {
      const r = await api.call('GET', `/api/audio/${s.session_id}/files`, { token: s.access_token });
      return r.body.items?.length === 2 ? r.body : undefined;
    }, 'both entries listed', 10_000);
    expect(listed.items.map((e: { kind: string }) => e.kind).sort()).toEqual(['output', 'upload']);

    // Nothing waits for a redelivery or sits in a dead-letter queue: the poison was let go at the first look.
    await api.waitFor(async () => ((await Promise.all([q.ingest.url, q.process.url, q.index.url].map(depth))).every((n) => n === 0) ? true : undefined), 'queues drained', 10_000);
    for (const name of ['ingest', 'process', 'index'] as const) expect(await depth(q[name].dlqUrl), name).toBe(0);
  });
});

describe('duplicate first deliveries', () => {
  it('of the same S3 event and the same job message, at once, change each record once', async () => {
    const { sqs } = ctx.stack.clients;
    const q = ctx.stack.queues;
    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('duplicates');
    const { file_id, upload } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    expect((await api.waitForFile(s, file_id)).status).toBe('ready');
    // The same notification five more times, all at once (S3 delivers at least once; SQS may duplicate).
    const event = objectCreatedEvent(BUCKETS.uploads.name, upload.fields.key);
    await Promise.all(Array.from({ length: 5 }, () => sqs.send(new SendMessageCommand({ QueueUrl: q.ingest.url, MessageBody: JSON.stringify(event) }))));
    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
    const message = JSON.stringify({ session_id: s.session_id, job_id: job.body.job_id });
    await Promise.all(Array.from({ length: 5 }, () => sqs.send(new SendMessageCommand({ QueueUrl: q.process.url, MessageBody: message }))));
    const done = await api.waitForJob(s, job.body.job_id);
    expect(done).toMatchObject({ status: 'completed', attempts: 1 });
    await api.waitFor(async () => ((await Promise.all([q.ingest.url, q.process.url, q.index.url].map(depth))).every((n) => n === 0) ? true : undefined), 'queues drained', 15_000);

    const info = (await api.call('GET', `/api/audio/${s.session_id}`, { token: s.access_token })).body;
    expect(info.uploaded_files).toHaveLength(1);
    expect(info.processing_history).toHaveLength(1);
    expect(info.processing_history[0]).toMatchObject({ status: 'completed', attempts: 1 });
    const listed = (await api.call('GET', `/api/audio/${s.session_id}/files`, { token: s.access_token })).body;
    expect(listed.items.map((e: { file_id: string }) => e.file_id).sort()).toEqual([file_id, job.body.job_id].sort());
  });
});
