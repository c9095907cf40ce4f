import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '@david/core';

/** One logger per handler module; session_id, file_id and job_id are appended as keys while a record is handled. */
export function createLogger(fn: string): Logger {
  return new Logger({ serviceName: SERVICE_NAME, persistentKeys: { function: fn } });
}
