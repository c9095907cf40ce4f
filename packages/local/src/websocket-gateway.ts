import type { FunctionSpec } from '@david/core';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { invoke, type Handler } from './lambda-runtime.ts';

/** Where clients open the push channel on the API port (API Gateway's WebSocket stage in the cloud). */
export const EVENTS_PATH = '/events';

const STAGE = 'local';

/** API Gateway's connection ids: 12 random bytes, base64 (e.g. "L0SM9cOFvHcCIhw="). */
const newConnectionId = () => randomBytes(12).toString('base64');

function refuse(socket: Duplex, status: number, reason: string) {
  const body = JSON.stringify({ message: reason });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

export interface WebSocketGateway {
  /** The management endpoint (POST/GET/DELETE /@connections/{id}) the notifier's SDK client is pointed at. */
  readonly connectionsEndpoint: string;
  readonly open: () => number;
  close(): Promise<void>;
}

/**
 * API Gateway's WebSocket API on the local API port: an upgrade at EVENTS_PATH runs the function's $connect
 * authoriser (the `?token=`; none is a 401 without a call, as API Gateway's identity source does), then its $connect
 * route; the socket opens only when both allow it. Messages go to $default (its answer is sent back, as a two-way
 * route), a close to $disconnect. The management API the functions post through is a server of its own on loopback:
 * posting to a connection that is not open is 410 GoneException; one still opening is held until it opens.
 */
export async function attachWebSockets(
  server: Server,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- events cross a process boundary as data
  handler: Handler<any, any>,
  fn: FunctionSpec,
  onError: (where: string, err: unknown) => void,
): Promise<WebSocketGateway> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024 });
  const open = new Map<string, WebSocket>();
  const opening = new Map<string, string[]>();
  const call = (event: object) => invoke('david-sockets', fn, handler, event);

  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) return refuse(socket, 404, 'Not Found');
    const token = url.searchParams.get('token');
    if (!token) return refuse(socket, 401, 'Unauthorized');
    const connectionId = newConnectionId();
    const query = Object.fromEntries(url.searchParams);
    const requestContext = { routeKey: '$connect', eventType: 'CONNECT', connectionId, stage: STAGE, apiId: 'local', domainName: req.headers.host ?? 'localhost', requestTimeEpoch: Date.now() };
    try {
      const auth = (await call({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:000000000000:local/${STAGE}/$connect`,
        headers: headersOf(req),
        queryStringParameters: query,
        requestContext,
      })) as APIGatewayAuthorizerResult;
      const allowed = auth?.policyDocument?.Statement?.every((s) => s.Effect === 'Allow') && auth.policyDocument.Statement.length > 0;
      if (!allowed) return refuse(socket, 403, 'Forbidden');
      opening.set(connectionId, []);
      const connected = (await call({ requestContext: { ...requestContext, authorizer: { principalId: auth.principalId, ...auth.context } }, queryStringParameters: query, headers: headersOf(req), isBase64Encoded: false })) as { statusCode?: number };
      if (connected?.statusCode !== 200) {
        opening.delete(connectionId);
        return refuse(socket, connected?.statusCode && connected.statusCode >= 400 ? connected.statusCode : 500, 'Connect refused');
      }
      const authorizer = { principalId: auth.principalId, ...auth.context };
      wss.handleUpgrade(req, socket, head, (ws) => {
        const held = opening.get(connectionId) ?? [];
        opening.delete(connectionId);
        open.set(connectionId, ws);
        for (const m of held) ws.send(m);
        ws.on('message', (data) => {
          void call({ requestContext: { ...requestContext, routeKey: '$default', eventType: 'MESSAGE', authorizer }, body: data.toString(), isBase64Encoded: false })
            .then((r: { body?: string }) => {
              if (r?.body && ws.readyState === ws.OPEN) ws.send(r.body);
            })
            .catch((err) => onError('sockets $default', err));
        });
        ws.on('close', () => {
          open.delete(connectionId);
          void call({ requestContext: { ...requestContext, routeKey: '$disconnect', eventType: 'DISCONNECT', authorizer } }).catch((err) => onError('sockets $disconnect', err));
        });
      });
    } catch (err) {
      opening.delete(connectionId);
      onError('sockets $connect', err);
      refuse(socket, 500, 'Internal Server Error');
    }
  });

  const gone = (res: import('node:http').ServerResponse) => {
    res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
    res.end(JSON.stringify({ message: 'the connection is gone' }));
  };
  const management = createServer(async (req, res) => {
    const match = /^\/@connections\/([^/?]+)/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: 'no such route' }));
    }
    const id = decodeURIComponent(match[1]);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const ws = open.get(id);
    if (req.method === 'POST') {
      const data = Buffer.concat(chunks).toString('utf8');
      if (ws && ws.readyState === ws.OPEN) ws.send(data);
      else if (opening.has(id)) opening.get(id)!.push(data);
      else return gone(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{}');
    }
    if (!ws) return gone(res);
    if (req.method === 'DELETE') {
      ws.close(1000, 'closed by the service');
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ connectedAt: new Date().toISOString(), identity: { sourceIp: '127.0.0.1' } }));
  });
  await new Promise<void>((resolve, reject) => {
    management.once('error', reject);
    management.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    connectionsEndpoint: `http://127.0.0.1:${(management.address() as AddressInfo).port}`,
    open: () => open.size,
    async close() {
      // Going away (1001); a client that does not answer the close within a second is cut.
      await Promise.all(
        [...open.values()].map(
          (ws) =>
            new Promise<void>((resolve) => {
              const cut = setTimeout(() => ws.terminate(), 1000);
              ws.once('close', () => {
                clearTimeout(cut);
                resolve();
              });
              ws.close(1001, 'the stack is stopping');
            }),
        ),
      );
      wss.close();
      await new Promise<void>((resolve) => management.close(() => resolve()));
    },
  };
}
