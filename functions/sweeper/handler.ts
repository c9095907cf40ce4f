import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ENV, expireSessions, expireUploads, JOBS, sweepJobs } from '@david/core';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('sweeper');
const deps = buildDeps(process.env);
const leaseMs = Number(process.env[ENV.jobLeaseSeconds] ?? JOBS.leaseSeconds) * 1000;

/** On a schedule: jobs whose worker died (lease run out) go back to the queue; never-sent uploads and idle sessions expire. */
export const lambdaHandler = async () => {
  const jobs = await sweepJobs(deps, leaseMs);
  const uploads = await expireUploads(deps);
  const sessions = await expireSessions(deps);
  if (jobs.resent > 0 || jobs.dropped > 0 || uploads.expired > 0 || sessions.expired > 0 || sessions.renewed > 0) logger.info('swept', { jobs, uploads, sessions });
  return { jobs, uploads, sessions };
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
