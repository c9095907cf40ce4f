import { createServer } from 'node:net';

/**
 * Free ports for a child process to bind, chosen below the kernel's ephemeral range (32768 and up on Linux), so no
 * other process binding port 0 meanwhile can be handed one of them between our check and the child's bind.
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(candidate)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(candidate, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) ports.push(candidate);
  }
  return ports;
}
