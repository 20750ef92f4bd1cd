import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  type AttributeValue, type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { FerryError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { awsCalls, clientConfig, type AwsStoreConnection } from './aws-common.ts';
import { ConditionalCheckpointStore, newVersion, serialiseValue, type CasBackend, type Expect, type Stored } from './conditional-store.ts';
import { DynamoLayout, partitionOf } from './dynamodb-keys.ts';
import { itemRecordSchema, leaseStateSchema, type ItemRecord, type LeaseState } from './records.ts';

/** Options of {@link openDynamoDbStore}. */
export interface DynamoDbStoreOptions extends AwsStoreConnection {
  table: string;
  /** Namespace inside the table, so several deployments can share one (default none). */
  prefix?: string;
  logger?: Logger;
  /** Query page size (DynamoDB's own limit is 1 MB per page); tests set it small to exercise pagination. */
  pageSize?: number;
}

/** JSON values above this are stored gzipped (DynamoDB items are limited to 400 KB). */
const GZIP_ABOVE_BYTES = 64 * 1024;
const MAX_VALUE_BYTES = 380 * 1024;
type Attrs = Record<string, AttributeValue>;

/**
 * The DynamoDB checkpoint store: a {@link ConditionalCheckpointStore} whose single-key conditions are
 * `ConditionExpression`s (no transactions needed, so it runs on DynamoDB Local stand-ins such as dynalite).
 * Layout: dynamodb-keys.ts. Every read is strongly consistent.
 */
export function openDynamoDbStore(o: DynamoDbStoreOptions): ConditionalCheckpointStore {
  const logger = o.logger ?? silentLogger;
  return new ConditionalCheckpointStore(new DynamoBackend(o, logger), logger);
}

class DynamoBackend implements CasBackend {
  readonly kind = 'dynamodb';
  private readonly client: DynamoDBClient;
  private readonly layout: DynamoLayout;
  private readonly table: string;
  /** Partitions whose directory marker this process has written (markers are idempotent and never removed). */
  private readonly knownPartitions = new Set<string>();
  private readonly aws: ReturnType<typeof awsCalls>;

  constructor(private readonly o: DynamoDbStoreOptions, logger: Logger) {
    this.aws = awsCalls({ store: `DynamoDB table ${o.table}`, resourceKey: 'checkpoint.table', endpoint: o.endpoint }, logger);
    this.client = new DynamoDBClient(clientConfig(o));
    this.layout = new DynamoLayout(o.prefix ?? '');
    this.table = o.table;
  }

  async getItem(key: string, signal?: AbortSignal): Promise<Stored<ItemRecord> | undefined> {
    const r = await this.aws.call('get', key, signal, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: keyAttrs(this.layout.item(key)), ConsistentRead: true }), { abortSignal: signal }));
    return r.Item && decodeItem(r.Item, key);
  }

  async listItems(prefix: string, signal?: AbortSignal): Promise<Array<Stored<ItemRecord>>> {
    const out: Array<Stored<ItemRecord>> = [];
    const collect = async (pk: string, skPrefix: string) => {
      for await (const item of this.query(pk, skPrefix, signal)) out.push(decodeItem(item, String(item.sk?.S)));
    };
    if (partitionOf(prefix) !== '') {
      await collect(this.layout.partitionPk(partitionOf(prefix)), prefix);
      return out;
    }
    // A prefix shorter than one partition id: the root partition, plus every partition the directory lists.
    await collect(this.layout.partitionPk(''), prefix);
    const partitions: string[] = [];
    for await (const d of this.query(this.layout.directoryPk(), prefix, signal)) partitions.push(String(d.sk?.S));
    for (const p of partitions) await collect(this.layout.partitionPk(p), p);
    return out;
  }

  async putItem(key: string, rec: ItemRecord, expect: Expect, signal?: AbortSignal): Promise<string | null> {
    const item: Attrs = { ...keyAttrs(this.layout.item(key)), ver: { S: rec.version }, at: { N: String(rec.writtenAt) }, ...encodeValue(rec) };
    const values: Attrs = {};
    const conds: string[] = [];
    if (expect === null) conds.push('attribute_not_exists(pk)');
    else if (expect !== undefined) {
      conds.push('ver = :ev');
      values[':ev'] = { S: expect };
    }
    if (rec.fence) {
      item.fl = { S: rec.fence.lease };
      item.fe = { N: String(rec.fence.epoch) };
      // The fence epoch kept on the item and conditioned on: no write of an older epoch of the same lease
      // lands after a newer one, even if the caller's version check was skipped.
      conds.push('(attribute_not_exists(fe) OR fl <> :fl OR fe <= :fe)');
      values[':fl'] = item.fl;
      values[':fe'] = item.fe;
    }
    await this.ensurePartition(key, signal);
    return this.conditional('put', key, signal, rec.version, () =>
      this.client.send(new PutItemCommand({
        TableName: this.table, Item: item,
        ...(conds.length ? { ConditionExpression: conds.join(' AND ') } : {}),
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      }), { abortSignal: signal }),
    );
  }

  async deleteItem(key: string, expect: string | undefined, signal?: AbortSignal): Promise<boolean> {
    const cond = expect === undefined ? {} : { ConditionExpression: 'ver = :ev', ExpressionAttributeValues: { ':ev': { S: expect } } };
    const r = await this.conditional('delete', key, signal, 'ok', () =>
      this.client.send(new DeleteItemCommand({ TableName: this.table, Key: keyAttrs(this.layout.item(key)), ...cond }), { abortSignal: signal }),
    );
    return r !== null;
  }

  async getLease(name: string, signal?: AbortSignal): Promise<Stored<LeaseState> | undefined> {
    const r = await this.aws.call('get lease', name, signal, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: keyAttrs(this.layout.lease(name)), ConsistentRead: true }), { abortSignal: signal }));
    if (!r.Item) return undefined;
    const state = leaseStateSchema.safeParse({ owner: r.Item.owner?.S ?? null, epoch: Number(r.Item.epoch?.N), expiresAt: Number(r.Item.exp?.N) });
    if (!state.success || !r.Item.ver?.S) throw new FerryError('CP003', `checkpoint: lease record "${name}" in table ${this.table} has an unexpected shape`, { details: { lease: name } });
    return { value: state.data, version: r.Item.ver.S };
  }

  async putLease(name: string, state: LeaseState, expect: string | null, signal?: AbortSignal): Promise<string | null> {
    const ver = newVersion();
    const item: Attrs = {
      ...keyAttrs(this.layout.lease(name)), ver: { S: ver }, epoch: { N: String(state.epoch) }, exp: { N: String(state.expiresAt) },
      ...(state.owner === null ? {} : { owner: { S: state.owner } }),
    };
    const cond = expect === null
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'ver = :ev', ExpressionAttributeValues: { ':ev': { S: expect } } };
    return this.conditional('put lease', name, signal, ver, () => this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ...cond }), { abortSignal: signal }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Writes the partition's directory marker once per process (idempotent put). */
  private async ensurePartition(key: string, signal?: AbortSignal): Promise<void> {
    const p = partitionOf(key);
    if (p === '' || this.knownPartitions.has(p)) return;
    await this.aws.call('put directory marker', key, signal, () =>
      this.client.send(new PutItemCommand({ TableName: this.table, Item: keyAttrs(this.layout.directory(p)) }), { abortSignal: signal }),
    );
    this.knownPartitions.add(p);
  }

  /** Every item of `pk` whose sort key starts with `skPrefix`, page by page (LastEvaluatedKey). */
  private async *query(pk: string, skPrefix: string, signal?: AbortSignal): AsyncGenerator<Attrs> {
    let start: Attrs | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.table,
        ConsistentRead: true,
        KeyConditionExpression: skPrefix === '' ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :sp)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ...(skPrefix === '' ? {} : { ':sp': { S: skPrefix } }) },
        ...(this.o.pageSize ? { Limit: this.o.pageSize } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await this.aws.call('list', skPrefix, signal, () => this.client.send(new QueryCommand(input), { abortSignal: signal }));
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Runs a conditional write: `ok` on success, null when its condition failed. */
  private async conditional<R>(op: string, key: string, signal: AbortSignal | undefined, ok: R, send: () => Promise<unknown>): Promise<R | null> {
    try {
      await send();
      return ok;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') return null;
      throw this.aws.failure(e, op, key, signal);
    }
  }


}

const keyAttrs = (k: { pk: string; sk: string }): Attrs => ({ pk: { S: k.pk }, sk: { S: k.sk } });

/** The value attribute: `val` (JSON text) or `valz` (gzipped JSON) above {@link GZIP_ABOVE_BYTES}. */
function encodeValue(rec: ItemRecord): Attrs {
  const text = serialiseValue(rec.key, rec.value);
  if (text.length < GZIP_ABOVE_BYTES) return { val: { S: text } };
  const z = gzipSync(text);
  if (z.length > MAX_VALUE_BYTES) {
    throw new FerryError('RT002', `checkpoint: value for "${rec.key}" is ${z.length} bytes gzipped, over the DynamoDB store's ${MAX_VALUE_BYTES}-byte limit (items are limited to 400 KB)`, {
      details: { key: rec.key, bytes: z.length },
    });
  }
  return { valz: { B: z } };
}

/** An item read back, validated (zod at the boundary); a foreign or damaged item is CP003. */
function decodeItem(a: Attrs, key: string): Stored<ItemRecord> {
  let value: unknown;
  try {
    value = a.valz?.B ? JSON.parse(gunzipSync(a.valz.B).toString('utf8')) : JSON.parse(a.val?.S ?? 'undefined');
  } catch (e) {
    throw new FerryError('CP003', `checkpoint: item "${key}" holds no readable value`, { cause: e, details: { key } });
  }
  const fence = a.fl?.S !== undefined ? { lease: a.fl.S, epoch: Number(a.fe?.N) } : undefined;
  const r = itemRecordSchema.safeParse({ format: 1, key: a.sk?.S, version: a.ver?.S, value, writtenAt: Number(a.at?.N), ...(fence ? { fence } : {}) });
  if (!r.success) throw new FerryError('CP003', `checkpoint: item "${key}" has an unexpected shape: ${r.error.issues[0]?.message}`, { details: { key } });
  return { value: r.data, version: r.data.version };
}
