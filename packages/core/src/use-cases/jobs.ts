import { DspError, getPreset, resolveChain, type ChainStep } from '@david/dsp';
import { ConflictError, NotFoundError, TransientError, UnprocessableError, ValidationError } from '../errors.ts';
import { isWellFormedId, newJobId } from '../ids.ts';
import { defaultOutputFor, type OutputFormat } from '../domain/formats.ts';
import { deleteVisuals } from '../domain/visuals.ts';
import { outputKey } from '../domain/keys.ts';
import { isFinished, type Job, type Session } from '../domain/types.ts';
import { loadFile } from './uploads.ts';
import { jobView } from './views.ts';
import { pollUntil } from './poll.ts';
import type { Deps } from './deps.ts';
import { publishJob } from './live.ts';
import { parentJob, sourceOutput } from './versions.ts';

/** Map a DSP validation error onto the API's 400, keeping its stable code and details (field, allowed range, known effects). */
function asValidation(err: unknown): never {
  if (err instanceof DspError) throw new ValidationError(err.code, err.message, err.details, { cause: err });
  throw err;
}

/** What a job request says it wants done (already shape-checked against the route's schema). */
export interface ChainRequest {
  readonly preset?: string;
  readonly effect?: string;
  readonly parameters?: Record<string, unknown>;
  readonly chain?: readonly { effect: string; parameters?: Record<string, unknown> }[];
  readonly output_format?: OutputFormat;
  readonly output_formats?: readonly OutputFormat[];
}
/** On the upload (`file_id`) or on a completed job's output (`job_id`): exactly one. */
export interface JobRequest extends ChainRequest {
  readonly file_id?: string;
  readonly job_id?: string;
}
export interface BatchRequest extends ChainRequest {
  readonly file_ids: readonly string[];
}

/**
 * `{ effect, parameters }`, `{ chain: [{ effect, parameters }] }` or `{ preset }` → chain steps checked against the
 * effect declarations.
 */
export function parseChain(req: ChainRequest): ChainStep[] {
  const given = (['preset', 'chain', 'effect'] as const).filter((k) => req[k] !== undefined);
  if (given.length === 0) {
    throw new ValidationError('Job::MissingEffect', 'effect, chain or preset is required', { field: 'effect', alternatives: ['effect', 'chain', 'preset'] });
  }
  // Parameters belong to `effect`; beside a chain or a preset they would be ignored.
  if (given.length > 1 || (req.parameters !== undefined && req.effect === undefined)) {
    throw new ValidationError('Job::AmbiguousRequest', `give one of effect (with parameters), chain or preset; got ${[...given, ...(req.parameters !== undefined ? ['parameters'] : [])].join(' and ')}`, {
      field: given.length > 1 ? given[1] : 'parameters',
    });
  }
  let resolved;
  try {
    const steps: ChainStep[] = req.preset !== undefined
      ? [...getPreset(req.preset).chain]
      : req.chain
        ? req.chain.map((s) => ({ effect: s.effect, parameters: s.parameters ?? {} }))
        : [{ effect: req.effect!, parameters: req.parameters ?? {} }];
    resolved = resolveChain(steps);
  } catch (err) {
    asValidation(err);
  }
  // Store the parameters with defaults filled in, so a job says exactly what ran.
  return resolved.map((r) => ({ effect: r.decl.id, parameters: r.params }));
}

/** The formats a job writes: `output_formats`, or `output_format`, or the input's own format. */
export function outputFormatsOf(req: ChainRequest, inputFormat: string | undefined): OutputFormat[] {
  if (req.output_format !== undefined && req.output_formats !== undefined) {
    throw new ValidationError('Job::AmbiguousRequest', 'give either output_format or output_formats, not both', { field: 'output_formats' });
  }
  if (req.output_formats) return [...req.output_formats];
  return [req.output_format ?? defaultOutputFor(inputFormat)];
}

/** The file a job may run on: it must exist in the session and be ready. */
async function readyFile(deps: Deps, session: Session, fileId: string, field = 'file_id') {
  const file = await loadFile(deps, session, fileId);
  if (file.status === 'rejected') {
    throw new UnprocessableError('File::Rejected', `file '${file.file_id}' was rejected: ${file.rejection?.message ?? 'unknown reason'}`, {
      field,
      rejection: file.rejection,
    });
  }
  if (file.status === 'expired') {
    throw new UnprocessableError('File::Expired', `file '${file.file_id}' expired: no bytes arrived before its upload link ran out`, { field });
  }
  if (file.status !== 'ready') throw new ConflictError('File::NotReady', `file '${file.file_id}' is still ${file.status}; wait until it is ready`, { field });
  return file;
}

async function enqueue(deps: Deps, session: Session, fileId: string, chain: ChainStep[], req: ChainRequest, outputFormats: OutputFormat[], parentJobId?: string): Promise<Job> {
  const now = deps.clock.now().toISOString();
  const job: Job = {
    session_id: session.session_id,
    job_id: newJobId(),
    file_id: fileId,
    ...(parentJobId ? { parent_job_id: parentJobId } : {}),
    chain,
    ...(req.preset !== undefined ? { preset: req.preset } : {}),
    output_formats: outputFormats,
    status: 'queued',
    created_at: now,
    updated_at: now,
    attempts: 0,
  };
  await deps.jobs.create(job, session.expires_at);
  try {
    await deps.queue.sendJob({ session_id: job.session_id, job_id: job.job_id });
  } catch (err) {
    // Never leave a job "queued" that nobody will run: say why it failed.
    const error = { code: 'Job::QueueUnavailable', message: 'the job could not be queued; submit it again' };
    await deps.jobs.finish(job.session_id, job.job_id, 0, { status: 'failed', error });
    await publishJob(deps, { ...job, status: 'failed', error }).catch(() => undefined);
    throw new TransientError('Job::QueueUnavailable', 'the job could not be queued; try again', { cause: err });
  }
  // Advice for the session's other clients (this caller has the answer); the worker's changes follow.
  await publishJob(deps, job).catch(() => undefined);
  return job;
}

export async function submitJob(deps: Deps, session: Session, req: JobRequest) {
  if (req.file_id !== undefined && req.job_id !== undefined) {
    throw new ValidationError('Job::AmbiguousInput', 'give either file_id (the upload) or job_id (a completed job’s output), not both', { field: 'job_id' });
  }
  if (req.file_id === undefined && req.job_id === undefined) {
    throw new ValidationError('Request::MissingField', 'file_id (the upload) or job_id (a completed job’s output) is required', { field: 'file_id', alternatives: ['file_id', 'job_id'] });
  }
  const chain = parseChain(req);
  if (req.job_id !== undefined) {
    // A version of a version: the parent's output is the input; the new job belongs to the same upload.
    const parent = await parentJob(deps, session, req.job_id);
    const file = await readyFile(deps, session, parent.file_id);
    const job = await enqueue(deps, session, file.file_id, chain, req, outputFormatsOf(req, sourceOutput(parent)?.format), parent.job_id);
    return { job_id: job.job_id, status: job.status };
  }
  const file = await readyFile(deps, session, req.file_id!);
  const job = await enqueue(deps, session, file.file_id, chain, req, outputFormatsOf(req, file.media?.format));
  return { job_id: job.job_id, status: job.status };
}

export const MAX_BATCH_FILES = 100;

/** Batch processing: one chain over many files, one job each. Every file is checked before any job is queued. */
export async function submitBatch(deps: Deps, session: Session, req: BatchRequest) {
  const chain = parseChain(req);
  const files = [];
  for (const [i, id] of req.file_ids.entries()) files.push(await readyFile(deps, session, id, `file_ids[${i}]`));
  const plans = files.map((file) => ({ file, formats: outputFormatsOf(req, file.media?.format) }));
  const jobs = [];
  for (const { file, formats } of plans) {
    const job = await enqueue(deps, session, file.file_id, chain, req, formats);
    jobs.push({ file_id: file.file_id, job_id: job.job_id, status: job.status });
  }
  return { jobs, total: jobs.length };
}

async function loadJob(deps: Pick<Deps, 'jobs'>, session: Session, jobId: string): Promise<Job> {
  const job = isWellFormedId(jobId, 'job') ? await deps.jobs.get(session.session_id, jobId) : null;
  if (!job) throw new NotFoundError('Job::NotFound', `no job '${jobId}' in this session`);
  return job;
}

/** A job's status; with `waitSeconds`, held open until the job finishes (or the wait runs out). */
export async function getJob(deps: Deps, session: Session, jobId: string, waitSeconds = 0) {
  const job = await pollUntil(() => loadJob(deps, session, jobId), (j) => isFinished(j.status), waitSeconds);
  return jobView(job, deps.deliveryBaseUrl);
}

/** Remove one job: its record first (a worker still running it then drops what it wrote), then its outputs and index entry. */
export async function removeJob(deps: Deps, job: Job): Promise<void> {
  await deps.jobs.delete(job.session_id, job.job_id);
  for (const format of job.output_formats) await deps.store.deleteOutput(outputKey(job.session_id, job.job_id, format));
  await deleteVisuals(deps.store, job.session_id, job.job_id);
  if (job.status === 'completed') await deps.index?.publish({ op: 'remove', file_id: job.job_id }, `rm-${job.job_id}`);
  await deps.files.removeVersions(job.session_id, job.file_id, [job.job_id]);
}

export async function deleteJob(deps: Deps, session: Session, jobId: string): Promise<void> {
  await removeJob(deps, await loadJob(deps, session, jobId));
}
