import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { it } from 'node:test';
import type { CheckpointStore } from '../../lib/core/checkpoint.ts';
import { memoryLogger, type Logger } from '../../lib/core/logger.ts';
import type { AwsStoreConnection } from '../../lib/checkpoint/aws-common.ts';
import { rejectsWith } from '../contract/checkpoint-store.contract.ts';

/** Builds a store of the kind under test with connection overrides and a logger. */
export type MakeAwsStore = (conn: AwsStoreConnection & { logger: Logger; resource?: string }) => Promise<CheckpointStore>;

/** A TCP port nothing listens on (bound, then closed). */
export async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

const SECRET = 'wJalrXUtnFEMI-K7MDENG-ferry-test-SECRET';

/**
 * Failure cases every AWS-backed store shares: an unreachable endpoint is CP003 (retryable) naming the
 * endpoint; a missing table/bucket is CP003, not retryable, naming the config key; credentials never reach
 * a message, an error's details or a log line.
 */
export function runAwsFailureChecks(kind: string, resourceKey: string, make: MakeAwsStore, opts: { refusesBadCredentials: boolean }): void {
  it(`${kind}: an unreachable endpoint is CP003 retryable, naming the endpoint`, async () => {
    const logger = memoryLogger();
    const endpoint = `http://127.0.0.1:${await deadPort()}`;
    const store = await make({ endpoint, logger, maxAttempts: 1, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: SECRET } });
    const err = await rejectsWith(store.get('tasks/t/plan'), 'CP003');
    assert.equal(err.retryable, true);
    assert.match(err.message, new RegExp(`endpoint ${endpoint} unreachable \\(ECONNREFUSED\\)`));
    await rejectsWith(store.put('tasks/t/plan', 1, { expectedVersion: null }), 'CP003');
    assertNoSecret(err, logger.lines);
    await store.close();
  });

  it(`${kind}: a missing ${resourceKey} is CP003, not retryable, naming the key`, async () => {
    const store = await make({ logger: memoryLogger(), resource: 'does-not-exist-' + process.pid });
    const err = await rejectsWith(store.get('tasks/t/plan'), 'CP003');
    assert.equal(err.retryable, false);
    assert.match(err.message, new RegExp(resourceKey.replace('.', '\\.')));
    await store.close();
  });

  if (opts.refusesBadCredentials) {
    it(`${kind}: refused credentials are AU001 and the secret appears nowhere`, async () => {
      const logger = memoryLogger();
      // s3rver checks the access key id (not the signature), so the key id is the one it does not know.
      const store = await make({ logger, credentials: { accessKeyId: 'AKIDNOTKNOWN', secretAccessKey: SECRET } });
      const err = await rejectsWith(store.put('tasks/t/plan', { a: 1 }), 'AU001');
      assert.equal(err.retryable, false);
      assertNoSecret(err, logger.lines);
      await store.close();
    });
  }
}

function assertNoSecret(err: Error & { toJSON(): unknown }, lines: unknown[]): void {
  for (const text of [err.message, String(err.stack), JSON.stringify(err.toJSON()), JSON.stringify(lines)]) {
    assert.ok(!text.includes(SECRET), 'the secret access key leaked');
  }
  assert.ok(lines.length > 0, 'the failure was logged (debug)');
}
