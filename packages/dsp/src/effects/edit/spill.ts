import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AudioBlock } from '../../types.ts';

/**
 * Interleaved float32 frames spilled to a file in the effect's temp directory, so whole-stream effects hold
 * only a fixed-size chunk in memory. Read back forwards or backwards in chunks.
 */
export class FrameSpill {
  private fh: FileHandle | null = null;
  private dir = '';
  frames = 0;
  private constructor(readonly channels: number) {}

  static async create(tempDir: string, channels: number): Promise<FrameSpill> {
    const s = new FrameSpill(channels);
    s.dir = await mkdtemp(join(tempDir, 'spill-'));
    s.fh = await open(join(s.dir, 'frames.f32'), 'w+');
    return s;
  }

  /** Interleaving buffer, reused: each append's write finishes before the next append fills it. */
  private scratch = new Float32Array(0);
  private bytes = new Uint8Array(0);

  async append(block: AudioBlock): Promise<void> {
    const n = block[0]?.length ?? 0;
    if (n === 0) return;
    const ch = this.channels;
    if (this.scratch.length < n * ch) this.scratch = new Float32Array(n * ch);
    const buf = this.scratch.subarray(0, n * ch);
    for (let c = 0; c < ch; c++) {
      const src = block[c];
      for (let i = 0, j = c; i < n; i++, j += ch) buf[j] = src[i];
    }
    await this.fh!.write(new Uint8Array(buf.buffer, 0, buf.byteLength), 0, buf.byteLength, this.frames * ch * 4);
    this.frames += n;
  }

  /** Frames [start, start + count) as a planar block: into views of `into` when it is long enough, else new arrays. */
  async read(start: number, count: number, into?: AudioBlock): Promise<AudioBlock> {
    const ch = this.channels;
    if (this.bytes.length < count * ch * 4) this.bytes = new Uint8Array(count * ch * 4);
    const bytes = this.bytes.subarray(0, count * ch * 4);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await this.fh!.read(bytes, got, bytes.length - got, start * ch * 4 + got);
      if (bytesRead === 0) throw new Error('spill file ended early');
      got += bytesRead;
    }
    const inter = new Float32Array(bytes.buffer, 0, count * ch);
    return Array.from({ length: ch }, (_, c) => {
      const out = into && into[c].length >= count ? into[c].subarray(0, count) : new Float32Array(count);
      for (let i = 0, j = c; i < count; i++, j += ch) out[i] = inter[j];
      return out;
    });
  }

  async dispose(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
