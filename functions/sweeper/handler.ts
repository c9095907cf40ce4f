import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ENV, JOBS, sweepJobs } from '@david/core';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('sweeper');
const deps = buildDeps(process.env);
const leaseMs = Number(process.env[ENV.jobLeaseSeconds] ?? JOBS.leaseSeconds) * 1000;

/** On a schedule: jobs whose worker died (lease run out) go back to the queue. */
export const lambdaHandler = async () => {
  const result = await sweepJobs(deps, leaseMs);
  if (result.resent > 0 || result.dropped > 0) logger.info('swept jobs', result);
  return result;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
