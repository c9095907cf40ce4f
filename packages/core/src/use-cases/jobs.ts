import { DspError, resolveChain, type ChainStep } from '@david/dsp';
import { ConflictError, NotFoundError, TransientError, UnprocessableError, ValidationError } from '../errors.ts';
import { isWellFormedId, newJobId } from '../ids.ts';
import { checkOutputFormat, defaultOutputFor } from '../domain/formats.ts';
import type { Job, Session } from '../domain/types.ts';
import { loadFile } from './uploads.ts';
import { jobView } from './views.ts';
import { pollUntil } from './poll.ts';
import type { Deps } from './deps.ts';

/** Map a DSP validation error onto the API's 400, keeping its stable code and details (field, allowed range, known effects). */
function asValidation(err: unknown): never {
  if (err instanceof DspError) throw new ValidationError(err.code, err.message, err.details, { cause: err });
  throw err;
}

/** `{ effect, parameters }` or `{ chain: [{ effect, parameters }] }` → validated chain steps. */
export function parseChain(body: Record<string, unknown>): ChainStep[] {
  let steps: ChainStep[];
  if (body.chain !== undefined) {
    if (body.effect !== undefined) throw new ValidationError('Job::AmbiguousRequest', 'give either effect or chain, not both', { field: 'chain' });
    if (!Array.isArray(body.chain)) throw new ValidationError('Job::InvalidChain', 'chain must be a list of { effect, parameters }', { field: 'chain' });
    steps = body.chain.map((s, i) => {
      const step = s as Record<string, unknown>;
      if (!step || typeof step !== 'object' || typeof step.effect !== 'string') {
        throw new ValidationError('Job::InvalidChain', `chain[${i}] must be { effect, parameters }`, { field: `chain[${i}]` });
      }
      return { effect: step.effect, parameters: (step.parameters ?? {}) as Record<string, unknown> };
    });
  } else {
    if (typeof body.effect !== 'string') throw new ValidationError('Job::MissingEffect', 'effect (or chain) is required', { field: 'effect' });
    steps = [{ effect: body.effect, parameters: (body.parameters ?? {}) as Record<string, unknown> }];
  }
  let resolved;
  try {
    resolved = resolveChain(steps);
  } catch (err) {
    asValidation(err);
  }
  // Store the parameters with defaults filled in, so a job says exactly what ran.
  return resolved.map((r) => ({ effect: r.decl.id, parameters: r.params }));
}

function parseRequestBody(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw new ValidationError('Request::InvalidBody', 'body must be a JSON object');
  return b;
}

/** The file a job may run on: it must exist in the session and be ready. */
async function readyFile(deps: Deps, session: Session, fileId: unknown, field = 'file_id') {
  if (typeof fileId !== 'string') throw new ValidationError('Job::MissingFile', `${field} is required`, { field });
  const file = await loadFile(deps, session, fileId);
  if (file.status === 'rejected') {
    throw new UnprocessableError('File::Rejected', `file '${file.file_id}' was rejected: ${file.rejection?.message ?? 'unknown reason'}`, {
      field,
      rejection: file.rejection,
    });
  }
  if (file.status !== 'ready') throw new ConflictError('File::NotReady', `file '${file.file_id}' is still ${file.status}; wait until it is ready`, { field });
  return file;
}

async function enqueue(deps: Deps, session: Session, fileId: string, chain: ChainStep[], outputFormat: string): Promise<Job> {
  const now = deps.clock.now().toISOString();
  const job: Job = {
    session_id: session.session_id,
    job_id: newJobId(),
    file_id: fileId,
    chain,
    output_format: outputFormat,
    status: 'queued',
    created_at: now,
    updated_at: now,
    attempts: 0,
  };
  await deps.jobs.create(job);
  try {
    await deps.queue.sendJob({ session_id: job.session_id, job_id: job.job_id });
  } catch (err) {
    // Never leave a job "queued" that nobody will run: say why it failed.
    await deps.jobs.finish(job.session_id, job.job_id, 0, {
      status: 'failed',
      error: { code: 'Job::QueueUnavailable', message: 'the job could not be queued; submit it again' },
    });
    throw new TransientError('Job::QueueUnavailable', 'the job could not be queued; try again', { cause: err });
  }
  return job;
}

export async function submitJob(deps: Deps, session: Session, body: unknown) {
  const b = parseRequestBody(body);
  if (typeof b.file_id !== 'string') throw new ValidationError('Job::MissingFile', 'file_id is required', { field: 'file_id' });
  const chain = parseChain(b);
  const file = await readyFile(deps, session, b.file_id);
  const job = await enqueue(deps, session, file.file_id, chain, checkOutputFormat(b.output_format, defaultOutputFor(file.media?.format)));
  return { job_id: job.job_id, status: job.status };
}

export const MAX_BATCH_FILES = 100;

/** Batch processing: one chain over many files, one job each. Every file is checked before any job is queued. */
export async function submitBatch(deps: Deps, session: Session, body: unknown) {
  const b = parseRequestBody(body);
  const ids = b.file_ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH_FILES || new Set(ids).size !== ids.length) {
    throw new ValidationError('Job::InvalidBatch', `file_ids must list 1 to ${MAX_BATCH_FILES} distinct file ids`, {
      field: 'file_ids',
      allowed: { min_items: 1, max_items: MAX_BATCH_FILES },
    });
  }
  const chain = parseChain(b);
  const files = [];
  for (const [i, id] of ids.entries()) files.push(await readyFile(deps, session, id, `file_ids[${i}]`));
  const jobs = [];
  for (const file of files) {
    const job = await enqueue(deps, session, file.file_id, chain, checkOutputFormat(b.output_format, defaultOutputFor(file.media?.format)));
    jobs.push({ file_id: file.file_id, job_id: job.job_id, status: job.status });
  }
  return { jobs, total: jobs.length };
}

/** A job's status; with `waitSeconds`, held open until the job finishes (or the wait runs out). */
export async function getJob(deps: Deps, session: Session, jobId: string, waitSeconds = 0) {
  const read = async () => {
    const job = isWellFormedId(jobId, 'job') ? await deps.jobs.get(session.session_id, jobId) : null;
    if (!job) throw new NotFoundError('Job::NotFound', `no job '${jobId}' in this session`);
    return job;
  };
  const job = await pollUntil(read, (j) => j.status === 'completed' || j.status === 'failed', waitSeconds);
  return jobView(job, deps.deliveryBaseUrl);
}
