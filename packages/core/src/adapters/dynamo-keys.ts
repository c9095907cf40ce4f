/** Single-table layout: every item of a session shares its partition, so deleting a session is one query. */
export const sessionPk = (sessionId: string) => `SES#${sessionId}`;
export const SESSION_SK = 'META';
export const fileSk = (fileId: string) => `FILE#${fileId}`;
export const jobSk = (jobId: string) => `JOB#${jobId}`;
export const idempotencySk = (key: string) => `IDEM#${key}`;
/** Leases of running jobs: one small partition the sweeper reads whole (its size is the number of running jobs). */
export const LEASES_PK = 'LEASES';
export const leaseSk = (sessionId: string, jobId: string) => `${sessionId}#${jobId}`;
/** Pending uploads, sorted by the time they are due to expire. */
export const PENDING_PK = 'PENDING';
export const pendingSk = (dueAt: string, sessionId: string, fileId: string) => `${dueAt}#${sessionId}#${fileId}`;
/** Sessions by expiry time (zero-padded epoch seconds sort as numbers). */
export const EXPIRY_PK = 'EXPIRY';
export const expirySk = (expiresAt: number, sessionId: string) => `${String(expiresAt).padStart(12, '0')}#${sessionId}`;
export const indexPointerPk = (name: string) => `INDEX#${name}`;
export const INDEX_POINTER_SK = 'POINTER';
