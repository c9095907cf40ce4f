import { crc32 } from 'node:zlib';
import { CorruptIndexError } from './errors.ts';
import type { IndexChange } from './file-index.ts';

/**
 * A journal segment: one batch of changes, as lines `<crc32 hex> <json>`. Segments are immutable objects;
 * the committed pointer lists which ones follow its snapshot.
 */
export function encodeJournal(changes: readonly IndexChange[]): Uint8Array {
  const lines = changes.map((c) => {
    const json = JSON.stringify(c);
    return `${crc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
  });
  return Buffer.from(lines.join(''));
}

export function decodeJournal(bytes: Uint8Array): IndexChange[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new CorruptIndexError('Index::CorruptJournal', 'journal segment is truncated');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const json = line.slice(9);
      if (line[8] !== ' ' || crc32(Buffer.from(json)).toString(16).padStart(8, '0') !== line.slice(0, 8)) {
        throw new CorruptIndexError('Index::CorruptJournal', `journal line ${i + 1} fails its checksum`);
      }
      return JSON.parse(json) as IndexChange;
    });
}
