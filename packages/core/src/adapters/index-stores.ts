import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobStore, IndexPointer, PointerStore } from '@david/avl-index';
import { Readable } from 'node:stream';
import { INDEX_POINTER_SK, indexPointerPk } from './dynamo-keys.ts';

/** Snapshots and journal segments as S3 objects, written and read as streams. */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body instanceof Uint8Array ? body : Readable.from(body), ContentType: 'application/octet-stream' },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    });
    await upload.done();
  }

  async list(prefix: string): Promise<{ key: string; writtenAt: Date }[]> {
    const out: { key: string; writtenAt: Date }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, writtenAt: o.LastModified ?? new Date(0) });
      token = page.NextContinuationToken;
    } while (token);
    return out;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    }
  }

  async get(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return res.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404)) return null;
      throw err;
    }
  }
}

/**
 * The committed version of an index: one DynamoDB item replaced only by a conditional write on its version, so
 * two writers can never both commit the same version (S3 itself offers no such guarantee on the emulators).
 */
export class DynamoPointerStore implements PointerStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async read(name: string): Promise<IndexPointer | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: indexPointerPk(name), sk: INDEX_POINTER_SK }, ConsistentRead: true }));
    return (res.Item?.pointer as IndexPointer | undefined) ?? null;
  }

  async compareAndSet(name: string, expected: number | null, next: IndexPointer): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: indexPointerPk(name), sk: INDEX_POINTER_SK, type: 'index-pointer', version: next.version, pointer: next },
          ConditionExpression: expected === null ? 'attribute_not_exists(pk)' : 'version = :expected',
          ...(expected === null ? {} : { ExpressionAttributeValues: { ':expected': expected } }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
