import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ingestObject, LIMITS, QUEUES } from '@david/core';
import { analyzeFileWithVisuals, DspError, locateFfmpeg, type ProbeResult } from '@david/dsp';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';
import { objectsInS3Message, removeDeadScratch, withTempDir } from '../shared/sqs.ts';

const logger = createLogger('ingest');
const deps = buildDeps(process.env);
const ffmpeg = locateFfmpeg(process.env);
const processor = new BatchProcessor(EventType.SQS);
// What a dead predecessor left in /tmp (its scratch would otherwise fill the disk over time).
void removeDeadScratch().catch(() => undefined);

/** Analysis at ingest gets at most this long, and never more than the invocation has left minus a margin. */
const ANALYSIS_BUDGET_MS = 30_000;
const MARGIN_MS = 15_000;

/**
 * Loudness, peaks and spectral summary stored on the file record, and its waveform and spectrogram drawn in the same
 * decode (a failure or a timeout never rejects the file).
 */
const analyzeWithin = (invocationDeadline: number) => async (path: string, _media: unknown, probe: ProbeResult) => {
  const deadline = Math.min(Date.now() + ANALYSIS_BUDGET_MS, invocationDeadline - MARGIN_MS);
  if (deadline <= Date.now()) throw new DspError('Analysis::TimedOut', 'no time was left for the analysis');
  const { analysis, visuals } = await analyzeFileWithVisuals(path, { ffmpeg: await ffmpeg, deadline, probe });
  return { analysis: { ...analysis } as Record<string, unknown>, visuals };
};

async function recordHandler(record: SQSRecord, context?: Context): Promise<void> {
  const analyze = analyzeWithin(context ? Date.now() + context.getRemainingTimeInMillis() : Infinity);
  const objects = objectsInS3Message(record.body);
  if (!objects) {
    // Not an S3 notification: retrying cannot help, so it is logged (with its body) and let go.
    logger.error('unparsable ingest message dropped', { messageId: record.messageId, body: record.body.slice(0, 2000) });
    return;
  }
  const attempts = { receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'), maxReceiveCount: QUEUES.ingest.maxReceiveCount };
  for (const obj of objects) {
    const result = await withTempDir('ingest', async (tempDir) => ingestObject(deps, obj, { tempDir, ffmpeg: await ffmpeg, analyze, ...attempts }));
    const keys = 'sessionId' in result ? { session_id: result.sessionId, file_id: result.fileId } : {};
    if (result.outcome === 'rejected') logger.warn('file rejected', { ...keys, key: obj.key, reason: result.reason });
    else logger.info(`ingest ${result.outcome}`, { ...keys, key: obj.key, ...('reason' in result ? { reason: result.reason } : {}) });
  }
}

/**
 * A batch whose uploads together fit well inside /tmp (512 MB) is ingested all at once, so one file's reads and
 * writes overlap another's analysis; otherwise one record at a time, as each may download up to the upload limit.
 * An upload of unknown size counts as the limit.
 */
const PARALLEL_BATCH_BYTES = 64 * 1024 * 1024;
const batchBytes = (event: SQSEvent) =>
  event.Records.reduce((sum, r) => sum + (objectsInS3Message(r.body) ?? []).reduce((s, o) => s + (o.size ?? LIMITS.maxUploadBytes), 0), 0);

export const lambdaHandler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: batchBytes(event) <= PARALLEL_BATCH_BYTES });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
