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

  it('dynamodb and s3 are known but not built yet: CF001 naming checkpoint.store', async () => {
    for (const store of ['dynamodb', 's3'] as const) {
      const err = await rejectsWith(createCheckpointStore({ store, dir: '.', table: 't', bucket: 'b' }, { logger: silentLogger }), 'CF001');
      assert.match(err.message, new RegExp(`^checkpoint\\.store: "${store}" is not yet implemented \\(available: file\\)`));
      assert.equal(err.details.key, 'checkpoint.store');
    }
  });

  it('an unknown kind (config not validated) is CF001 too', async () => {
    const cfg = { store: 'redis', dir: '.' } as unknown as CheckpointConfig;
    const err = await rejectsWith(createCheckpointStore(cfg, { logger: silentLogger }), 'CF001');
    assert.match(err.message, /"redis" is not a known store/);
    await rejectsWith(createCheckpointStore({ store: 'toString' as never, dir: '.' }, { logger: silentLogger }), 'CF001');
  });

  it('lists the kinds that can be built', () => {
    assert.deepEqual(registeredCheckpointStores(), ['file']);
  });
});
