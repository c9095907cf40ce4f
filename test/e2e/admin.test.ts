import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';

const OPERATOR_KEY = 'operator-secret-for-tests';
let stack: LocalStack;
let api: ApiClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-admin-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', operatorKey: OPERATOR_KEY, onError: () => undefined });
  api = new ApiClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function adminList(query = '', key = OPERATOR_KEY) {
  const res = await fetch(`${stack.apiUrl}/api/admin/files${query}`, { headers: { 'x-operator-key': key } });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
}

describe('the operator listing', () => {
  it('lists every session’s files by time with the operator key only, and drops a deleted session', async () => {
    const a = await api.createSession('A');
    const b = await api.createSession('B');
    for (const s of [a, b, a]) {
      const { file_id } = await api.upload(s, 'x.wav', 'audio/wav', sineWav({ seconds: 0.1 }));
      await api.waitForFile(s, file_id);
    }
    const all = await api.waitFor(async () => {
      const r = await adminList('?limit=100');
      return r.body.total === 3 ? r.body : undefined;
    }, 'the index to list three files');
    expect(all.items.map((e: { session_id: string }) => e.session_id)).toEqual([a.session_id, b.session_id, a.session_id]);
    const newest = await adminList('?order=desc&limit=1');
    expect(newest.body.items[0].session_id).toBe(a.session_id);
    const bounded = await adminList(`?after=${encodeURIComponent(all.items[1].uploaded_at)}`);
    expect(bounded.body.total).toBe(2);

    expect((await adminList('', 'wrong-key')).status).toBe(403);
    expect((await adminList('', 'wrong-key')).body.error.code).toBe('Admin::Forbidden');
    expect((await fetch(`${stack.apiUrl}/api/admin/files`)).status).toBe(403);

    expect((await api.call('DELETE', `/api/audio/${a.session_id}`, { token: a.access_token })).status).toBe(204);
    const after = await api.waitFor(async () => {
      const r = await adminList();
      return r.body.total === 1 ? r.body : undefined;
    }, 'the index to remove the deleted session');
    expect(after.items[0].session_id).toBe(b.session_id);
  });
});
