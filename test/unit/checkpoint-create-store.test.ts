import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCheckpointStore, registeredCheckpointStores } from '../../lib/checkpoint/create-store.ts';
import type { CheckpointConfig } from '../../lib/config/types.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { rejectsWith } from '../contract/checkpoint-store.contract.ts';

describe('createCheckpointStore', () => {
  it('builds a file store in checkpoint.dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-cp-create-'));
    try {
      const store = await createCheckpointStore({ store: 'file', dir: join(dir, 'nested', 'cp') }, { logger: silentLogger });
      assert.equal(store.kind, 'file');
      const v = await store.put('tasks/t/plan', { ok: true }, { expectedVersion: null });
      assert.deepEqual(await store.get('tasks/t/plan'), { value: { ok: true }, version: v });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds dynamodb and s3 stores lazily, without a network call until used', async () => {
    const dynamo = await createCheckpointStore({ store: 'dynamodb', dir: '.', table: 't', region: 'eu-west-1' }, { logger: silentLogger });
    assert.equal(dynamo.kind, 'dynamodb');
    await dynamo.close();
    const s3 = await createCheckpointStore({ store: 's3', dir: '.', bucket: 'b', region: 'eu-west-1', forcePathStyle: true }, { logger: silentLogger });
    assert.equal(s3.kind, 's3');
    await s3.close();
  });

  it('an AWS store without any region is CF002 naming checkpoint.region', async () => {
    const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const err = await rejectsWith(createCheckpointStore({ store: 'dynamodb', dir: '.', table: 't' }, { logger: silentLogger }), 'CF002');
      assert.equal(err.details.key, 'checkpoint.region');
    } finally {
      if (saved.r !== undefined) process.env.AWS_REGION = saved.r;
      if (saved.d !== undefined) process.env.AWS_DEFAULT_REGION = saved.d;
    }
  });

  it('an unknown kind (config not validated) is CF001 too', async () => {
    const cfg = { store: 'redis', dir: '.' } as unknown as CheckpointConfig;
    const err = await rejectsWith(createCheckpointStore(cfg, { logger: silentLogger }), 'CF001');
    assert.match(err.message, /"redis" is not a known store/);
    await rejectsWith(createCheckpointStore({ store: 'toString' as never, dir: '.' }, { logger: silentLogger }), 'CF001');
  });

  it('lists the kinds that can be built', () => {
    assert.deepEqual(registeredCheckpointStores(), ['file', 'dynamodb', 's3']);
  });
});
