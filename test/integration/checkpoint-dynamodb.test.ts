import { after, before } from 'node:test';
import { openDynamoDbStore } from '../../lib/checkpoint/dynamodb-store.ts';
import { runCheckpointStoreContract } from '../contract/checkpoint-store.contract.ts';
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
