import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

describe('npm start', () => {
  it('stops cleanly when npm is sent SIGTERM (npm itself does not pass it on)', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'david-npm-start-'));
    const [port, delivery, s3, sqs, ddb] = await freePorts(5);
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: REPO,
      env: { ...process.env, PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}`, PORT: String(port), DELIVERY_PORT: String(delivery), S3_PORT: String(s3), SQS_PORT: String(sqs), DYNAMODB_PORT: String(ddb), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the test can always remove all of it
    });
    let out = '';
    npm.stdout!.on('data', (d) => (out += d));
    npm.stderr!.on('data', (d) => (out += d));
    try {
      for (let i = 0; i < 300 && !out.includes('David is running'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('David is running');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      npm.kill('SIGTERM');
      for (let i = 0; i < 200 && !out.includes('stopped cleanly'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('stopped cleanly');
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
