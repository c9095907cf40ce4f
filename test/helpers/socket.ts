/** A WebSocket client as a browser would open it (Node's global WebSocket), collecting every message with its arrival time. */
export interface Received {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
  readonly at: number;
}

export interface TestSocket {
  readonly ws: WebSocket;
  readonly messages: Received[];
  /** Resolves with the first message (already received or to come) that matches. */
  next(match: (m: Received['data']) => boolean, timeoutMs?: number): Promise<Received['data']>;
  close(): Promise<void>;
}

/** Open `url`; resolves when it is open, rejects with the HTTP status text when the upgrade is refused. */
export async function openSocket(url: string): Promise<TestSocket> {
  const ws = new WebSocket(url);
  const messages: Received[] = [];
  const waiters: { match: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];
  ws.addEventListener('message', (e) => {
    const data = JSON.parse(String(e.data));
    messages.push({ data, at: Date.now() });
    for (const w of [...waiters]) {
      if (w.match(data)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(data);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', (e) => reject(new Error(`socket refused: ${(e as Event & { message?: string }).message ?? 'error'}`)), { once: true });
  });
  return {
    ws,
    messages,
    next(match, timeoutMs = 30_000) {
      const found = messages.find((m) => match(m.data));
      if (found) return Promise.resolve(found.data);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.data)).slice(0, 2000)}`)), timeoutMs);
        waiters.push({
          match: match as (m: unknown) => boolean,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.addEventListener('close', () => resolve(), { once: true });
        ws.close();
      }),
  };
}
