// The I/O floor of a Node process, for the bench: copy IN to OUT through the process in 1 MiB reads and writes,
// changing nothing. No `david process` can be faster than this on the same file (it starts the same Node, reads the
// same bytes and writes as many), so a target below it is out of reach whatever the kernels do.
//   node floor.mjs IN OUT
import { open } from 'node:fs/promises';

const [input, output] = process.argv.slice(2);
const src = await open(input, 'r');
const dst = await open(output, 'w');
const buf = Buffer.allocUnsafe(1 << 20);
for (;;) {
  const { bytesRead } = await src.read(buf, 0, buf.length, null);
  if (bytesRead === 0) break;
  await dst.write(buf, 0, bytesRead);
}
await Promise.all([src.close(), dst.close()]);
