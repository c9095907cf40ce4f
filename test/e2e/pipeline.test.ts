import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { BUCKETS } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { decodeWithFfmpeg, rmsDb, sineWav, transcode } from '../helpers/audio.ts';

let stack: LocalStack;
let api: ApiClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-e2e-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
  api = new ApiClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const res = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!);
}

/** Wait until a queue has nothing visible or in flight (the worker has seen every message). */
async function drained(queueUrl: string) {
  await api.waitFor(async () => {
    const a = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    const n = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    return n === 0 ? true : undefined;
  }, 'queue drained');
}

describe('the pipeline, end to end over HTTP', () => {
  it('serves health and the effect catalogue from the declarations', async () => {
    const health = await api.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(health.body.features.supported_formats).toEqual(expect.arrayContaining(['.wav', '.mp3', '.flac', '.ogg']));
    expect(health.body.features.sample_rate).toBe(44100);
    expect(health.body.features.max_file_size).toBe(104857600);
    const effects = await api.call('GET', '/api/effects');
    expect(effects.status).toBe(200);
    expect(health.body.features.audio_effects).toBe(effects.body.total);
    expect(Object.keys(effects.body.effects)).toHaveLength(effects.body.total);
    expect(effects.body.effects.gain.parameters).toEqual({ gainDb: 0 });
    expect(effects.body.effects.gain.parameter_specs.gainDb).toMatchObject({ min: -96, max: 48, default: 0, unit: 'dB' });
    expect((await api.call('GET', '/api/audio/effects')).body).toEqual(effects.body);
  });

  it('uploads a WAV through a presigned POST, applies gain, and delivers the result with Range support', async () => {
    const session = await api.createSession('Studio Session');
    const wav = sineWav({ seconds: 1.5, peakDbfs: -6 });
    const { file_id } = await api.upload(session, 'take one.wav', 'audio/wav', wav);
    const file = await api.waitForFile(session, file_id);
    expect(file).toMatchObject({ status: 'ready', format: 'wav', sample_rate: 44100, channels: 2, size: wav.length, filename: 'take_one.wav' });
    expect(file.duration_s).toBeCloseTo(1.5, 3);
    // Ingest analyses ready files: the peak of a −6 dBFS sine, loudness present, true peak at or above the sample peak.
    expect(Math.abs(file.analysis.peak_dbfs + 6)).toBeLessThan(0.05);
    expect(file.analysis.true_peak_dbtp).toBeGreaterThanOrEqual(file.analysis.peak_dbfs);
    expect(file.analysis.integrated_lufs).toBeGreaterThan(-12);
    expect(file.analysis.integrated_lufs).toBeLessThan(-3);

    const submit = await api.call('POST', `/api/audio/${session.session_id}/process`, {
      token: session.access_token,
      body: { file_id, effect: 'gain', parameters: { gainDb: -6 } },
    });
    expect(submit.status).toBe(202);
    expect(submit.body.status).toBe('queued');
    const job = await api.waitForJob(session, submit.body.job_id);
    expect(job.status).toBe('completed');
    expect(job.output).toMatchObject({ format: 'wav' });
    expect(job.output.duration_s).toBeCloseTo(1.5, 3);

    const res = await fetch(job.output.url);
    expect(res.status).toBe(200);
    const out = Buffer.from(await res.arrayBuffer());
    expect(out.length).toBe(job.output.size);
    const outPath = join(dir, 'out.wav');
    await writeFile(outPath, out);
    const inPath = join(dir, 'in.wav');
    await writeFile(inPath, wav);
    const [a, b] = await Promise.all([decodeWithFfmpeg(inPath), decodeWithFfmpeg(outPath)]);
    expect(b.channels[0].length).toBe(a.channels[0].length);
    // -6 dB of gain must show as a 6 dB lower RMS (16-bit rounding allows a hundredth of a dB).
    expect(rmsDb(b.channels[0]) - rmsDb(a.channels[0])).toBeCloseTo(-6, 1);
    expect(rmsDb(b.channels[1]) - rmsDb(a.channels[1])).toBeCloseTo(-6, 1);

    const ranged = await fetch(job.output.url, { headers: { range: 'bytes=100-1123' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-1123/${out.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(out.subarray(100, 1124))).toBe(true);

    const info = await api.call('GET', `/api/audio/${session.session_id}`, { token: session.access_token });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ session_id: session.session_id, name: 'Studio Session' });
    expect(info.body.uploaded_files.map((f: { file_id: string }) => f.file_id)).toEqual([file_id]);
    expect(info.body.processing_history).toHaveLength(1);
    expect(info.body.processing_history[0]).toMatchObject({ job_id: submit.body.job_id, effect: 'gain', status: 'completed' });
    expect(info.body.buffer_status).toMatchObject({ files_ready: 1, jobs_completed: 1 });
  });

  it('ingests an MP3 made by ffmpeg and processes it into an MP3 of the same duration', async () => {
    const session = await api.createSession();
    const wavPath = join(dir, 'src.wav');
    const mp3Path = join(dir, 'src.mp3');
    await writeFile(wavPath, sineWav({ seconds: 2, peakDbfs: -3 }));
    await transcode(wavPath, mp3Path, ['-codec:a', 'libmp3lame', '-b:a', '128k']);
    const mp3 = await readFile(mp3Path);
    const { file_id } = await api.upload(session, 'song.mp3', 'audio/mpeg', mp3);
    const file = await api.waitForFile(session, file_id);
    expect(file).toMatchObject({ status: 'ready', format: 'mp3', sample_rate: 44100, channels: 2 });
    expect(file.duration_s).toBeGreaterThan(1.95);
    expect(file.duration_s).toBeLessThan(2.1);

    const submit = await api.call('POST', `/api/audio/${session.session_id}/process`, {
      token: session.access_token,
      body: { file_id, chain: [{ effect: 'gain', parameters: { gainDb: -12 } }] },
    });
    expect(submit.status).toBe(202);
    const job = await api.waitForJob(session, submit.body.job_id);
    expect(job.status).toBe('completed');
    expect(job.output.format).toBe('mp3');
    const outPath = join(dir, 'out.mp3');
    await writeFile(outPath, Buffer.from(await (await fetch(job.output.url)).arrayBuffer()));
    const [a, b] = await Promise.all([decodeWithFfmpeg(mp3Path), decodeWithFfmpeg(outPath)]);
    expect(Math.abs(b.channels[0].length - a.channels[0].length) / 44100).toBeLessThan(0.06);
    const mid = (x: Float32Array) => rmsDb(x, 22050, 66150);
    expect(mid(b.channels[0]) - mid(a.channels[0])).toBeCloseTo(-12, 0);
  });

  it('rejects bad input with stable codes and loses nothing', async () => {
    const session = await api.createSession();
    const other = await api.createSession();
    const path = (p: string) => `/api/audio/${session.session_id}${p}`;

    // Non-audio bytes named .wav: recorded as rejected, with the reason.
    const junk = await api.upload(session, 'notes.wav', 'audio/wav', Buffer.from('#EXTM3U\nhttp://example.invalid/stream.mp3\n'.repeat(20)));
    const junkFile = await api.waitForFile(session, junk.file_id);
    expect(junkFile.status).toBe('rejected');
    expect(junkFile.rejection.code).toBe('Media::UnknownFormat');

    // A truncated WAV: the header promises more data than the file holds.
    const full = sineWav({ seconds: 1 });
    const truncated = await api.upload(session, 'cut.wav', 'audio/wav', full.subarray(0, 40));
    const truncatedFile = await api.waitForFile(session, truncated.file_id);
    expect(truncatedFile.status).toBe('rejected');
    expect(truncatedFile.rejection.code).toMatch(/^(Wav|Media)::/);

    const good = await api.upload(session, 'good.wav', 'audio/wav', sineWav({ seconds: 0.5 }));
    await api.waitForFile(session, good.file_id);

    const unknown = await api.call('POST', path('/process'), { token: session.access_token, body: { file_id: good.file_id, effect: 'vocoderize' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('Effect::UnknownEffect');
    expect(unknown.body.error.details.known).toContain('gain');

    const range = await api.call('POST', path('/process'), { token: session.access_token, body: { file_id: good.file_id, effect: 'gain', parameters: { gainDb: 500 } } });
    expect(range.status).toBe(400);
    expect(range.body.error.code).toBe('Effect::InvalidParameter');
    expect(range.body.error.details).toMatchObject({ parameter: 'gainDb', allowed: { min: -96, max: 48 } });
    expect(range.body.error.message).toMatch(/-96 to 48 dB/);

    const rejected = await api.call('POST', path('/process'), { token: session.access_token, body: { file_id: junk.file_id, effect: 'gain' } });
    expect(rejected.status).toBe(422);
    expect(rejected.body.error.code).toBe('File::Rejected');

    const missing = await api.call('POST', path('/process'), { token: session.access_token, body: { file_id: 'fil_' + '0'.repeat(32), effect: 'gain' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('File::NotFound');

    const tooBig = await api.call('POST', '/api/audio/upload', {
      token: session.access_token,
      body: { session_id: session.session_id, filename: 'x.wav', content_type: 'audio/wav', size: 104857601 },
    });
    expect(tooBig.status).toBe(413);
    const wrongType = await api.call('POST', '/api/audio/upload', {
      token: session.access_token,
      body: { session_id: session.session_id, filename: 'x.exe', content_type: 'application/octet-stream', size: 10 },
    });
    expect(wrongType.status).toBe(415);
    expect((await api.call('POST', '/api/audio/session', { raw: '{nope' })).body.error.code).toBe('Request::InvalidJson');

    const noToken = await api.call('GET', path(''));
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe('Auth::MissingToken');
    const otherToken = await api.call('GET', path(''), { token: other.access_token });
    expect(otherToken.status).toBe(403);
    expect(otherToken.body).not.toHaveProperty('uploaded_files');
    const otherFile = await api.call('GET', path(`/files/${good.file_id}`), { token: other.access_token });
    expect(otherFile.status).toBe(403);

    // Other sessions never notice: the other session is untouched and works.
    expect((await api.call('GET', `/api/audio/${other.session_id}`, { token: other.access_token })).status).toBe(200);

    // Deleting a session removes its objects, files and jobs; afterwards it is 404.
    const job = await api.call('POST', path('/process'), { token: session.access_token, body: { file_id: good.file_id, effect: 'gain', parameters: { gainDb: -1 } } });
    await api.waitForJob(session, job.body.job_id);
    expect(await listKeys(BUCKETS.processed.name, `processed/${session.session_id}/`)).toHaveLength(1);
    const del = await api.call('DELETE', path(''), { token: session.access_token });
    expect(del.status).toBe(204);
    const gone = await api.call('GET', path(''), { token: session.access_token });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('Session::NotFound');
    expect((await api.call('GET', path(`/jobs/${job.body.job_id}`), { token: session.access_token })).status).toBe(404);
    expect(await listKeys(BUCKETS.uploads.name, `uploads/${session.session_id}/`)).toEqual([]);
    expect(await listKeys(BUCKETS.processed.name, `processed/${session.session_id}/`)).toEqual([]);
  });

  it('records a file once when its S3 event arrives twice, and writes one output when a job message arrives twice', async () => {
    const session = await api.createSession();
    const { file_id } = await api.upload(session, 'dup.wav', 'audio/wav', sineWav({ seconds: 0.5 }));
    const first = await api.waitForFile(session, file_id);
    expect(first.status).toBe('ready');

    // Replay the S3 notification as a new SQS message, twice at once (a new message id each time).
    const key = `uploads/${session.session_id}/${file_id}/dup.wav`;
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Post',
          s3: { bucket: { name: BUCKETS.uploads.name }, object: { key, size: 1, eTag: 'x' } },
        },
      ],
    };
    await Promise.all(
      [1, 2].map(() => stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: JSON.stringify(event) }))),
    );
    await drained(stack.queues.ingest.url);
    const info = await api.call('GET', `/api/audio/${session.session_id}`, { token: session.access_token });
    expect(info.body.uploaded_files).toHaveLength(1);
    const after = await api.call('GET', `/api/audio/${session.session_id}/files/${file_id}`, { token: session.access_token });
    expect(after.body).toEqual(first);

    const submit = await api.call('POST', `/api/audio/${session.session_id}/process`, { token: session.access_token, body: { file_id, effect: 'gain' } });
    const done = await api.waitForJob(session, submit.body.job_id);
    expect(done.status).toBe('completed');
    await Promise.all(
      [1, 2].map(() =>
        stack.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: stack.queues.process.url, MessageBody: JSON.stringify({ session_id: session.session_id, job_id: submit.body.job_id }) }),
        ),
      ),
    );
    await drained(stack.queues.process.url);
    const again = await api.call('GET', `/api/audio/${session.session_id}/jobs/${submit.body.job_id}`, { token: session.access_token });
    expect(again.body).toEqual(done);
    expect(again.body.attempts).toBe(1);
    expect(await listKeys(BUCKETS.processed.name, `processed/${session.session_id}/`)).toEqual([`processed/${session.session_id}/${submit.body.job_id}.wav`]);
  });
});

describe('the file index over HTTP', () => {
  it('lists a session’s files from the index, pages them, and forgets a deleted session', async () => {
    const session = await api.createSession('Indexed');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { file_id } = await api.upload(session, `part${i}.wav`, 'audio/wav', sineWav({ seconds: 0.2 }));
      await api.waitForFile(session, file_id);
      ids.push(file_id);
    }
    const bad = await api.upload(session, 'junk.wav', 'audio/wav', Buffer.from('not audio at all, just text'));
    await api.waitForFile(session, bad.file_id);
    const job = await api.call('POST', `/api/audio/${session.session_id}/process`, { token: session.access_token, body: { file_id: ids[0], effect: 'gain' } });
    await api.waitForJob(session, job.body.job_id);

    const path = `/api/audio/${session.session_id}/files`;
    // The index worker applies changes asynchronously: wait until it has seen all five (3 ready, 1 rejected, 1 output).
    const listed = await api.waitFor(async () => {
      const r = await api.call('GET', `${path}?limit=10`, { token: session.access_token });
      return r.body?.total === 5 ? r.body : undefined;
    }, 'the index to catch up');
    expect(listed.items.map((e: { kind: string }) => e.kind).sort()).toEqual(['output', 'upload', 'upload', 'upload', 'upload']);
    expect(listed.items.find((e: { file_id: string }) => e.file_id === bad.file_id).status).toBe('rejected');
    const times = listed.items.map((e: { uploaded_at: string }) => e.uploaded_at);
    expect(times).toEqual([...times].sort());
    const page = await api.call('GET', `${path}?limit=2&offset=1&order=desc`, { token: session.access_token });
    expect(page.body.items.map((e: { file_id: string }) => e.file_id)).toEqual(listed.items.slice().reverse().slice(1, 3).map((e: { file_id: string }) => e.file_id));
    expect((await api.call('GET', `${path}?limit=0`, { token: session.access_token })).body.error.code).toBe('Request::InvalidField');

    // Another session's token sees nothing of it; the operator listing is closed without a configured key.
    const other = await api.createSession();
    expect((await api.call('GET', path, { token: other.access_token })).status).toBe(403);
    const admin = await api.call('GET', '/api/admin/files');
    expect(admin.status).toBe(403);
    expect(admin.body.error.code).toBe('Admin::Disabled');

  });
});
