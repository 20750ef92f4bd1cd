import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FerryError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { awsCalls, clientConfig, type AwsStoreConnection } from './aws-common.ts';
import { ConditionalCheckpointStore, newVersion, serialiseValue, type CasBackend, type Expect, type Stored } from './conditional-store.ts';
import { itemRecordSchema, leaseStateSchema, type ItemRecord, type LeaseState } from './records.ts';
import { S3Layout } from './s3-keys.ts';

/** Options of {@link openS3Store}. */
export interface S3StoreOptions extends AwsStoreConnection {
  bucket: string;
  /** Object name prefix inside the bucket (e.g. `ferry/`; default none). */
  prefix?: string;
  /** Path-style requests, for stand-ins (MinIO, s3rver). */
  forcePathStyle?: boolean;
  logger?: Logger;
  /** ListObjectsV2 MaxKeys (S3 caps it at 1000). */
  pageSize?: number;
}

/** Objects fetched in parallel by `list`. */
const LIST_PARALLEL = 16;

/**
 * The S3 checkpoint store: a {@link ConditionalCheckpointStore} on S3 conditional writes. The version of an
 * item is its ETag; create-only is `If-None-Match: *`, compare-and-swap is `If-Match: <ETag>` (PUT and
 * DELETE); a refused condition (412, or 409 for a concurrent conditional write) is a lost race. Every record
 * carries a random version, so two writes of the same value still get different ETags (no ABA).
 * Layout: s3-keys.ts. S3 reads are strongly consistent, so a read after a write sees it.
 */
export function openS3Store(o: S3StoreOptions): ConditionalCheckpointStore {
  const logger = o.logger ?? silentLogger;
  return new ConditionalCheckpointStore(new S3Backend(o, logger), logger);
}

class S3Backend implements CasBackend {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly layout: S3Layout;
  private readonly aws: ReturnType<typeof awsCalls>;

  constructor(private readonly o: S3StoreOptions, logger: Logger) {
    this.aws = awsCalls({ store: `S3 bucket ${o.bucket}`, resourceKey: 'checkpoint.bucket', endpoint: o.endpoint }, logger);
    this.client = new S3Client({ ...clientConfig(o), forcePathStyle: o.forcePathStyle ?? false });
    this.layout = new S3Layout(o.prefix ?? '');
  }

  async getItem(key: string, signal?: AbortSignal): Promise<Stored<ItemRecord> | undefined> {
    return this.getObject(this.layout.item(key), key, signal);
  }

  async listItems(prefix: string, signal?: AbortSignal): Promise<Array<Stored<ItemRecord>>> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.aws.call('list', prefix, signal, () =>
        this.client.send(new ListObjectsV2Command({
          Bucket: this.o.bucket, Prefix: this.layout.listPrefix(prefix), ContinuationToken: token,
          ...(this.o.pageSize ? { MaxKeys: this.o.pageSize } : {}),
        }), { abortSignal: signal }),
      );
      for (const obj of page.Contents ?? []) if (obj.Key?.endsWith('.json')) names.push(obj.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out: Array<Stored<ItemRecord>> = [];
    for (let i = 0; i < names.length; i += LIST_PARALLEL) {
      // An object deleted since the listing reads as undefined and is skipped.
      const got = await Promise.all(names.slice(i, i + LIST_PARALLEL).map((n) => this.getObject(n, prefix, signal)));
      for (const g of got) if (g) out.push(g);
    }
    return out;
  }

  async putItem(key: string, rec: ItemRecord, expect: Expect, signal?: AbortSignal): Promise<string | null> {
    return this.putObject(this.layout.item(key), key, serialiseValue(key, rec), expect, signal);
  }

  async deleteItem(key: string, expect: string | undefined, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.layout.item(key), ...(expect !== undefined ? { IfMatch: expect } : {}) }), { abortSignal: signal });
      return true;
    } catch (e) {
      if (expect !== undefined && isPreconditionFailure(e)) return false;
      throw this.aws.failure(e, 'delete', key, signal);
    }
  }

  async getLease(name: string, signal?: AbortSignal): Promise<Stored<LeaseState> | undefined> {
    const got = await this.getObject(this.layout.lease(name), name, signal);
    if (!got) return undefined;
    const state = leaseStateSchema.safeParse(got.value.value);
    if (!state.success) throw new FerryError('CP003', `checkpoint: lease record "${name}" in bucket ${this.o.bucket} has an unexpected shape`, { details: { lease: name } });
    return { value: state.data, version: got.version };
  }

  async putLease(name: string, state: LeaseState, expect: string | null, signal?: AbortSignal): Promise<string | null> {
    const rec: ItemRecord = { format: 1, key: name, version: newVersion(), value: state, writtenAt: Date.now() };
    return this.putObject(this.layout.lease(name), name, JSON.stringify(rec), expect, signal);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async getObject(objectKey: string, key: string, signal?: AbortSignal): Promise<Stored<ItemRecord> | undefined> {
    let text: string;
    let etag: string | undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: objectKey }), { abortSignal: signal });
      text = await r.Body!.transformToString('utf8');
      etag = r.ETag;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.aws.failure(e, 'get', key, signal);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new FerryError('CP003', `checkpoint: object ${objectKey} in bucket ${this.o.bucket} is not valid JSON`, { cause: e, details: { key, objectKey } });
    }
    const r = itemRecordSchema.safeParse(parsed);
    if (!r.success || !etag) {
      throw new FerryError('CP003', `checkpoint: object ${objectKey} in bucket ${this.o.bucket} has an unexpected shape${r.success ? ' (no ETag)' : `: ${r.error.issues[0]?.message}`}`, {
        details: { key, objectKey },
      });
    }
    return { value: r.data, version: etag };
  }

  /** PUT with the condition `expect` maps to; the new ETag, or null when the condition was refused. */
  private async putObject(objectKey: string, key: string, body: string, expect: Expect, signal?: AbortSignal): Promise<string | null> {
    const cond = expect === null ? { IfNoneMatch: '*' } : expect !== undefined ? { IfMatch: expect } : {};
    try {
      const r = await this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: objectKey, Body: body, ContentType: 'application/json', ...cond }), { abortSignal: signal });
      if (!r.ETag) throw new FerryError('CP003', `checkpoint: S3 PUT of ${objectKey} returned no ETag`, { details: { key } });
      return r.ETag;
    } catch (e) {
      if (expect !== undefined && isPreconditionFailure(e)) return null;
      throw this.aws.failure(e, 'put', key, signal);
    }
  }


}

const status = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** 412 PreconditionFailed; 409 ConditionalRequestConflict (a concurrent conditional write); 404 for If-Match on a missing key. */
function isPreconditionFailure(e: unknown): boolean {
  const s = status(e);
  return s === 412 || s === 409 || (s === 404 && (e as Error).name !== 'NoSuchBucket') || (e as Error).name === 'PreconditionFailed';
}

function isNotFound(e: unknown): boolean {
  const name = (e as Error).name;
  return name !== 'NoSuchBucket' && (name === 'NoSuchKey' || name === 'NotFound' || status(e) === 404);
}
