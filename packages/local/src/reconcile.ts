import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BUCKETS, DynamoFileRepository, parseUploadKey, TABLE } from '@david/core';

/** S3 event notifications carry keys form-URL-encoded. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** An S3 `ObjectCreated` notification as S3 sends it to SQS. */
export function objectCreatedEvent(bucket: string, key: string, size?: number, eTag?: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Post',
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeEventKey(key), size, eTag } },
      },
    ],
  };
}

/**
 * The local S3 → SQS bridge is an in-process event: a crash between S3 accepting an upload and the bridge sending
 * its event would lose it (S3 itself delivers at least once). So at start-up every upload whose record is still
 * `pending` gets its event again; ingest is idempotent, so one that was already on its way changes nothing.
 */
export async function reconcileUploads(s3: S3Client, db: DynamoDBDocumentClient, send: (event: object) => Promise<void>): Promise<number> {
  const files = new DynamoFileRepository(db, TABLE.name);
  let token: string | undefined;
  let sent = 0;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.uploads.name, Prefix: BUCKETS.uploads.prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const parsed = o.Key ? parseUploadKey(o.Key) : null;
      if (!parsed) continue;
      const file = await files.get(parsed.sessionId, parsed.fileId);
      if (file?.status !== 'pending') continue;
      await send(objectCreatedEvent(BUCKETS.uploads.name, o.Key!, o.Size, o.ETag?.replaceAll('"', '')));
      sent++;
    }
    token = page.NextContinuationToken;
  } while (token);
  return sent;
}
