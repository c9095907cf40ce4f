import { applyChain, decodeFile, encodeToFile, isFormat, keptWavFormat, LoudnessMeter, tap, VisualsBuilder, type FfmpegInfo, type ProbeResult } from '@david/dsp';
import { join } from 'node:path';
import { failureInfo, isPermanentFailure } from '../errors.ts';
import { LIMITS } from '../resources.ts';
import { contentTypeOf, type OutputFormat } from '../domain/formats.ts';
import { outputKey } from '../domain/keys.ts';
import { visualKeysOf, visualObjects } from '../domain/visuals.ts';
import { isFinished, type ErrorInfo, type Job, type JobOutput, type MediaInfo } from '../domain/types.ts';
import type { Deps } from './deps.ts';
import { countFrames, jobProgress, publishJob, type ProgressReporter } from './live.ts';
import { StageTimes } from './stage-times.ts';
import { keepVersion, sourceOutput } from './versions.ts';

/** What the output measures (R128), a value that cannot be measured (silence, too short) as null. */
function loudnessOf(s: { integrated_lufs: number; loudness_range_lu: number; true_peak_dbtp: number }): NonNullable<Job['loudness']> {
  const r = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  return { integrated_lufs: r(s.integrated_lufs), loudness_range_lu: r(s.loudness_range_lu), true_peak_dbtp: r(s.true_peak_dbtp) };
}

export interface RunJobOptions {
  readonly tempDir: string;
  /** How long a claim holds before another delivery may take the job over (the function timeout). */
  readonly leaseMs: number;
  /** SQS ApproximateReceiveCount and the queue's maxReceiveCount: the last try marks the job failed. */
  readonly receiveCount: number;
  readonly maxReceiveCount: number;
  /** At most this many claims of one job (across redeliveries and sweeps). */
  readonly maxAttempts?: number;
  readonly ffmpeg?: FfmpegInfo;
}

export type RunJobOutcome =
  | { outcome: 'completed'; job: Job }
  | { outcome: 'failed'; error: ErrorInfo }
  | { outcome: 'skipped'; reason: string };

/** The job's outputs in the file index (an idempotent upsert: a retry may send it again). */
async function publishOutput(deps: Deps, job: Job): Promise<void> {
  const outputs = job.outputs ?? [];
  const [first] = outputs;
  if (!first) return;
  await deps.index?.publish(
    {
      op: 'upsert',
      entry: {
        file_id: job.job_id,
        session_id: job.session_id,
        kind: 'output',
        name: first.key.slice(first.key.lastIndexOf('/') + 1),
        status: 'completed',
        size: outputs.reduce((n, o) => n + o.size, 0),
        uploaded_at: job.updated_at,
        format: outputs.map((o) => o.format).join('+'),
        duration_s: first.duration_s,
        job_id: job.job_id,
      },
    },
    `output-${job.job_id}`,
  );
}

/**
 * Run one job: claim it, stream decode → effect chain → encode into the processed bucket, record the result.
 * Idempotent: a re-delivered message finds the job finished (or leased) and does nothing, and the output key is
 * fixed by the job id, so there is never a second output. Permanent failures mark the job failed and return;
 * transient ones are rethrown so SQS redelivers (on the last delivery the job is marked failed first).
 * While it runs, a heartbeat renews the job's lease; a worker that dies stops renewing it, and the sweeper
 * (`sweepJobs`) sends the job again once the lease has run out.
 */
export async function runJob(deps: Deps, msg: { session_id: string; job_id: string }, opts: RunJobOptions): Promise<RunJobOutcome> {
  const now = deps.clock.now();
  const leaseUntil = new Date(now.getTime() + opts.leaseMs);
  // The sweeper's copy of the lease goes first: a worker that dies right after its claim is still seen.
  await deps.jobs.trackLease({ session_id: msg.session_id, job_id: msg.job_id, lease_until: leaseUntil.toISOString() });
  const job = await deps.jobs.claim(msg.session_id, msg.job_id, now, leaseUntil);
  if (!job) {
    // Finished already: a crash may have come between recording it and telling the index, so tell it again.
    const done = await deps.jobs.get(msg.session_id, msg.job_id);
    if (done?.status === 'completed') await publishOutput(deps, done);
    if (done?.status === 'completed' || done?.status === 'failed') await publishJob(deps, done);
    if (done?.status === 'completed') await keepVersion(deps, done);
    if (!done || isFinished(done.status)) await deps.jobs.dropLease(msg.session_id, msg.job_id);
    return { outcome: 'skipped', reason: 'finished-or-leased' };
  }
  if (opts.maxAttempts !== undefined && job.attempts > opts.maxAttempts) {
    // Claimed again and again without ever finishing: its worker died each time (a file that kills it, say).
    const error = { code: 'Job::RetriesExhausted', message: `its worker stopped ${opts.maxAttempts} times without finishing it` };
    await deps.jobs.finish(job.session_id, job.job_id, job.attempts, { status: 'failed', error });
    await publishJob(deps, { ...job, status: 'failed', error });
    await deps.jobs.dropLease(job.session_id, job.job_id);
    return { outcome: 'failed', error };
  }
  // The heartbeat; stopped (and its renewal in flight awaited) before the lease item goes, or a late renewal
  // would write the lease of a finished job again.
  let renewing: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(() => {
    const until = new Date(deps.clock.now().getTime() + opts.leaseMs);
    renewing = deps.jobs.renewLease(job.session_id, job.job_id, job.attempts, until).catch(() => undefined);
  }, Math.max(50, opts.leaseMs / 4));
  heartbeat.unref?.();
  const stopHeartbeat = async () => {
    clearInterval(heartbeat);
    await renewing;
  };
  // Advice: the final state is what must reach clients, and it is sent again on every redelivery.
  await publishJob(deps, job).catch(() => undefined);
  const progress = jobProgress(deps, job);
  try {
    const outcome = await runClaimed(deps, job, opts, stopHeartbeat, progress);
    await stopHeartbeat();
    await deps.jobs.dropLease(job.session_id, job.job_id);
    return outcome;
  } finally {
    // A transient failure keeps the lease item: once it runs out, the sweeper sends the job again.
    await stopHeartbeat();
    await progress.close();
  }
}

/** Ingest's probe of a file, from its record. */
function probeOf(media: MediaInfo | undefined): ProbeResult | undefined {
  if (!media || !isFormat(media.format)) return undefined;
  return { format: media.format, codec: media.codec, durationSeconds: media.duration_s, sampleRate: media.sample_rate, channels: media.channels };
}

async function runClaimed(deps: Deps, job: Job, opts: RunJobOptions, stopHeartbeat: () => Promise<void>, progress: ProgressReporter): Promise<RunJobOutcome> {
  const fail = async (error: ErrorInfo): Promise<RunJobOutcome> => {
    await progress.close();
    if (await deps.jobs.finish(job.session_id, job.job_id, job.attempts, { status: 'failed', error })) {
      await publishJob(deps, { ...job, status: 'failed', error, updated_at: deps.clock.now().toISOString() });
    }
    return { outcome: 'failed', error };
  };

  const file = await deps.files.get(job.session_id, job.file_id);
  if (!file || file.status !== 'ready') return fail({ code: 'File::NotReady', message: 'the input file is gone or not ready' });

  const formats = job.output_formats as OutputFormat[];
  const keys = formats.map((f) => outputKey(job.session_id, job.job_id, f));
  // What a superseded or deleted run leaves must go: the outputs and their pictures.
  const written = [...keys, ...visualKeysOf(job.session_id, job.job_id)];
  const started = performance.now();
  const times = new StageTimes();
  // A version of a version reads its parent's output (lossless where there is one), else the upload.
  const parent = job.parent_job_id ? await deps.jobs.get(job.session_id, job.parent_job_id) : null;
  const source = parent?.status === 'completed' ? sourceOutput(parent) : undefined;
  if (job.parent_job_id && !source) return fail({ code: 'Job::InputGone', message: 'the job this one was to work on is gone or its output expired' });
  try {
    progress.report('downloading');
    let input: string;
    let probe: ProbeResult | undefined;
    if (source) {
      input = join(opts.tempDir, `${job.job_id}-in.${source.format}`);
      await times.measure('download', () => deps.store.downloadOutput(source.key, input));
    } else {
      input = join(opts.tempDir, `${job.job_id}-in-${file.filename}`);
      // Exactly the bytes ingest checked (a later write to the key is refused as File::Changed).
      const expect = file.etag && file.size !== undefined ? { etag: file.etag, size: file.size } : undefined;
      await times.measure('download', () => deps.store.downloadUpload(file.key, input, expect));
      // The bytes are the ones ingest probed (checked above), so its probe stands: no second ffmpeg run to look.
      probe = file.etag && file.size !== undefined ? probeOf(file.media) : undefined;
    }
    progress.report('decoding');
    const decoded = await times.measure('open', () =>
      decodeFile(input, { maxDurationSeconds: LIMITS.maxDurationSeconds, ffmpeg: opts.ffmpeg, reuseBlocks: true, ...(probe ? { probe } : {}) }),
    );
    // Processing is measured in input frames read over the frames the probe found (decode, chain and encode stream
    // together; a lossless single output is written as the frames pass).
    const expected = Math.max(1, (source?.duration_s ?? file.media?.duration_s ?? 0) * decoded.format.sampleRate);
    let done = 0;
    // Where the time goes (timings_ms): the wait on each stage's blocks, less the stage inside it.
    const input$ = countFrames(times.time('decode', decoded.stream), (n) => {
      done += n;
      progress.report('processing', done / expected);
    });
    const chained = applyChain(input$, job.chain, decoded.format, opts.tempDir);
    const { format } = chained;
    // The output's waveform, spectrogram and loudness come from the chain's output as it is encoded (no second pass).
    const visuals = new VisualsBuilder(format);
    const meter = new LoudnessMeter(format);
    const stream = tap(times.time('chain', chained.stream), {
      push: (b) => {
        const t = performance.now();
        visuals.push(b);
        meter.push(b);
        times.add('analysis', performance.now() - t);
      },
    });
    const encodeStart = performance.now();
    // A WAV keeps the input's sample format (16/24-bit PCM, else 32-bit float).
    const wav = keptWavFormat(file.media?.bit_depth);
    // Encode to local storage first: a WAV header is patched with the real sizes and MP4 needs a seekable file;
    // the upload then has a known length. Several formats: the chain runs once into a lossless 32-bit float WAV,
    // and every output is encoded from that (never one lossy output from another).
    const master = formats.length > 1 ? join(opts.tempDir, `${job.job_id}-master.wav`) : null;
    if (master) await encodeToFile(stream, format, 'wav', master, { float: true });
    const outputs: JobOutput[] = [];
    for (const [i, ext] of formats.entries()) {
      if (master) progress.report('encoding', i / formats.length);
      const source = master ? (await decodeFile(master, { reuseBlocks: true })).stream : stream;
      const outPath = join(opts.tempDir, `${job.job_id}-out.${ext}`);
      const { frames, channels, downmixedFrom } = await encodeToFile(source, format, ext, outPath, { ffmpeg: opts.ffmpeg, ...wav });
      progress.report('uploading', i / formats.length);
      const { size } = await times.measure('upload', () => deps.store.putOutput(keys[i], outPath, contentTypeOf(ext)));
      outputs.push({
        key: keys[i],
        format: ext,
        duration_s: Math.round((frames / format.sampleRate) * 1e6) / 1e6,
        size,
        sample_rate: format.sampleRate,
        channels,
        ...(downmixedFrom ? { downmixed_from: downmixedFrom } : {}),
      });
    }
    const encodeEnd = performance.now();
    // Encoding: the encode loop's time less what it waited for (the chain, the analysis tap) and the uploads in it.
    const encoding = encodeEnd - encodeStart - times.get('chain') - times.get('analysis') - times.get('upload');
    const drawn = visuals.finish();
    times.add('analysis', performance.now() - encodeEnd);
    await times.measure('upload', () => deps.store.putVisuals(visualObjects(job.session_id, job.job_id, drawn)));
    const ms = (v: number) => Math.max(0, Math.round(v));
    // No progress write may land after the final state.
    await progress.close();
    const result = {
      status: 'completed',
      outputs,
      visuals_at: deps.clock.now().toISOString(),
      loudness: loudnessOf(meter.summary()),
      reports: chained.reports(),
      timings_ms: {
        download: ms(times.get('download')),
        decode: ms(times.get('open') + times.get('decode')),
        dsp: ms(times.get('chain') - times.get('decode')),
        analysis: ms(times.get('analysis')),
        encode: ms(encoding),
        upload: ms(times.get('upload')),
        total: ms(performance.now() - started),
      },
      progress: { phase: 'uploading', percent: 100 },
    } as const;
    const won = await deps.jobs.finish(job.session_id, job.job_id, job.attempts, result);
    if (!won) {
      // The session or job was deleted meanwhile (or a newer attempt took over and will write the same keys).
      if (!(await deps.jobs.get(job.session_id, job.job_id))) for (const key of written) await deps.store.deleteOutput(key);
      return { outcome: 'skipped', reason: 'superseded' };
    }
    // The session's deletion began while this ran: its objects are being removed, so these go too.
    const session = await deps.sessions.get(job.session_id);
    if (!session || session.deleting_at) {
      for (const key of written) await deps.store.deleteOutput(key);
      return { outcome: 'skipped', reason: 'session-deleted' };
    }
    const completed: Job = { ...job, ...result, updated_at: deps.clock.now().toISOString() };
    await publishOutput(deps, completed);
    // The session was read after the job's record was written: it also tells whether anyone watches.
    await publishJob(deps, completed, 'job.updated', undefined, { after: session });
    await keepVersion(deps, completed);
    return { outcome: 'completed', job: completed };
  } catch (err) {
    if (isPermanentFailure(err)) return fail(failureInfo(err));
    const attempts = Math.max(opts.receiveCount, job.attempts);
    if (opts.receiveCount >= opts.maxReceiveCount || (opts.maxAttempts !== undefined && job.attempts >= opts.maxAttempts)) {
      await fail({ code: 'Job::RetriesExhausted', message: `gave up after ${attempts} attempts: ${(err as Error).message}` });
      await stopHeartbeat();
      await deps.jobs.dropLease(job.session_id, job.job_id);
    }
    throw err;
  }
}

/**
 * The sweeper: a job whose lease ran out while it was processing (its worker died) is sent to the queue again,
 * once per lease period; leases of finished or deleted jobs are dropped.
 */
export async function sweepJobs(deps: Pick<Deps, 'jobs' | 'queue' | 'clock'>, leaseMs: number): Promise<{ resent: number; dropped: number; running: number }> {
  const now = deps.clock.now();
  const nowIso = now.toISOString();
  let resent = 0;
  let dropped = 0;
  let running = 0;
  for (const lease of await deps.jobs.listLeases()) {
    if (lease.lease_until >= nowIso) {
      running++;
      continue;
    }
    const job = await deps.jobs.get(lease.session_id, lease.job_id);
    if (!job || isFinished(job.status)) {
      await deps.jobs.dropLease(lease.session_id, lease.job_id);
      dropped++;
    } else if (job.lease_until && job.lease_until >= nowIso) {
      await deps.jobs.trackLease({ ...lease, lease_until: job.lease_until }); // renewed on the job, the copy lagged
      running++;
    } else if (!lease.resent_at || Date.parse(lease.resent_at) + leaseMs <= now.getTime()) {
      await deps.queue.sendJob({ session_id: lease.session_id, job_id: lease.job_id });
      await deps.jobs.trackLease({ ...lease, resent_at: nowIso });
      resent++;
    }
  }
  return { resent, dropped, running };
}
