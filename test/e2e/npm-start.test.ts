import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { freePorts } from '../helpers/ports.ts';

const REPO = join(import.meta.dirname, '..', '..');


/** `npm start` in its own process group, as a terminal runs it; resolves once it serves. */
async function startNpm(dir: string, [port, delivery, s3, sqs, ddb]: number[]) {
  const proc = spawn('npm', ['start', '--silent'], {
    cwd: REPO,
    env: { ...process.env, PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}`, PORT: String(port), DELIVERY_PORT: String(delivery), S3_PORT: String(s3), SQS_PORT: String(sqs), DYNAMODB_PORT: String(ddb), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the test can always remove all of it
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const stopped = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (out.includes('stopped cleanly')) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  for (let i = 0; i < 300 && !out.includes('David is running'); i++) await new Promise((r) => setTimeout(r, 100));
  if (!out.includes('David is running')) throw new Error(`npm start did not start: ${out}`);
  return {
    proc,
    stopped,
    output: () => out,
    kill: () => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops cleanly when npm alone is sent %s', { timeout: 60_000 }, async (signal) => {
    const dir = await mkdtemp(join(tmpdir(), 'david-npm-start-'));
    const ports = await freePorts(5);
    const npm = await startNpm(dir, ports);
    try {
      expect((await fetch(`http://127.0.0.1:${ports[0]}/health`)).status).toBe(200);
      // It prints the studio's URL, and serves it there.
      expect(npm.output()).toMatch(new RegExp(`Studio +http://[^ ]+:${ports[0]}/ `));
      const page = await fetch(`http://127.0.0.1:${ports[0]}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await page.text()).toContain('data-testid="upload-input"');
      npm.proc.kill(signal); // to npm alone (it passes it on to the script, which execs node)
      await Promise.race([npm.stopped, new Promise((r) => setTimeout(r, 20_000))]);
      expect(npm.output()).toContain('stopped cleanly');
      await expect(fetch(`http://127.0.0.1:${ports[0]}/health`)).rejects.toThrow();
    } finally {
      npm.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finishes a job in flight when the terminal sends Ctrl-C to the whole process group (ffmpeg included)', { timeout: 90_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'david-ctrl-c-'));
    const ports = await freePorts(5);
    const start = () => startNpm(dir, ports);
    let npm = await start();
    try {
      const api = new ApiClient(`http://127.0.0.1:${ports[0]}`);
      const s = await api.createSession('ctrl-c');
      const { file_id } = await api.upload(s, 'long.wav', 'audio/wav', sineWav({ seconds: 90 }));
      expect((await api.waitForFile(s, file_id)).status).toBe('ready');
      const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'reverb', output_format: 'mp3' } });
      await api.waitFor(async () => ((await api.call('GET', `/api/audio/${s.session_id}/jobs/${job.body.job_id}`, { token: s.access_token })).body.status === 'processing' ? true : undefined), 'the job to start', 20_000);
      process.kill(-npm.proc.pid!, 'SIGINT'); // what a terminal's Ctrl-C does: every process of the foreground group
      await npm.stopped;
      expect(npm.output()).not.toContain('forced exit'); // the copy npm passes on is not a second Ctrl-C
      npm = await start();
      const done = await api.waitForJob(s, job.body.job_id);
      expect(done).toMatchObject({ status: 'completed', attempts: 1 }); // finished before the stop, not redone after
    } finally {
      npm.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
