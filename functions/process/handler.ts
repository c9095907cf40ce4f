import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ENV, JOBS, QUEUES, runJob } from '@david/core';
import { locateFfmpeg } from '@david/dsp';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';
import { removeDeadScratch, withTempDir } from '../shared/sqs.ts';

const logger = createLogger('process');
const deps = buildDeps(process.env);
const ffmpeg = locateFfmpeg(process.env);
const processor = new BatchProcessor(EventType.SQS);
// What a dead predecessor left in /tmp (its scratch would otherwise fill the disk over time).
void removeDeadScratch().catch(() => undefined);
const leaseMs = Number(process.env[ENV.jobLeaseSeconds] ?? JOBS.leaseSeconds) * 1000;

function parseJobMessage(body: string): { session_id: string; job_id: string } | null {
  try {
    const m = JSON.parse(body) as { session_id?: unknown; job_id?: unknown };
    return typeof m?.session_id === 'string' && typeof m.job_id === 'string' ? { session_id: m.session_id, job_id: m.job_id } : null;
  } catch {
    return null;
  }
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const msg = parseJobMessage(record.body);
  if (!msg) {
    // Retrying a message that names no job cannot help: logged (with its body) and let go.
    logger.error('unparsable job message dropped', { messageId: record.messageId, body: record.body.slice(0, 2000) });
    return;
  }
  logger.appendKeys({ session_id: msg.session_id, job_id: msg.job_id });
  try {
    const result = await withTempDir('process', async (tempDir) =>
      runJob(deps, msg, {
        tempDir,
        leaseMs,
        receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
        maxReceiveCount: QUEUES.process.maxReceiveCount,
        maxAttempts: JOBS.maxAttempts,
        ffmpeg: await ffmpeg,
      }),
    );
    if (result.outcome === 'failed') logger.warn('job failed', { error: result.error });
    else logger.info(`job ${result.outcome}`, result.outcome === 'completed' ? { outputs: result.job.outputs } : { reason: result.reason });
  } catch (err) {
    logger.error('job attempt failed; it will be retried', err as Error);
    throw err;
  } finally {
    logger.removeKeys(['session_id', 'job_id']);
  }
}

export const lambdaHandler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
