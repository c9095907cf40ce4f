import type { Server } from 'node:http';

/**
 * Idle keep-alive connections are closed by the client, not the server: Node closes an idle one after 6 s by default
 * (5 s and a second of grace), and a client that sends its next request on it just then gets "other side closed" on
 * a busy machine, where the two timers drift (the load run died of it). Load balancers keep idle connections for a
 * minute for the same reason (AWS advises a server timeout above the load balancer’s).
 */
export const IDLE_KEEP_ALIVE_MS = 65_000;

export function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  server.headersTimeout = IDLE_KEEP_ALIVE_MS + 1000;
}
