import { ConflictError, NotFoundError, UnprocessableError } from '../errors.ts';
import { isWellFormedId } from '../ids.ts';
import { LIMITS } from '../resources.ts';
import type { Job, JobOutput, Session } from '../domain/types.ts';
import { deleteVisuals } from '../domain/visuals.ts';
import { loadFile } from './uploads.ts';
import { jobView } from './views.ts';
import { publishJob } from './live.ts';
import type { Deps } from './deps.ts';

/** The output a job on a job reads: a lossless one when there is one (wav, then flac), else the first. */
export function sourceOutput(job: Job): JobOutput | undefined {
  const outputs = job.outputs ?? [];
  return outputs.find((o) => o.format === 'wav') ?? outputs.find((o) => o.format === 'flac') ?? outputs[0];
}

/** The completed job a new job may take as its input (same session, its output still there). */
export async function parentJob(deps: Pick<Deps, 'jobs'>, session: Session, jobId: string): Promise<Job> {
  const job = isWellFormedId(jobId, 'job') ? await deps.jobs.get(session.session_id, jobId) : null;
  if (!job) throw new NotFoundError('Job::NotFound', `no job '${jobId}' in this session`, { field: 'job_id' });
  if (job.status === 'expired') {
    throw new UnprocessableError('Job::Expired', `job '${jobId}' expired: its output was removed to keep the file's version limit`, { field: 'job_id' });
  }
  if (job.status === 'failed') throw new UnprocessableError('Job::Failed', `job '${jobId}' failed, so it has no output to work on`, { field: 'job_id', error: job.error });
  if (job.status !== 'completed') throw new ConflictError('Job::NotReady', `job '${jobId}' is still ${job.status}; wait until it is completed`, { field: 'job_id' });
  return job;
}

const maxVersionsOf = (deps: Pick<Deps, 'maxVersions'>) => deps.maxVersions ?? LIMITS.maxVersionsPerFile;

/**
 * After a job completed (and on every redelivery of it): count it on its file, and prune only when the file may
 * hold more versions than it keeps — so a completion does not list the session's jobs (a session of thousands).
 */
export async function keepVersion(deps: Deps, job: Pick<Job, 'session_id' | 'file_id' | 'job_id'>): Promise<string[]> {
  const counted = await deps.files.addVersion(job.session_id, job.file_id, job.job_id);
  return counted > maxVersionsOf(deps) ? pruneVersions(deps, job.session_id, job.file_id) : [];
}

/**
 * The bounded history: a file keeps at most `maxVersions` completed versions. Past that the oldest completed ones
 * expire (their outputs deleted, their index entries removed, the job kept as `expired`), except one that a queued
 * or running job still reads. Each step is idempotent and the state says how far it got (`expired` with outputs:
 * objects not yet deleted), so a crash is finished by the next call.
 */
export async function pruneVersions(deps: Deps, sessionId: string, fileId: string): Promise<string[]> {
  const jobs = (await deps.jobs.list(sessionId)).filter((j) => j.file_id === fileId);
  const reading = new Set(jobs.filter((j) => j.status === 'queued' || j.status === 'processing').map((j) => j.parent_job_id));
  const completed = jobs.filter((j) => j.status === 'completed').sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.job_id.localeCompare(b.job_id));
  const excess = completed.length - maxVersionsOf(deps);
  const now = deps.clock.now().toISOString();
  const expired: Job[] = jobs.filter((j) => j.status === 'expired' && j.outputs !== undefined);
  for (const job of completed.filter((j) => !reading.has(j.job_id)).slice(0, Math.max(0, excess))) {
    if (await deps.jobs.expire(sessionId, job.job_id, now)) {
      const done: Job = { ...job, status: 'expired', expired_at: now, updated_at: now };
      expired.push(done);
    }
  }
  for (const job of expired) {
    // The pictures first, then the outputs: once an output is gone, so is everything drawn from it.
    await deleteVisuals(deps.store, sessionId, job.job_id);
    for (const o of job.outputs ?? []) await deps.store.deleteOutput(o.key);
    await deps.index?.publish({ op: 'remove', file_id: job.job_id }, `rm-${job.job_id}`);
    await deps.jobs.dropOutputs(sessionId, job.job_id);
    const { outputs: _o, ...rest } = job;
    await publishJob(deps, rest);
  }
  // The count drops what is no longer a completed version (expired here or before, deleted, or never completed).
  const file = await deps.files.get(sessionId, fileId);
  const still = new Set(completed.map((j) => j.job_id));
  for (const j of expired) still.delete(j.job_id);
  await deps.files.removeVersions(sessionId, fileId, (file?.version_ids ?? []).filter((id) => !still.has(id)));
  return expired.map((j) => j.job_id);
}

/**
 * Every version derived from a file, as a tree in depth-first order: each job after the version it worked on,
 * siblings oldest first, with its parent, depth and path from the upload (a job whose parent was deleted hangs
 * under the upload, its parent id still given).
 */
export async function fileVersions(deps: Deps, session: Session, fileId: string) {
  const file = await loadFile(deps, session, fileId);
  const jobs = (await deps.jobs.list(session.session_id)).filter((j) => j.file_id === file.file_id).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.job_id.localeCompare(b.job_id));
  const ids = new Set(jobs.map((j) => j.job_id));
  const children = new Map<string | null, Job[]>();
  for (const j of jobs) {
    const parent = j.parent_job_id && ids.has(j.parent_job_id) ? j.parent_job_id : null;
    children.set(parent, [...(children.get(parent) ?? []), j]);
  }
  const versions: Record<string, unknown>[] = [];
  const walk = (parent: string | null, path: string[]) => {
    for (const j of children.get(parent) ?? []) {
      const view = jobView(j, deps.deliveryBaseUrl);
      versions.push({
        job_id: j.job_id,
        parent_job_id: j.parent_job_id ?? null,
        depth: path.length + 1,
        path: [...path, j.job_id],
        status: j.status,
        ...(j.preset ? { preset: j.preset } : {}),
        chain: j.chain,
        created_at: j.created_at,
        ...(j.expired_at ? { expired_at: j.expired_at } : {}),
        ...(view.output ? { output: view.output } : {}),
        ...(j.error ? { error: j.error } : {}),
      });
      walk(j.job_id, [...path, j.job_id]);
    }
  };
  walk(null, []);
  return {
    file_id: file.file_id,
    filename: file.filename,
    status: file.status,
    max_versions: maxVersionsOf(deps),
    kept: jobs.filter((j) => j.status === 'completed').length,
    versions,
  };
}
