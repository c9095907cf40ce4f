import { describe, expect, it } from 'vitest';
import {
  checkUploadType,
  defaultOutputFor,
  hashToken,
  isWellFormedId,
  newAccessToken,
  sessionOfToken,
  newSessionId,
  parseChain,
  parseUploadKey,
  safeFilename,
  tokenMatches,
  uploadKey,
  AppError,
  FUNCTIONS,
  type FunctionSpec,
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
    const sessionId = newSessionId();
    const token = newAccessToken(sessionId);
    const stored = hashToken(token);
    expect(stored).not.toContain(token);
    expect(tokenMatches(token, stored)).toBe(true);
    expect(tokenMatches(newAccessToken(sessionId), stored)).toBe(false);
    // The session a token opens is in it (a WebSocket connects with the token alone); the secret part is 256 bits.
    expect(sessionOfToken(token)).toBe(sessionId);
    expect(Buffer.from(token.slice(sessionId.length + 1), 'base64url')).toHaveLength(32);
    expect(sessionOfToken('no-dot-token')).toBeNull();
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

  it('checks extension against content type with the one format registry (own properties only)', () => {
    expect(checkUploadType('a.wav', 'audio/wav')).toBe('wav');
    expect(checkUploadType('a.MP3', 'audio/mpeg; charset=binary')).toBe('mp3');
    expect(checkUploadType('a.oga', 'audio/ogg')).toBe('ogg');
    expect(checkUploadType('a.aac', 'audio/aac')).toBe('aac');
    expect(codeOf(() => checkUploadType('a.exe', 'audio/wav'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedExtension' });
    expect(codeOf(() => checkUploadType('a.__proto__', 'audio/wav'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedExtension' });
    expect(codeOf(() => checkUploadType('a.toString', 'audio/wav'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedExtension' });
    expect(codeOf(() => checkUploadType('a.wav', 'audio/mpeg'))).toMatchObject({ status: 415, code: 'Upload::UnsupportedContentType' });
    // The message lists what is accepted, from the registry.
    const err = codeOf(() => checkUploadType('a.exe', 'audio/wav'));
    expect(err.details?.allowed).toEqual(expect.arrayContaining(['.wav', '.oga', '.aac', '.m4a']));
  });

  it('chooses output formats: the input\'s own where it is a format we write', () => {
    expect(defaultOutputFor('mp3')).toBe('mp3');
    expect(defaultOutputFor('aac')).toBe('aac');
    expect(defaultOutputFor('__proto__')).toBe('wav');
    expect(defaultOutputFor('constructor')).toBe('wav');
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
    expect(codeOf(() => parseChain({ effect: 'toString' }))).toMatchObject({ code: 'Effect::UnknownEffect' });
    expect(codeOf(() => parseChain({ effect: '__proto__' }))).toMatchObject({ code: 'Effect::UnknownEffect' });
    expect(codeOf(() => parseChain({ effect: 'reverbb' }))).toMatchObject({ code: 'Effect::UnknownEffect', details: { suggestion: 'reverb' } });
    expect(codeOf(() => parseChain({ effect: 'gain', parameters: { gainDB: 1 } }))).toMatchObject({ details: { suggestion: 'gainDb' } });
  });
});

describe('the shared resource definitions', () => {
  it('give every queue a visibility of at least six times its function timeout', () => {
    for (const [name, q] of Object.entries(QUEUES)) {
      // The function the queue's event source invokes (exactly one per queue).
      const consumers = Object.values(FUNCTIONS).filter((f: FunctionSpec) => 'queue' in f.trigger && f.trigger.queue === name);
      expect(consumers).toHaveLength(1);
      const fn: FunctionSpec = consumers[0];
      expect(q.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * fn.timeoutSeconds);
      expect(EVENT_SOURCES[name as keyof typeof EVENT_SOURCES].batchSize).toBeGreaterThan(0);
    }
  });
});
