import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors.ts';

type Key = Record<string, string>;
type Item = Record<string, unknown>;

/** BatchGetItem takes at most this many keys. */
const MAX_KEYS = 100;
/** Keys DynamoDB leaves unprocessed (throttling) are asked again this many times, backing off, before the read fails. */
const UNPROCESSED_RETRIES = 8;

interface Pending {
  readonly key: Key;
  readonly waiters: { resolve: (item: Item | undefined) => void; reject: (err: unknown) => void }[];
}

/** One key's identity: its attributes in name order (a table's key schema is the same for every key). */
const idOf = (key: Record<string, unknown>, names: readonly string[]) => JSON.stringify(names.map((n) => key[n]));

/**
 * Strongly consistent single-item reads of one table, gathered: the reads asked for in the same turn of the event loop
 * go out as one BatchGetItem (the same key once, up to 100 keys a request). The long polls an API environment holds
 * re-read on shared ticks (see `pollUntil`), and ingest reads a batch of uploads' sessions and files at once: each of
 * these costs one request for all instead of one each. ConsistentRead as GetItem had it; keys left unprocessed are
 * asked again with backoff; a failed request fails every read it carried (each caller retries as it would a GetItem).
 */
export class BatchReader {
  private queue = new Map<string, Pending>();
  private scheduled = false;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly keyNames: readonly string[],
  ) {}

  get(key: Key): Promise<Item | undefined> {
    const id = idOf(key, this.keyNames);
    return new Promise((resolve, reject) => {
      const pending = this.queue.get(id);
      if (pending) pending.waiters.push({ resolve, reject });
      else this.queue.set(id, { key, waiters: [{ resolve, reject }] });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = [...this.queue.entries()];
    this.queue = new Map();
    this.scheduled = false;
    for (let i = 0; i < batch.length; i += MAX_KEYS) void this.fetch(batch.slice(i, i + MAX_KEYS));
  }

  private async fetch(batch: [string, Pending][]): Promise<void> {
    try {
      const found = new Map<string, Item>();
      let keys: Key[] = batch.map(([, p]) => p.key);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new TransientError('Store::Throttled', `DynamoDB left ${keys.length} keys of ${this.table} unprocessed ${UNPROCESSED_RETRIES} times`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2)));
        const res = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of res.Responses?.[this.table] ?? []) found.set(idOf(item, this.keyNames), item);
        keys = (res.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
      }
      for (const [id, p] of batch) for (const w of p.waiters) w.resolve(found.get(id));
    } catch (err) {
      for (const [, p] of batch) for (const w of p.waiters) w.reject(err);
    }
  }
}

const readers = new WeakMap<DynamoDBDocumentClient, Map<string, BatchReader>>();

/** The one reader of a table per client, so every repository of that table gathers into the same requests. */
export function batchReaderFor(db: DynamoDBDocumentClient, table: string, keyNames: readonly string[]): BatchReader {
  let byTable = readers.get(db);
  if (!byTable) readers.set(db, (byTable = new Map()));
  let reader = byTable.get(table);
  if (!reader) byTable.set(table, (reader = new BatchReader(db, table, keyNames)));
  return reader;
}
