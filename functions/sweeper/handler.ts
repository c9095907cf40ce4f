import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ENV, expireUploads, JOBS, sweepJobs } from '@david/core';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('sweeper');
const deps = buildDeps(process.env);
const leaseMs = Number(process.env[ENV.jobLeaseSeconds] ?? JOBS.leaseSeconds) * 1000;

/** On a schedule: jobs whose worker died (lease run out) go back to the queue; never-sent uploads expire. */
export const lambdaHandler = async () => {
  const jobs = await sweepJobs(deps, leaseMs);
  const uploads = await expireUploads(deps);
  if (jobs.resent > 0 || jobs.dropped > 0 || uploads.expired > 0) logger.info('swept', { jobs, uploads });
  return { jobs, uploads };
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
