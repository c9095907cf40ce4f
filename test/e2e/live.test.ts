import { PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CONNECTIONS } from '@david/core';
import { createHmac } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sineWav } from '../helpers/audio.ts';
import { ApiClient } from '../helpers/client.ts';
import { openSocket, type TestSocket } from '../helpers/socket.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('live');
const api = () => new ApiClient(ctx.stack.apiUrl);

type Session = { session_id: string; access_token: string; events_url: string };
const newSession = async () => (await api().createSession('live')) as unknown as Session;
const connect = (s: Session) => openSocket(`${s.events_url}?token=${encodeURIComponent(s.access_token)}`);

/** The HTTP status an upgrade is refused with (Node's WebSocket does not tell it, so the handshake is sent by hand). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? -1);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

describe('live sessions: the WebSocket push channel', () => {
  it('returns events_url with the session, and pushes a job’s progress in order, rising, ending in completed', async () => {
    const session = await newSession();
    expect(session.events_url).toMatch(/^ws:\/\/.+\/events$/);
    const socket = await connect(session);
    try {
      // 90 s of stereo through pitch shift and reverb: long enough for several progress reports (~250 ms apart).
      const { file_id } = await api().upload(session, 'long.wav', 'audio/wav', sineWav({ seconds: 90, channels: 2, sampleRate: 44_100 }));
      const ready = await socket.next((m) => m.type === 'file.updated' && m.file_id === file_id && m.status === 'ready');
      expect(ready.session_id).toBe(session.session_id);
      expect(ready.file.media ?? ready.file).toBeTruthy();
      const submitted = await api().call('POST', `/api/audio/${session.session_id}/process`, {
        token: session.access_token,
        body: { file_id, chain: [{ effect: 'pitch_shift', parameters: { semitones: 3 } }, { effect: 'reverb' }] },
      });
      expect(submitted.status).toBe(202);
      const jobId = submitted.body.job_id as string;
      const done = await socket.next((m) => m.job_id === jobId && m.type === 'job.updated' && (m.status === 'completed' || m.status === 'failed'), 120_000);
      expect(done.status).toBe('completed');
      expect(done.progress).toEqual({ phase: 'uploading', percent: 100 });
      expect(done.job.output.url).toMatch(/^http/);

      const ofJob = socket.messages.filter((m) => m.data.job_id === jobId).map((m) => m.data);
      const statuses = ofJob.map((m) => m.status);
      // queued → processing … → completed, never back.
      const order = ['queued', 'processing', 'completed'];
      expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b));
      expect(statuses[0]).toBe('queued');
      expect(statuses.at(-1)).toBe('completed');
      const progress = ofJob.filter((m) => m.type === 'job.progress');
      expect(progress.length).toBeGreaterThanOrEqual(3);
      const percents = progress.map((m) => m.progress.percent);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(percents[0]).toBeLessThan(percents.at(-1)!);
      expect(progress.some((m) => m.progress.phase === 'processing' && m.progress.percent > 10 && m.progress.percent < 90)).toBe(true);
      // Reports come no faster than every ~250 ms.
      const gaps = progress.slice(1).map((m, i) => Date.parse(m.at) - Date.parse(progress[i].at));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);

      // The job's record says the same through GET.
      const got = await api().call('GET', `/api/audio/${session.session_id}/jobs/${jobId}`, { token: session.access_token });
      expect(got.body.progress).toEqual({ phase: 'uploading', percent: 100 });

      // Push latency: the change's time (stamped where it happened) to its arrival here.
      const lat = socket.messages.filter((m) => !m.data.snapshot && m.data.at).map((m) => m.at - Date.parse(m.data.at));
      console.log(`push latency (state change → message), ${lat.length} messages: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${Math.max(...lat)} ms; in order: ${lat.join(' ')}`);
      expect(pct(lat, 50)).toBeLessThan(100);
    } finally {
      await socket.close();
    }
  }, 180_000);

  it('sends a new connection the state of every unfinished file first (a reconnect misses nothing)', async () => {
    const session = await newSession();
    // An upload asked for and never sent stays pending.
    const ticket = await api().call('POST', '/api/audio/upload', {
      token: session.access_token,
      body: { session_id: session.session_id, filename: 'later.wav', content_type: 'audio/wav', size: 1000 },
    });
    expect(ticket.status).toBe(201);
    const socket = await connect(session);
    try {
      const first = await socket.next(() => true, 10_000);
      expect(first).toMatchObject({ type: 'file.updated', snapshot: true, session_id: session.session_id, file_id: ticket.body.file_id, status: 'pending' });
      // Closed and opened again: the snapshot again.
      await socket.close();
      const again = await connect(session);
      try {
        expect(await again.next((m) => m.snapshot === true, 10_000)).toMatchObject({ file_id: ticket.body.file_id, status: 'pending' });
      } finally {
        await again.close();
      }
    } finally {
      await socket.close();
    }
  }, 60_000);

  it('refuses a missing, wrong or forged token at connect, and never sends one session’s changes to another', async () => {
    const a = await newSession();
    const b = await newSession();
    expect(await upgradeStatus(a.events_url)).toBe(401);
    expect(await upgradeStatus(`${a.events_url}?token=nonsense`)).toBe(403);
    // A's session id with B's secret.
    const forged = `${a.session_id}.${b.access_token.split('.')[1]}`;
    expect(await upgradeStatus(`${a.events_url}?token=${encodeURIComponent(forged)}`)).toBe(403);
    await expect(openSocket(`${a.events_url}?token=${encodeURIComponent(forged)}`)).rejects.toThrow(/refused/);

    const socketA = await connect(a);
    const socketB = await connect(b);
    try {
      const { file_id } = await api().upload(b, 'b.wav', 'audio/wav', sineWav({ seconds: 1 }));
      await socketB.next((m) => m.file_id === file_id && m.status === 'ready');
      const ownA = await api().upload(a, 'a.wav', 'audio/wav', sineWav({ seconds: 1 }));
      await socketA.next((m) => m.file_id === ownA.file_id && m.status === 'ready');
      expect(socketA.messages.every((m) => m.data.session_id === a.session_id)).toBe(true);
      expect(socketB.messages.every((m) => m.data.session_id === b.session_id)).toBe(true);
    } finally {
      await socketA.close();
      await socketB.close();
    }
  }, 60_000);

  it('answers a client message with Events::PushOnly (nothing sent is ignored in silence)', async () => {
    const session = await newSession();
    const socket: TestSocket = await connect(session);
    try {
      socket.ws.send(JSON.stringify({ action: 'subscribe' }));
      const reply = await socket.next((m) => m.type === 'error', 10_000);
      expect(reply.error.code).toBe('Events::PushOnly');
    } finally {
      await socket.close();
    }
  });

  it('forgets a connection whose client is gone (410 from the management API)', async () => {
    const session = await newSession();
    const stale = 'c3RhbGUtY29ubmVjdGlvbg==';
    await ctx.stack.clients.ddb.send(
      new PutItemCommand({
        TableName: CONNECTIONS.name,
        Item: { connection_id: { S: stale }, session_id: { S: session.session_id }, connected_at: { S: new Date(Date.now() - 60_000).toISOString() }, ttl_at: { N: String(Math.floor(Date.now() / 1000) + 3600) } },
      }),
    );
    const live = await connect(session);
    try {
      const { file_id } = await api().upload(session, 'x.wav', 'audio/wav', sineWav({ seconds: 1 }));
      await live.next((m) => m.file_id === file_id && m.status === 'ready');
      // The same fan-out tried the stale one, got 410 Gone and removed it.
      await api().waitFor(async () => {
        const item = await ctx.stack.clients.ddb.send(new GetItemCommand({ TableName: CONNECTIONS.name, Key: { connection_id: { S: stale } }, ConsistentRead: true }));
        return item.Item ? undefined : true;
      }, 'stale connection removed', 10_000);
    } finally {
      await live.close();
    }
  });
});

describe('live sessions: webhooks', () => {
  it('POSTs decided files and finished jobs to callback_url, signed with the session’s secret, retried after a failure with the same delivery id', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string; at: number }[] = [];
    let refuseFirst = true;
    const receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      // The first delivery fails (a receiver having a bad moment): it must come again.
      if (refuseFirst) {
        refuseFirst = false;
        res.writeHead(503).end();
      } else res.writeHead(204).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/david`;
      const created = await api().call('POST', '/api/audio/session', { body: { name: 'hooks', callback_url: url } });
      expect(created.status).toBe(201);
      const session = created.body as Session & { callback_secret: string; callback_url: string };
      expect(session.callback_url).toBe(url);
      expect(session.callback_secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      // The secret is shown once: never again in the session's view.
      const info = await api().call('GET', `/api/audio/${session.session_id}`, { token: session.access_token });
      expect(info.body.callback_url).toBe(url);
      expect(JSON.stringify(info.body)).not.toContain(session.callback_secret);

      const { file_id } = await api().upload(session, 'hook.wav', 'audio/wav', sineWav({ seconds: 1 }));
      await api().waitForFile(session, file_id);
      const job = await api().call('POST', `/api/audio/${session.session_id}/process`, { token: session.access_token, body: { file_id, effect: 'gain', parameters: { gainDb: -3 } } });
      await api().waitForJob(session, job.body.job_id);

      const bodies = () => received.map((r) => ({ ...r, json: JSON.parse(r.body) }));
      const jobHooks = await api().waitFor(async () => {
        const hits = bodies().filter((r) => r.json.job_id === job.body.job_id);
        return hits.length > 0 ? hits : undefined;
      }, 'the job webhook', 20_000);
      expect(jobHooks[0].json).toMatchObject({ type: 'job.updated', status: 'completed', session_id: session.session_id });
      const fileHooks = await api().waitFor(async () => {
        const hits = bodies().filter((r) => r.json.type === 'file.updated' && r.json.file_id === file_id && r.json.status === 'ready');
        return hits.length >= 2 ? hits : undefined;
      }, 'the file webhook again after its 503', 30_000);
      // The first POST (the file's) was refused, so it came again: same delivery id, attempt 2, ≥ 5 s later.
      const [first, second] = fileHooks;
      expect(second.headers['x-david-delivery']).toBe(first.headers['x-david-delivery']);
      expect(first.headers['x-david-attempt']).toBe('1');
      expect(second.headers['x-david-attempt']).toBe('2');
      expect(second.at - first.at).toBeGreaterThanOrEqual(4_500);
      for (const r of received) {
        // The signature, computed here with the secret the session was given: HMAC-SHA256 of the raw body.
        expect(r.headers['x-david-signature']).toBe(`sha256=${createHmac('sha256', session.callback_secret).update(r.body).digest('hex')}`);
        expect(r.headers['content-type']).toBe('application/json');
      }
      // Nothing but decided files and finished jobs: no progress, no pending, no queued.
      expect(bodies().every((r) => (r.json.type === 'file.updated' ? r.json.status !== 'pending' : ['completed', 'failed'].includes(r.json.status)))).toBe(true);
    } finally {
      receiver.close();
    }
  }, 90_000);

  it('refuses a callback_url on a private, link-local or non-https destination', async () => {
    for (const [url, why] of [
      ['http://10.1.2.3/hook', /https/],
      ['https://10.1.2.3/hook', /private/],
      ['https://169.254.169.254/latest/meta-data', /link-local/],
      ['https://[fd00::1]/hook', /private/],
      ['https://user:pw@example.com/hook', /credentials/],
      ['not a url', /absolute URL/],
    ] as const) {
      const res = await api().call('POST', '/api/audio/session', { body: { callback_url: url } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('Session::CallbackNotAllowed');
      expect(res.body.error.message).toMatch(why);
    }
  });
});
