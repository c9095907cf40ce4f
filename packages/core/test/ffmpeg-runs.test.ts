import { analyzeFileWithVisuals, locateFfmpeg, type ProbeResult } from '@david/dsp';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestObject, newFileId, newSessionId, uploadKey, type FileRecord } from '../src/index.ts';
import { memoryDeps, memoryStore } from './memory-adapters.ts';

const dir = mkdtempSync(join(tmpdir(), 'david-ffmpeg-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An ffmpeg that notes each run in a log, then runs the real one. */
async function countingFfmpeg() {
  const real = await locateFfmpeg();
  const log = join(dir, `runs-${Math.random()}.log`);
  const path = join(dir, `ffmpeg-${Math.random()}`);
  writeFileSync(path, `#!/bin/sh\necho run >> "${log}"\nexec "${real.path}" "$@"\n`);
  chmodSync(path, 0o755);
  writeFileSync(log, '');
  return { ffmpeg: { ...real, path }, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

async function ingest(name: string, bytes: Buffer, ffmpeg: Awaited<ReturnType<typeof countingFfmpeg>>['ffmpeg']) {
  const objects = new Map<string, Buffer>();
  const deps = memoryDeps(memoryStore(objects), () => new Date('2026-01-01T00:00:00Z'));
  const session_id = newSessionId();
  const file_id = newFileId();
  const key = uploadKey(session_id, file_id, name);
  objects.set(key, bytes);
  await deps.repos.create({ session_id, name: 's', created_at: '2026-01-01T00:00:00Z', token_hash: 'x' });
  const file: FileRecord = { session_id, file_id, filename: name, content_type: 'audio/mpeg', declared_size: bytes.length, key, status: 'pending', created_at: '2026-01-01T00:00:00Z' };
  await deps.repos.create(file);
  // As the ingest function analyses: from the probe ingest made, the waveform and spectrogram drawn in the same decode.
  const analyze = async (path: string, _media: unknown, probe: ProbeResult) => {
    const { analysis, visuals } = await analyzeFileWithVisuals(path, { ffmpeg, probe });
    return { analysis: { ...analysis }, visuals };
  };
  const result = await ingestObject(deps, { bucket: 'uploads', key }, { tempDir: dir, ffmpeg, analyze });
  return { result, stored: [...objects.keys()].filter((k) => k.startsWith('visuals/')) };
}

describe('ffmpeg only where needed', () => {
  it('ingests an MP3 with two ffmpeg runs (one probe, one decode for the analysis and the pictures), a WAV with none', async () => {
    const mp3 = join(dir, 'take.mp3');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libmp3lame', '-b:a', '96k', '-y', mp3]);
    const counted = await countingFfmpeg();
    const { result, stored } = await ingest('take.mp3', readFileSync(mp3), counted.ffmpeg);
    expect(result.outcome).toBe('ready');
    expect(counted.runs()).toBe(2);
    expect(stored.map((k) => k.split('/').pop()).sort()).toEqual(['spectrogram.png', 'waveform.dat', 'waveform.json']);

    const wav = join(dir, 'take.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'pcm_s16le', '-y', wav]);
    const none = await countingFfmpeg();
    const wavIngest = await ingest('take.wav', readFileSync(wav), none.ffmpeg);
    expect(wavIngest.result.outcome).toBe('ready');
    expect(wavIngest.stored).toHaveLength(3);
    expect(none.runs()).toBe(0);
  });
});
