// The I/O floor of a Node process, for the bench: copy IN to OUT through the process in 1 MiB reads and writes,
// changing nothing, the way the WAV reader and writer move bytes: the next read is started before the current piece
// is written, and one write is in flight at a time. No `david process` can be faster than this on the same file (it
// starts the same Node, reads the same bytes and writes as many), so a target below it is out of reach whatever
// the kernels do. (Until 2026-12-06 it read and wrote in turn, so a david process that overlaps them could beat it.)
//   node floor.mjs IN OUT
import { open } from 'node:fs/promises';

const [input, output] = process.argv.slice(2);
const src = await open(input, 'r');
const dst = await open(output, 'w');
const size = 1 << 20;
const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
let turn = 0;
let pos = 0;
const readNext = () => src.read(bufs[turn++ & 1], 0, size, null);
let next = readNext();
let writing = Promise.resolve();
for (;;) {
  const { bytesRead, buffer } = await next;
  if (bytesRead === 0) break;
  await writing; // the buffer the next read fills was last written by this write
  next = readNext();
  writing = dst.write(buffer, 0, bytesRead, pos);
  pos += bytesRead;
}
await writing;
await Promise.all([src.close(), dst.close()]);
