import { startLocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';

describe('stopping the local stack', () => {
  it('lets a request in flight (a long poll) finish instead of cutting it, then stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'david-shutdown-'));
    try {
      const stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
      const api = new ApiClient(stack.apiUrl);
      const s = await api.createSession('shutdown');
      const req = await api.call('POST', '/api/audio/upload', { token: s.access_token, body: { session_id: s.session_id, filename: 'a.wav', content_type: 'audio/wav', size: 100 } });
      const t0 = Date.now();
      const poll = api.call('GET', `/api/audio/${s.session_id}/files/${req.body.file_id}?wait=2`, { token: s.access_token });
      await new Promise((r) => setTimeout(r, 300));
      const stopped = stack.stop();
      const answer = await poll;
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe('pending');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900); // it waited its full 2 s
      // The answer's connection stays open for the next request (keep-alive): the stop closes it once idle
      // instead of waiting for its drain limit (25 s).
      const answered = Date.now();
      await stopped;
      expect(Date.now() - answered).toBeLessThan(5000);
      await expect(fetch(`${stack.apiUrl}/health`)).rejects.toThrow(); // and nothing new is taken
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
