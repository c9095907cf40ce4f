import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultRule = (req: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }) => 'pass' | { status: number; body: string; headers?: Record<string, string> } | { delayMs: number };

/**
 * An HTTP proxy in front of an emulator that fails or delays the calls a rule picks (500, 503, throttling,
 * timeouts) and passes the rest on unchanged: the SDK and the emulator stay real, only the network between them fails.
 */
export async function startFaultProxy(target: string, rule: FaultRule): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const verdict = rule({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
    if (verdict !== 'pass' && 'status' in verdict) {
      res.writeHead(verdict.status, { 'content-type': 'application/x-amz-json-1.0', ...verdict.headers });
      return res.end(verdict.body);
    }
    if (verdict !== 'pass') await new Promise((r) => setTimeout(r, verdict.delayMs));
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
