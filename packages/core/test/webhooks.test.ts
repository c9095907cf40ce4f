import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressRefusal, callbackUrlRefusal } from '../src/domain/callback-url.ts';
import { NodeWebhookSender } from '../src/adapters/webhook-sender.ts';
import { CallbackRefusedError, deliverWebhook, retryDelaySeconds, WEBHOOK_RETRY, type WebhookDelivery } from '../src/use-cases/webhooks.ts';
import type { Session } from '../src/domain/types.ts';

const cloud = { allowLoopback: false };
const local = { allowLoopback: true };

describe('where webhooks may go', () => {
  it('classifies addresses as RFC 1918/6598/3927/4193 and friends say', () => {
    const refused: [string, string][] = [
      ['10.0.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['0.0.0.0', 'reserved'],
      ['224.0.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'reserved'],
      ['fd12:3456::1', 'private'],
      ['fe80::1', 'link-local'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['ff02::1', 'reserved'],
    ];
    for (const [a, kind] of refused) expect(addressRefusal(a, cloud), a).toBe(kind);
    for (const a of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '52.95.110.1']) expect(addressRefusal(a, cloud), a).toBeNull();
    // Locally, loopback and nothing else is let through.
    expect(addressRefusal('127.0.0.1', local)).toBeNull();
    expect(addressRefusal('::1', local)).toBeNull();
    expect(addressRefusal('10.0.0.1', local)).toBe('private');
  });

  it('checks the URL itself before it is stored', () => {
    expect(callbackUrlRefusal('https://hooks.example.com/david', cloud)).toBeNull();
    expect(callbackUrlRefusal('http://hooks.example.com/david', cloud)).toMatch(/https/);
    expect(callbackUrlRefusal('https://localhost/x', cloud)).toMatch(/loopback/);
    expect(callbackUrlRefusal('https://127.0.0.1/x', cloud)).toMatch(/loopback/);
    expect(callbackUrlRefusal('http://127.0.0.1:9000/x', local)).toBeNull();
    expect(callbackUrlRefusal('http://localhost:9000/x', local)).toBeNull();
    expect(callbackUrlRefusal('http://10.0.0.1/x', local)).toMatch(/https/);
    expect(callbackUrlRefusal('ftp://example.com/x', cloud)).toMatch(/https/);
  });

  it('refuses a host that resolves to a private address at send time, and connects to the address it checked', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.headers.host ?? '');
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      // A public-looking name whose DNS answers with the metadata service (or a rebinding trick).
      const evil = new NodeWebhookSender(cloud, async () => [{ address: '169.254.169.254', family: 4 }]);
      await expect(evil.post('https://hooks.example.com/x', '{}', {})).rejects.toBeInstanceOf(CallbackRefusedError);
      const mixed = new NodeWebhookSender(cloud, async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]);
      await expect(mixed.post('https://hooks.example.com/x', '{}', {})).rejects.toThrow(/10\.0\.0\.7/);
      // Locally a name resolving to loopback is allowed, and the connection goes to the checked address.
      const ok = new NodeWebhookSender(local, async () => [{ address: '127.0.0.1', family: 4 }]);
      expect(await ok.post(`http://receiver.localhost:${port}/x`, '{}', {})).toEqual({ status: 200 });
      expect(hits).toEqual([`receiver.localhost:${port}`]);
    } finally {
      server.close();
    }
  });
});

describe('delivering a webhook', () => {
  const session: Session = { session_id: 'ses_1', name: 's', created_at: '2026-01-01T00:00:00Z', token_hash: 'x', callback_url: 'https://hooks.example.com/x', callback_secret: 'whsec_k' };
  const delivery: WebhookDelivery = { delivery_id: 'dlv_1', session_id: 'ses_1', type: 'job.updated', body: '{"a":1}', attempt: 1, first_at: '2026-01-01T00:00:00Z' };

  function harness(status: number | Error, nowIso: string, s: Session | null = session) {
    const scheduled: { d: WebhookDelivery; delay: number }[] = [];
    const sent: Record<string, string>[] = [];
    const deps = {
      sessions: { get: async () => s },
      sender: {
        post: async (_u: string, _b: string, h: Record<string, string>) => {
          sent.push(h);
          if (status instanceof Error) throw status;
          return { status };
        },
      },
      queue: { schedule: async (d: WebhookDelivery, delay: number) => void scheduled.push({ d, delay }) },
      clock: { now: () => new Date(nowIso) },
    };
    return { deps, scheduled, sent };
  }

  it('backs off 5 s, 15 s, 45 s … up to 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelaySeconds)).toEqual([5, 15, 45, 135, 405, 900, 900, 900]);
  });

  it('queues the next attempt on a failure, and gives up after a day, on 410, or when the session is gone', async () => {
    const failing = harness(500, '2026-01-01T01:00:00Z');
    expect(await deliverWebhook(failing.deps, { ...delivery, attempt: 3 })).toMatchObject({ outcome: 'retrying', status: 500, delaySeconds: 45 });
    expect(failing.scheduled).toEqual([{ d: { ...delivery, attempt: 4 }, delay: 45 }]);
    expect(failing.sent[0]['x-david-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const network = harness(new Error('ECONNREFUSED'), '2026-01-01T01:00:00Z');
    expect(await deliverWebhook(network.deps, delivery)).toMatchObject({ outcome: 'retrying', error: 'ECONNREFUSED' });

    const late = harness(500, new Date(Date.parse(delivery.first_at) + WEBHOOK_RETRY.forSeconds * 1000 - 60_000).toISOString());
    expect(await deliverWebhook(late.deps, { ...delivery, attempt: 40 })).toMatchObject({ outcome: 'given-up' });
    expect(late.scheduled).toEqual([]);

    expect(await deliverWebhook(harness(410, '2026-01-01T01:00:00Z').deps, delivery)).toMatchObject({ outcome: 'given-up' });
    const gone = harness(200, '2026-01-01T01:00:00Z', null);
    expect(await deliverWebhook(gone.deps, delivery)).toMatchObject({ outcome: 'given-up' });
    expect(gone.sent).toEqual([]);
    expect(await deliverWebhook(harness(204, '2026-01-01T01:00:00Z').deps, delivery)).toEqual({ outcome: 'delivered', status: 204 });
  });
});
