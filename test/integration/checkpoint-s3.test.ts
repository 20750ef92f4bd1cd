import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fenceOf } from '../../lib/core/checkpoint.ts';
import { openS3Store, type S3StoreOptions } from '../../lib/checkpoint/s3-store.ts';
import { runCheckpointStoreContract } from '../contract/checkpoint-store.contract.ts';
import { runAwsFailureChecks } from '../support/aws-store-checks.ts';
import { startS3, STANDIN_CREDENTIALS, type S3StandIn } from '../support/aws.ts';

let s3: S3StandIn;
let n = 0;
before(async () => {
  s3 = await startS3();
  await s3.createBucket(`cp-fail-${process.pid}`);
});
after(async () => {
  await s3.stop();
});

/** A fresh bucket per test, behind the condition-enforcing proxy. */
async function freshStore() {
  const bucket = `cp-contract-${process.pid}-${++n}`;
  await s3.createBucket(bucket);
  const store = openS3Store({ bucket, endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
  return { store, cleanup: async () => {} };
}

runCheckpointStoreContract('s3 (s3rver + condition proxy)', freshStore);

describe('s3 store specifics', () => {
  const open = (bucket: string, extra: Partial<S3StoreOptions> = {}) =>
    openS3Store({ bucket, endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: STANDIN_CREDENTIALS, ...extra });

  it('20 racing CAS writers: exactly one wins, 19 refused by If-Match (s3rver alone lets several win)', async () => {
    const bucket = `cp-race-${process.pid}`;
    await s3.createBucket(bucket);
    const race = async (store: ReturnType<typeof open>, key: string) => {
      const base = await store.put(key, { winner: null }, { expectedVersion: null });
      const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.put(key, { winner: i }, { expectedVersion: base })));
      return settled.filter((r) => r.status === 'fulfilled').length;
    };
    const refusedBefore = s3.refused.count;
    const viaProxy = open(bucket);
    assert.equal(await race(viaProxy, 'race/proxied'), 1);
    assert.equal(s3.refused.count - refusedBefore, 19);
    // The same race straight against s3rver: the stand-in ignores If-Match, which is why the proxy exists.
    const direct = open(bucket, { endpoint: s3.directEndpoint });
    assert.ok((await race(direct, 'race/direct')) > 1, 's3rver now enforces If-Match: the proxy may be dropped');
    await viaProxy.close();
    await direct.close();
  });

  it('list pages through more than 1000 objects (ListObjectsV2 continuation)', async () => {
    const bucket = `cp-pages-${process.pid}`;
    await s3.createBucket(bucket);
    const store = open(bucket);
    const keys = Array.from({ length: 1050 }, (_, i) => `tasks/p/chunks/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((k) => store.put(k, { k })));
    await store.put('tasks/p/plan', 'not a chunk');
    const listed = await store.list<{ k: string }>('tasks/p/chunks/');
    assert.equal(listed.length, 1050);
    assert.deepEqual(listed.map((i) => i.key), keys);
    assert.ok(listed.every((i) => i.value.k === i.key));
    const small = open(bucket, { pageSize: 100 });
    assert.equal((await small.list('tasks/p/')).length, 1051);
    await store.close();
    await small.close();
  });

  it('leases are objects under leases/, items under items/', async () => {
    const bucket = `cp-layout-${process.pid}`;
    await s3.createBucket(bucket);
    const store = open(bucket, { prefix: 'ferry/' });
    const lease = (await store.acquireLease('tasks/t/leases/cdc', 'w', 60_000))!;
    await store.put('tasks/t.1/cdc/position', { pos: 1 }, { fence: fenceOf(lease) });
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
    const names = (await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key).sort();
    assert.deepEqual(names, ['ferry/items/tasks/t%2E1/cdc/position.json', 'ferry/leases/tasks/t/leases/cdc.json']);
    client.destroy();
    await store.close();
  });

  runAwsFailureChecks('s3', 'checkpoint.bucket', async (c) => open(c.resource ?? `cp-fail-${process.pid}`, c), { refusesBadCredentials: true });
});
