import { startLocalStack } from '@david/local';
import { ApiClient } from './test/helpers/client.ts';
import { sineWav } from './test/helpers/audio.ts';
const stack = await startLocalStack({ dataDir: '/tmp/dbg-rt', port: 0, deliveryPort: 0, logLevel: 'WARN', onError: (w, e) => console.log('onError', w, String((e as Error)?.stack ?? e).slice(0, 600)) });
const api = new ApiClient(stack.apiUrl);
const s = await api.createSession('x');
const { file_id } = await api.upload(s, 'a.wav', 'audio/wav', sineWav({ seconds: 1 }));
await api.waitForFile(s, file_id);
for (let i = 0; i < 6; i++) {
  const j = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
  const d = await api.waitForJob(s, j.body.job_id);
  console.log(d.status, d.attempts);
}
await stack.stop();
