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

/**
 * The one registry of audio formats: file extensions, content types, ffmpeg demuxer (forced per sniffed format, so
 * ffmpeg never guesses: no hls/concat/playlist demuxers) and muxer. The API, ingest, the CLI and every message read it.
 */
export const FORMATS = {
  wav: {
    extensions: ['.wav', '.wave'],
    contentTypes: ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'],
    demuxer: 'wav',
    muxer: { format: 'wav', codec: ['-c:a', 'pcm_s16le'] },
  },
  mp3: {
    extensions: ['.mp3'],
    contentTypes: ['audio/mpeg', 'audio/mp3'],
    demuxer: 'mp3',
    muxer: { format: 'mp3', codec: ['-c:a', 'libmp3lame'], bitrateKbps: 192, maxChannels: 2 },
  },
  flac: {
    extensions: ['.flac'],
    contentTypes: ['audio/flac', 'audio/x-flac'],
    demuxer: 'flac',
    muxer: { format: 'flac', codec: ['-c:a', 'flac'] },
  },
  ogg: {
    extensions: ['.ogg', '.oga'],
    contentTypes: ['audio/ogg', 'application/ogg', 'audio/vorbis'],
    demuxer: 'ogg',
    muxer: { format: 'ogg', codec: ['-c:a', 'libvorbis'], bitrateKbps: 192 },
  },
  opus: {
    extensions: ['.opus'],
    contentTypes: ['audio/ogg', 'audio/opus'],
    demuxer: 'ogg',
    muxer: { format: 'ogg', codec: ['-c:a', 'libopus'], bitrateKbps: 128 },
  },
  m4a: {
    extensions: ['.m4a', '.mp4'],
    contentTypes: ['audio/mp4', 'audio/x-m4a', 'audio/m4a'],
    demuxer: 'mov',
    muxer: { format: 'ipod', codec: ['-c:a', 'aac'], bitrateKbps: 192 },
  },
  aac: {
    extensions: ['.aac'],
    contentTypes: ['audio/aac', 'audio/x-aac', 'audio/aacp'],
    demuxer: 'aac',
    muxer: { format: 'adts', codec: ['-c:a', 'aac'], bitrateKbps: 192 },
  },
} as const satisfies Record<string, FormatSpec>;

export interface FormatSpec {
  /** Lower-case, with the dot; the first is the one outputs are named with. */
  readonly extensions: readonly string[];
  /** Content types an upload may declare; the first is the one outputs are stored under. */
  readonly contentTypes: readonly string[];
  readonly demuxer: string;
  /** `maxChannels`: the most the codec holds (MP3: 2); more are downmixed by ffmpeg's matrix, and the encode says so. */
  readonly muxer: { readonly format: string; readonly codec: readonly string[]; readonly bitrateKbps?: number; readonly maxChannels?: number };
}

export type ContainerFormat = keyof typeof FORMATS;
export const FORMAT_IDS = Object.keys(FORMATS) as ContainerFormat[];

/** Own-property lookup: `__proto__`, `constructor` or `toString` are just unknown formats. */
export function isFormat(id: unknown): id is ContainerFormat {
  return typeof id === 'string' && Object.hasOwn(FORMATS, id);
}

const BY_EXTENSION = new Map<string, ContainerFormat>(FORMAT_IDS.flatMap((f) => FORMATS[f].extensions.map((e) => [e, f] as const)));
/** Every extension we read and write, e.g. for messages: `.wav, .wave, .mp3, …`. */
export const EXTENSIONS = [...BY_EXTENSION.keys()];

export function formatFromExtension(ext: string): ContainerFormat | null {
  return BY_EXTENSION.get(ext.toLowerCase()) ?? null;
}

export function formatFromPath(path: string): ContainerFormat | null {
  const dot = path.lastIndexOf('.');
  return dot < 0 || path.lastIndexOf('/') > dot ? null : formatFromExtension(path.slice(dot));
}
