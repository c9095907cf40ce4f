import { ConflictError, NotFoundError } from '../errors.ts';
import { isWellFormedId } from '../ids.ts';
import type { Session } from '../domain/types.ts';
import { fileHasVisuals, jobHasVisuals, visualKey, type VisualName } from '../domain/visuals.ts';
import { loadFile } from './uploads.ts';
import { deliveryUrl } from './views.ts';
import type { Deps } from './deps.ts';

/** Where a ready file's picture is delivered (the API redirects there). */
export async function fileVisualUrl(deps: Deps, session: Session, fileId: string, name: VisualName): Promise<string> {
  const file = await loadFile(deps, session, fileId);
  if (file.status !== 'ready') throw new ConflictError('File::NotReady', `file '${file.file_id}' is ${file.status}; its waveform is drawn when it is ready`, { field: 'file_id' });
  if (!fileHasVisuals(file)) {
    throw new NotFoundError('Visual::NotAvailable', `no ${name} was drawn for file '${file.file_id}': its analysis did not finish (see analysis_error)`, {
      ...(file.analysis_error ? { analysis_error: file.analysis_error } : {}),
    });
  }
  return deliveryUrl(deps.deliveryBaseUrl, visualKey(session.session_id, file.file_id, name));
}

/** Where a completed job's output picture is delivered. */
export async function jobVisualUrl(deps: Deps, session: Session, jobId: string, name: VisualName): Promise<string> {
  const job = isWellFormedId(jobId, 'job') ? await deps.jobs.get(session.session_id, jobId) : null;
  if (!job) throw new NotFoundError('Job::NotFound', `no job '${jobId}' in this session`);
  if (job.status === 'expired') throw new NotFoundError('Visual::Expired', `job '${jobId}' expired: its output and pictures were removed to keep the file's version limit`);
  if (job.status !== 'completed') throw new ConflictError('Job::NotReady', `job '${jobId}' is ${job.status}; its output's waveform is drawn when it completes`, { field: 'job_id' });
  if (!jobHasVisuals(job)) throw new NotFoundError('Visual::NotAvailable', `job '${jobId}' completed before waveforms were drawn for outputs; run it again for one`);
  return deliveryUrl(deps.deliveryBaseUrl, visualKey(session.session_id, job.job_id, name));
}
