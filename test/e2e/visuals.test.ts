import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
import { SPECTROGRAM_MARGINS } from '@david/dsp';
import { inflateSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WaveformData, { type JsonWaveformData } from 'waveform-data';
import { describe, expect, it } from 'vitest';
import { decodeWithFfmpeg, sineWav } from '../helpers/audio.ts';
import { ApiClient } from '../helpers/client.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('visuals');
type Session = { session_id: string; access_token: string };

/**
 * audiowaveform's peaks, computed here from ffmpeg's decode (independently of the package): per 256 frames and
 * channel the min and max of the 16-bit samples, divided by 256 and truncated (its 8-bit output).
 */
function referencePeaks(channels: Float32Array[], spp = 256): number[] {
  const out: number[] = [];
  const n = channels[0].length;
  for (let p = 0; p < n; p += spp) {
    for (const ch of channels) {
      let lo = 32767, hi = -32768;
      for (let i = p; i < Math.min(n, p + spp); i++) {
        const v = Math.max(-32768, Math.min(32767, Math.round(ch[i] * 32768)));
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      out.push(Math.trunc(lo / 256) || 0, Math.trunc(hi / 256) || 0);
    }
  }
  return out;
}

/** GET a picture through the API: a redirect to the delivered object, which is then fetched as a browser would. */
async function picture(api: ApiClient, s: Session, path: string): Promise<{ location: string; res: Response }> {
  const first = await fetch(api.baseUrl + path, { headers: { authorization: `Bearer ${s.access_token}` }, redirect: 'manual' });
  expect(first.status, path).toBe(302);
  const location = first.headers.get('location')!;
  const res = await fetch(location);
  expect(res.status, location).toBe(200);
  return { location, res };
}

async function listVisuals(prefix: string): Promise<string[]> {
  const s3 = new S3Client({ endpoint: ctx.stack.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

describe('waveforms and spectrograms through the API', () => {
  it('measures the output’s loudness, and draws a ready file’s and a completed output’s peaks as audiowaveform does, loadable by waveform-data as JSON and .dat, and a spectrogram; deletes them with their owner', async () => {
    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('visuals');
    const wav = sineWav({ seconds: 2, channels: 2, peakDbfs: -6 });
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', wav);
    const file = await api.waitForFile(s, file_id);
    expect(file.status).toBe('ready');
    expect(file.visuals).toEqual({
      waveform_json: `/api/audio/${s.session_id}/files/${file_id}/waveform.json`,
      waveform_dat: `/api/audio/${s.session_id}/files/${file_id}/waveform.dat`,
      spectrogram_png: `/api/audio/${s.session_id}/files/${file_id}/spectrogram.png`,
    });

    // The reference: ffmpeg's decode of the very bytes uploaded.
    const inputPath = join(ctx.dir, 'take.wav');
    await writeFile(inputPath, wav);
    const decoded = await decodeWithFfmpeg(inputPath);
    const expected = referencePeaks(decoded.channels);

    const json = await picture(api, s, file.visuals.waveform_json);
    expect(json.res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.location.startsWith(ctx.stack.deliveryUrl)).toBe(true);
    const body = (await json.res.json()) as JsonWaveformData;
    const w = WaveformData.create(body);
    expect([w.channels, w.sample_rate, w.scale, w.bits]).toEqual([2, 44_100, 256, 8]);
    expect(w.duration).toBeCloseTo(2, 2);
    expect(body.data).toEqual(expected);

    const dat = await picture(api, s, file.visuals.waveform_dat);
    const wd = WaveformData.create(await dat.res.arrayBuffer());
    expect([wd.channels, wd.sample_rate, wd.scale, wd.length]).toEqual([w.channels, w.sample_rate, w.scale, w.length]);
    expect(wd.channel(1).max_array()).toEqual(w.channel(1).max_array());
    expect(wd.channel(0).min_array()).toEqual(w.channel(0).min_array());

    const png = await picture(api, s, file.visuals.spectrogram_png);
    expect(png.res.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await png.res.arrayBuffer());
    expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    // Not blank: the tone draws a bright row in an otherwise dark picture.
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    const [width, height] = [v.getUint32(16), v.getUint32(20)];
    const raw = inflateSync(bytes.subarray(41, 41 + v.getUint32(33)));
    // The plot, inside its axes' margins.
    const M = SPECTROGRAM_MARGINS;
    const plotW = width - M.left - M.right;
    const rows = Array.from({ length: height - M.top - M.bottom }, (_, y) => {
      const from = (M.top + y) * (width * 3 + 1) + 1 + M.left * 3;
      return raw.subarray(from, from + plotW * 3).reduce((a, b) => a + b, 0) / (plotW * 3);
    });
    expect(Math.max(...rows) - Math.min(...rows)).toBeGreaterThan(100);

    // A job at −6 dB: its output's peaks are half the input's (the analytic gain, ±1 for the 8-bit truncation).
    const res = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain', parameters: { gainDb: -6.0206 } } });
    expect(res.status).toBe(202);
    const job = await api.waitForJob(s, res.body.job_id);
    expect(job.status).toBe('completed');
    expect(job.visuals.waveform_json).toBe(`/api/audio/${s.session_id}/jobs/${job.job_id}/waveform.json`);
    // Its loudness, measured as it was written: a gain of −6.02 dB moves loudness and true peak by exactly that.
    expect(job.output_loudness.integrated_lufs - file.analysis.integrated_lufs).toBeCloseTo(-6.02, 1);
    expect(job.output_loudness.true_peak_dbtp - file.analysis.true_peak_dbtp).toBeCloseTo(-6.02, 1);
    // 2 s holds no 3 s short-term window: the range is not measurable on either side, and the analysis says why.
    expect(job.output_loudness.loudness_range_lu).toBeNull();
    expect(file.analysis.loudness_range_lu).toBeNull();
    expect(file.analysis.not_measurable.loudness_range_lu).toBe('shorter than one 3 s short-term window');
    const out = (await (await picture(api, s, job.visuals.waveform_json)).res.json()) as JsonWaveformData;
    expect(out.length).toBe(body.length);
    const inMax = Math.max(...body.data), outMax = Math.max(...out.data);
    expect(inMax).toBe(Math.trunc(Math.round(0.5012 * 32767) / 256));
    expect(Math.abs(outMax - inMax / 2)).toBeLessThanOrEqual(1);

    // Wrong requests say why.
    const noToken = await fetch(api.baseUrl + file.visuals.waveform_json, { redirect: 'manual' });
    expect(noToken.status).toBe(401);
    const unknown = await api.call('GET', `/api/audio/${s.session_id}/jobs/job_${'0'.repeat(32)}/waveform.json`, { token: s.access_token });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'Job::NotFound']);

    // The pictures go with their owner: the job's with the job, the file's with the file.
    expect(await listVisuals(`visuals/${s.session_id}/${job.job_id}/`)).toHaveLength(3);
    expect((await api.call('DELETE', `/api/audio/${s.session_id}/jobs/${job.job_id}`, { token: s.access_token })).status).toBe(204);
    expect(await listVisuals(`visuals/${s.session_id}/${job.job_id}/`)).toEqual([]);
    expect(await listVisuals(`visuals/${s.session_id}/${file_id}/`)).toHaveLength(3);
    expect((await api.call('DELETE', `/api/audio/${s.session_id}/files/${file_id}`, { token: s.access_token })).status).toBe(204);
    expect(await listVisuals(`visuals/${s.session_id}/`)).toEqual([]);
  });
});
