export type ContainerFormat = 'wav' | 'mp3' | 'flac' | 'ogg' | 'opus' | 'm4a' | 'aac';

const ascii = (b: Uint8Array, at: number, s: string) => {
  if (b.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
};

/**
 * What the first bytes say a file is (magic numbers), or null. Text (playlists, HTML, JSON) never matches,
 * so it is refused before ffmpeg — which would otherwise follow a playlist's URLs.
 */
export function sniffFormat(head: Uint8Array): ContainerFormat | null {
  if ((ascii(head, 0, 'RIFF') || ascii(head, 0, 'RF64')) && ascii(head, 8, 'WAVE')) return 'wav';
  if (ascii(head, 0, 'fLaC')) return 'flac';
  if (ascii(head, 0, 'OggS')) return ascii(head, 28, 'OpusHead') ? 'opus' : 'ogg';
  if (ascii(head, 4, 'ftyp')) return 'm4a';
  if (ascii(head, 0, 'ID3')) {
    // An ID3v2 tag; look behind it for what follows.
    if (head.length >= 10) {
      const size = ((head[6] & 0x7f) << 21) | ((head[7] & 0x7f) << 14) | ((head[8] & 0x7f) << 7) | (head[9] & 0x7f);
      const after = 10 + size + (head[5] & 0x10 ? 10 : 0);
      if (after + 4 <= head.length) {
        if (ascii(head, after, 'fLaC')) return 'flac';
        if (head[after] === 0xff && (head[after + 1] & 0xf6) === 0xf0) return 'aac';
      }
    }
    return 'mp3';
  }
  if (head.length >= 4 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0) {
    const layer = (head[1] >> 1) & 3;
    if (layer === 0) return (head[1] & 0xf6) === 0xf0 ? 'aac' : null; // ADTS
    const version = (head[1] >> 3) & 3;
    const bitrate = head[2] >> 4;
    const rate = (head[2] >> 2) & 3;
    if (version !== 1 && bitrate !== 0 && bitrate !== 15 && rate !== 3) return 'mp3';
  }
  return null;
}

const EXTENSIONS: Record<string, ContainerFormat> = {
  '.wav': 'wav',
  '.wave': 'wav',
  '.mp3': 'mp3',
  '.flac': 'flac',
  '.ogg': 'ogg',
  '.oga': 'ogg',
  '.opus': 'opus',
  '.m4a': 'm4a',
  '.mp4': 'm4a',
  '.aac': 'aac',
};

export function formatFromPath(path: string): ContainerFormat | null {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? null : (EXTENSIONS[path.slice(dot).toLowerCase()] ?? null);
}

/** ffmpeg demuxer forced per sniffed format, so ffmpeg never guesses (no hls/concat/playlist demuxers). */
export const DEMUXER: Record<ContainerFormat, string> = {
  wav: 'wav',
  mp3: 'mp3',
  flac: 'flac',
  ogg: 'ogg',
  opus: 'ogg',
  m4a: 'mov',
  aac: 'aac',
};

/** ffmpeg muxer and codec arguments per output format. */
export const MUXER: Record<ContainerFormat, { format: string; codec: string[]; bitrateKbps?: number }> = {
  wav: { format: 'wav', codec: ['-c:a', 'pcm_s16le'] },
  mp3: { format: 'mp3', codec: ['-c:a', 'libmp3lame'], bitrateKbps: 192 },
  flac: { format: 'flac', codec: ['-c:a', 'flac'] },
  ogg: { format: 'ogg', codec: ['-c:a', 'libvorbis'], bitrateKbps: 192 },
  opus: { format: 'ogg', codec: ['-c:a', 'libopus'], bitrateKbps: 128 },
  m4a: { format: 'ipod', codec: ['-c:a', 'aac'], bitrateKbps: 192 },
  aac: { format: 'adts', codec: ['-c:a', 'aac'], bitrateKbps: 192 },
};
