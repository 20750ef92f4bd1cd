import { after, before } from 'node:test';
import { openS3Store } from '../../lib/checkpoint/s3-store.ts';
import { runCheckpointStoreContract } from '../contract/checkpoint-store.contract.ts';
import { startS3, STANDIN_CREDENTIALS, type S3StandIn } from '../support/aws.ts';

let s3: S3StandIn;
let n = 0;
before(async () => {
  s3 = await startS3();
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
