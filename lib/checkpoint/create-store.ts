import type { CheckpointStore } from '../core/checkpoint.ts';
import { FerryError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { CheckpointConfig } from '../config/types.ts';

/** What a store loader receives: the `[checkpoint]` section and the injected logger. */
export interface CheckpointStoreContext {
  logger: Logger;
}

type StoreLoader = (cfg: CheckpointConfig, ctx: CheckpointStoreContext) => Promise<CheckpointStore>;

/**
 * THE one place a checkpoint store kind is registered: config `checkpoint.store` -> lazy import of its module,
 * so the AWS SDK is loaded only by tasks that use DynamoDB or S3. Adding a store = one file (or folder) under
 * lib/checkpoint plus one line here; a kind mapped to `undefined` is known to the config but not built yet.
 */
const loaders: Record<CheckpointConfig['store'], StoreLoader | undefined> = {
  file: async (cfg, ctx) => {
    const { FileCheckpointStore } = await import('./file-store.ts');
    return FileCheckpointStore.open({ dir: cfg.dir, logger: ctx.logger });
  },
  dynamodb: async (cfg, ctx) => {
    const { openDynamoDbStore } = await import('./dynamodb-store.ts');
    return openDynamoDbStore({ table: cfg.table!, prefix: cfg.prefix, region: cfg.region, endpoint: cfg.endpoint, logger: ctx.logger });
  },
  s3: async (cfg, ctx) => {
    const { openS3Store } = await import('./s3-store.ts');
    return openS3Store({
      bucket: cfg.bucket!, prefix: cfg.prefix, region: cfg.region, endpoint: cfg.endpoint, forcePathStyle: cfg.forcePathStyle, logger: ctx.logger,
    });
  },
};

/**
 * Builds the checkpoint store a task's config asks for. Throws CF001 naming `checkpoint.store` for a kind
 * that is unknown or not yet implemented; store-specific failures (the directory cannot be created...) are
 * the store's own CP003.
 */
export async function createCheckpointStore(cfg: CheckpointConfig, opts: { logger: Logger }): Promise<CheckpointStore> {
  const kind = cfg.store as string;
  const load = Object.hasOwn(loaders, kind) ? loaders[kind as CheckpointConfig['store']] : undefined;
  if (!load) {
    const ready = registeredCheckpointStores().join(', ');
    const why = Object.hasOwn(loaders, kind) ? 'is not yet implemented' : 'is not a known store';
    throw new FerryError('CF001', `checkpoint.store: "${kind}" ${why} (available: ${ready})`, { details: { key: 'checkpoint.store' } });
  }
  return load(cfg, { logger: opts.logger.child({ component: 'checkpoint', store: kind }) });
}

/** Store kinds that can be built today. */
export const registeredCheckpointStores = (): string[] =>
  Object.entries(loaders)
    .filter(([, load]) => load !== undefined)
    .map(([kind]) => kind);
