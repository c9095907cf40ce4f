import { describe, expect, it } from 'vitest';
import {
  checkOutputFormat,
  checkUploadType,
  defaultOutputFor,
  hashToken,
  isWellFormedId,
  newAccessToken,
  newSessionId,
  parseChain,
  parseUploadKey,
  parseUploadRequest,
  safeFilename,
  tokenMatches,
  uploadKey,
  AppError,
  FUNCTIONS,
  QUEUES,
  EVENT_SOURCES,
} from '../src/index.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as AppError).code, status: (err as AppError).status, details: (err as AppError).details };
  }
  throw new Error('expected an error');
};

describe('identifiers and tokens', () => {
  it('makes unguessable, well-formed ids and stores only token hashes', () => {
    const ids = new Set(Array.from({ length: 1000 }, newSessionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isWellFormedId(id, 'ses')).toBe(true);
    expect(isWellFormedId('ses_123', 'ses')).toBe(false);
    expect(isWellFormedId(newSessionId(), 'fil')).toBe(false);
    const token = newAccessToken();
    const stored = hashToken(token);
    expect(stored).not.toContain(token);
    expect(tokenMatches(token, stored)).toBe(true);
    expect(tokenMatches(newAccessToken(), stored)).toBe(false);
  });
});

describe('upload validation', () => {
  it('keeps names safe for keys and finds them again', () => {
    expect(safeFilename('../../etc/pass wd.WAV')).toBe('pass_wd.wav');
    expect(safeFilename('Ünïcode 🎵 song.mp3')).toBe('Unicode_song.mp3');
    expect(safeFilename('.hidden.wav')).toBe('hidden.wav');
    const sid = newSessionId();
    const key = uploadKey(sid, 'fil_' + 'a'.repeat(32), 'x.wav');
    expect(parseUploadKey(key)).toEqual({ sessionId: sid, fileId: 'fil_' + 'a'.repeat(32), name: 'x.wav' });
    expect(parseUploadKey('uploads/../../x')).toBeNull();
    expect(parseUploadKey(`uploads/${sid}/fil_${'a'.repeat(32)}/a/b.wav`)).toBeNull();
  });

  it('checks extension against content type, size against the limit', () => {
    expect(checkUploadType('a.wav', 'audio/wav')).toBe('.wav');
    expect(checkUploadType('a.MP3', 'audio/mpeg; charset=binary')).toBe('.mp3');
    expect(codeOf(() => checkUploadType('a.exe', 'audio/wav'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedExtension' });
    expect(codeOf(() => checkUploadType('a.wav', 'audio/mpeg'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedContentType' });
    const base = { session_id: 's', filename: 'a.wav', content_type: 'audio/wav' };
    expect(parseUploadRequest({ ...base, size: 10 }).size).toBe(10);
    expect(codeOf(() => parseUploadRequest({ ...base, size: 104857601 }))).toMatchObject({ status: 413, code: 'Upload::TooLarge' });
    expect(codeOf(() => parseUploadRequest({ ...base, size: 0 }))).toMatchObject({ status: 400, details: { field: 'size' } });
    expect(codeOf(() => parseUploadRequest({ ...base, size: 1.5 }))).toMatchObject({ status: 400 });
    expect(codeOf(() => parseUploadRequest({ filename: 'a.wav', content_type: 'audio/wav', size: 1 }))).toMatchObject({ details: { field: 'session_id' } });
  });

  it('chooses output formats', () => {
    expect(checkOutputFormat(undefined, 'wav')).toBe('wav');
    expect(checkOutputFormat('flac', 'wav')).toBe('flac');
    expect(codeOf(() => checkOutputFormat('exe', 'wav'))).toMatchObject({ status: 400, code: 'Job::InvalidOutputFormat' });
    expect(defaultOutputFor('mp3')).toBe('mp3');
    expect(defaultOutputFor('aac')).toBe('m4a');
    expect(defaultOutputFor(undefined)).toBe('wav');
  });
});

describe('job requests', () => {
  it('accepts one effect or a chain, fills defaults, and rejects bad ones with the DSP codes', () => {
    expect(parseChain({ effect: 'gain' })).toEqual([{ effect: 'gain', parameters: { gainDb: 0 } }]);
    expect(parseChain({ chain: [{ effect: 'gain', parameters: { gainDb: -3 } }, { effect: 'gain' }] })).toHaveLength(2);
    expect(codeOf(() => parseChain({ effect: 'nope' }))).toMatchObject({ status: 400, code: 'Effect::UnknownEffect' });
    expect(codeOf(() => parseChain({ effect: 'gain', parameters: { gainDb: Number.NaN } }))).toMatchObject({ status: 400, code: 'Effect::InvalidParameter' });
    expect(codeOf(() => parseChain({ effect: 'gain', parameters: { gain: 1 } }))).toMatchObject({ code: 'Effect::UnknownParameter' });
    expect(codeOf(() => parseChain({ effect: 'gain', chain: [] }))).toMatchObject({ code: 'Job::AmbiguousRequest' });
    expect(codeOf(() => parseChain({ chain: [] }))).toMatchObject({ code: 'Effect::InvalidChain' });
    expect(codeOf(() => parseChain({}))).toMatchObject({ code: 'Job::MissingEffect' });
  });
});

describe('the shared resource definitions', () => {
  it('give every queue a visibility of at least six times its function timeout', () => {
    for (const [name, q] of Object.entries(QUEUES)) {
      const fn = FUNCTIONS[name as keyof typeof FUNCTIONS];
      expect(q.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * fn.timeoutSeconds);
      expect(EVENT_SOURCES[name as keyof typeof EVENT_SOURCES].batchSize).toBeGreaterThan(0);
    }
  });
});
