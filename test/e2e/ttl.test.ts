import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  authorize,
  DynamoFileRepository,
  DynamoJobRepository,
  DynamoSessionRepository,
  expireSessions,
  TABLE,
  type Deps,
} from '@david/core';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('ttl');
const WEEK = 7 * 86_400;

async function scan(db: DynamoDBDocumentClient) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: TABLE.name, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

describe('DynamoDB TTL as the backstop of the sweeper', () => {
  it('is written on every item, a week after the moment it stops mattering, and follows a session that is used on', async () => {
    const api = new ApiClient(ctx.stack.apiUrl);
    const db = DynamoDBDocumentClient.from(ctx.stack.clients.ddb);
    const s = await api.createSession('ttl');
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    await api.waitForFile(s, file_id);
    // A file that is never sent (pending: it has a watch), an idempotent job request, a job.
    await api.call('POST', '/api/audio/upload', { token: s.access_token, body: { session_id: s.session_id, filename: 'never.wav', content_type: 'audio/wav', size: 100 } });
    const res = await fetch(`${ctx.stack.apiUrl}/api/audio/${s.session_id}/process`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.access_token}`, 'content-type': 'application/json', 'idempotency-key': 'ttl-1' },
      body: JSON.stringify({ file_id, effect: 'gain' }),
    });
    const job = (await res.json()) as { job_id: string };
    await api.waitForJob(s, job.job_id);

    const items = await scan(db);
    const session = items.find((i) => i.pk === `SES#${s.session_id}` && i.sk === 'META')!;
    const expiresAt = session.expires_at as number;
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    const mine = items.filter((i) => i.pk === `SES#${s.session_id}`);
    expect(mine.map((i) => String(i.sk).split('#')[0]).sort()).toEqual(['FILE', 'FILE', 'IDEM', 'JOB', 'META']);
    for (const item of mine) expect(item.ttl_at, String(item.sk)).toBe(expiresAt + WEEK);
    // Watches: the pending upload a week after it is due, the session's expiry a week after it expires.
    const pending = items.filter((i) => i.pk === 'PENDING');
    expect(pending).toHaveLength(1);
    expect(pending[0].ttl_at).toBe(Math.floor(Date.parse(pending[0].due_at as string) / 1000) + WEEK);
    const watch = items.find((i) => i.pk === 'EXPIRY' && i.session_id === s.session_id)!;
    expect(watch.ttl_at).toBe(expiresAt + WEEK);
    // Every item but the index pointer (global, not user data) has one.
    for (const item of items) if (!String(item.pk).startsWith('INDEX#')) expect(typeof item.ttl_at, `${item.pk} ${item.sk}`).toBe('number');

    // The session is used two hours later (its expiry moves on); when its first watch comes due, the sweep keeps
    // the session and moves every item's TTL to the new expiry.
    const at = (seconds: number) => ({ now: () => new Date(seconds * 1000) });
    const repos = {
      sessions: new DynamoSessionRepository(db, TABLE.name),
      files: new DynamoFileRepository(db, TABLE.name),
      jobs: new DynamoJobRepository(db, TABLE.name),
    };
    const later = Math.floor(Date.now() / 1000) + 7200;
    const used = await authorize({ ...repos, clock: at(later) }, s.session_id, s.access_token);
    expect(used.expires_at).toBeGreaterThan(expiresAt);
    const swept = await expireSessions({ ...repos, clock: at(expiresAt + 1) } as unknown as Deps);
    expect(swept).toEqual({ expired: 0, renewed: 1, dropped: 0 });
    const watches = (await scan(db)).filter((i) => i.pk === 'EXPIRY' && i.session_id === s.session_id);
    expect(watches.map((w) => w.expires_at)).toEqual([used.expires_at]);
    const after = (await scan(db)).filter((i) => i.pk === `SES#${s.session_id}`);
    expect(after).toHaveLength(mine.length);
    for (const item of after) expect(item.ttl_at, String(item.sk)).toBe(used.expires_at! + WEEK);
    expect((await api.call('GET', `/api/audio/${s.session_id}`, { token: s.access_token })).status).toBe(200);
  });
});
