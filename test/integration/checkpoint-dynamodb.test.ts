import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { fenceOf } from '../../lib/core/checkpoint.ts';
import { sleep } from '../../lib/core/signal.ts';
import { compareKeys } from '../../lib/checkpoint/keys.ts';
import { openDynamoDbStore } from '../../lib/checkpoint/dynamodb-store.ts';
import { rejectsWith, runCheckpointStoreContract } from '../contract/checkpoint-store.contract.ts';
import { runAwsFailureChecks } from '../support/aws-store-checks.ts';
import { startDynalite, STANDIN_CREDENTIALS, type Dynalite } from '../support/aws.ts';

let db: Dynalite;
let n = 0;
before(async () => {
  db = await startDynalite();
});
after(async () => {
  await db.stop();
});

/** A fresh table per test: the contract needs an empty store. */
async function freshStore() {
  const table = `cp_contract_${process.pid}_${++n}`;
  await db.createTable(table);
  const store = openDynamoDbStore({ table, endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
  return { store, cleanup: async () => {} };
}

runCheckpointStoreContract('dynamodb (dynalite)', freshStore);

describe('dynamodb store specifics', () => {
  it('list pages through a partition, the root and the partition directory (page size 7)', async () => {
    const table = `cp_pages_${process.pid}`;
    await db.createTable(table);
    const store = openDynamoDbStore({ table, endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS, pageSize: 7 });
    const chunks = Array.from({ length: 60 }, (_, i) => `tasks/t1/chunks/${String(i).padStart(5, '0')}`);
    const others = ['tasks/t2/plan', 'tasks/t3/chunks/a', 'root-key', 'tasks/loose', 'other/x/y'];
    for (const k of [...chunks, ...others]) await store.put(k, { k });
    assert.deepEqual((await store.list('tasks/t1/chunks/')).map((i) => i.key), chunks);
    assert.deepEqual((await store.list('')).map((i) => i.key), [...chunks, ...others].sort(compareKeys));
    assert.deepEqual((await store.list('tasks/')).map((i) => i.key), [...chunks, ...others].filter((k) => k.startsWith('tasks/')).sort(compareKeys));
    await store.close();
  });

  it('a value over 64 KB is stored gzipped and round-trips; one too large even gzipped is RT002', async () => {
    const table = `cp_big_${process.pid}`;
    await db.createTable(table);
    const store = openDynamoDbStore({ table, endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
    const plan = { chunks: Array.from({ length: 8000 }, (_, i) => ({ id: `0000-${String(i).padStart(5, '0')}`, lower: [i * 100], upper: [(i + 1) * 100] })) };
    assert.ok(JSON.stringify(plan).length > 400 * 1024, 'bigger than a DynamoDB item');
    const v = await store.put('tasks/big/plan', plan, { expectedVersion: null });
    assert.deepEqual(await store.get('tasks/big/plan'), { value: plan, version: v });
    const noise = Array.from({ length: 120_000 }, (_, i) => ((i * 2654435761) % 4294967296).toString(36));
    await rejectsWith(store.put('tasks/big/noise', noise), 'RT002');
    await store.close();
  });

  it('a stale fenced writer is refused and the item keeps the newer epoch', async () => {
    const table = `cp_fence_${process.pid}`;
    await db.createTable(table);
    const store = openDynamoDbStore({ table, endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
    const a = (await store.acquireLease('tasks/t/leases/chunk-1', 'a', 200))!;
    await store.put('tasks/t/chunks/1', { at: 1 }, { fence: fenceOf(a) });
    await sleep(300);
    const b = (await store.acquireLease('tasks/t/leases/chunk-1', 'b', 60_000))!;
    await store.put('tasks/t/chunks/1', { at: 2 }, { fence: fenceOf(b) });
    const err = await rejectsWith(store.put('tasks/t/chunks/1', { at: 'stale' }, { fence: fenceOf(a) }), 'CP002');
    assert.equal(err.details.currentEpoch, b.epoch);
    const raw = await new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS })
      .send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'i|tasks/t/' }, sk: { S: 'tasks/t/chunks/1' } } }));
    assert.equal(raw.Item?.fe?.N, String(b.epoch));
    assert.equal(raw.Item?.fl?.S, 'tasks/t/leases/chunk-1');
    await store.close();
  });

  runAwsFailureChecks('dynamodb', 'checkpoint.table', async (c) => {
    const table = c.resource ?? `cp_fail_${process.pid}`;
    return openDynamoDbStore({ table, region: 'us-east-1', endpoint: db.endpoint, credentials: STANDIN_CREDENTIALS, ...c });
  }, { refusesBadCredentials: false });
});
