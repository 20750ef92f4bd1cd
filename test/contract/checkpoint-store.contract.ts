import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fenceOf, type CheckpointStore } from '../../lib/core/checkpoint.ts';
import { FerryError, type ErrorCode } from '../../lib/core/errors.ts';
import { sleep } from '../../lib/core/signal.ts';
import { compareKeys } from '../../lib/checkpoint/keys.ts';

/** What a store under test provides: a fresh, empty store and a way to remove what it created. */
export interface CheckpointStoreFixture {
  store: CheckpointStore;
  cleanup(): Promise<void>;
}

/** Lease time-to-live used where a test waits for expiry: short, yet long enough for one round trip. */
const SHORT_TTL_MS = 300;

/**
 * The contract every CheckpointStore (file, DynamoDB, S3) passes unchanged: see the invariants in
 * lib/core/checkpoint.ts. `make` is called once per test and must return an empty store.
 */
export function runCheckpointStoreContract(name: string, make: () => Promise<CheckpointStoreFixture>): void {
  const withStore = (fn: (s: CheckpointStore) => Promise<void>) => async () => {
    const { store, cleanup } = await make();
    try {
      await fn(store);
    } finally {
      await store.close();
      await cleanup();
    }
  };

  describe(`CheckpointStore contract: ${name}`, () => {
    describe('items', () => {
      it('get of a missing key is undefined', withStore(async (s) => {
        assert.equal(await s.get('nope/never'), undefined);
      }));

      it('create-only put succeeds once, then CP001 without changing the value', withStore(async (s) => {
        const v1 = await s.put('k/create', { n: 1 }, { expectedVersion: null });
        assert.equal(typeof v1, 'string');
        await rejectsWith(s.put('k/create', { n: 2 }, { expectedVersion: null }), 'CP001');
        assert.deepEqual(await s.get('k/create'), { value: { n: 1 }, version: v1 });
      }));

      it('CAS with the current version wins; with a stale one CP001 and the value is unchanged', withStore(async (s) => {
        const v1 = await s.put('k/cas', 'a', { expectedVersion: null });
        const v2 = await s.put('k/cas', 'b', { expectedVersion: v1 });
        assert.notEqual(v2, v1);
        const err = await rejectsWith(s.put('k/cas', 'c', { expectedVersion: v1 }), 'CP001');
        assert.equal(err.retryable, true);
        await rejectsWith(s.put('k/cas', 'c', { expectedVersion: 'not-a-version' }), 'CP001');
        assert.deepEqual(await s.get('k/cas'), { value: 'b', version: v2 });
      }));

      it('CAS on a missing key is CP001', withStore(async (s) => {
        await rejectsWith(s.put('k/absent', 1, { expectedVersion: 'some-version' }), 'CP001');
        assert.equal(await s.get('k/absent'), undefined);
      }));

      it('unconditional put creates and overwrites, each write with a new version', withStore(async (s) => {
        const v1 = await s.put('k/plain', 1);
        const v2 = await s.put('k/plain', 2);
        const v3 = await s.put('k/plain', 2);
        assert.equal(new Set([v1, v2, v3]).size, 3);
        assert.deepEqual(await s.get('k/plain'), { value: 2, version: v3 });
      }));

      it('list returns items under a prefix, sorted by key, and nothing else', withStore(async (s) => {
        const keys = ['a/2', 'a/10', 'a/1', 'a', 'ab/1', 'b/1', 'a/1/x', 'a/é', 'a/Z', 'a/😀', 'a/\uffff'];
        const versions = new Map<string, string>();
        for (const k of keys) versions.set(k, await s.put(k, { k }));
        const under = await s.list<{ k: string }>('a/');
        const want = keys.filter((k) => k.startsWith('a/')).sort(compareKeys);
        assert.deepEqual(under.map((i) => i.key), want);
        for (const i of under) assert.deepEqual(i, { key: i.key, value: { k: i.key }, version: versions.get(i.key) });
        assert.deepEqual((await s.list('a')).map((i) => i.key), keys.filter((k) => k.startsWith('a')).sort(compareKeys));
        assert.deepEqual((await s.list('a/1')).map((i) => i.key), ['a/1', 'a/1/x', 'a/10']);
        assert.deepEqual(await s.list('zzz/'), []);
        assert.deepEqual((await s.list('')).map((i) => i.key), [...keys].sort(compareKeys));
      }));

      it('delete removes a key; deleting a missing key is not an error', withStore(async (s) => {
        await s.put('d/1', 1);
        await s.put('d/2', 2);
        await s.delete('d/1');
        await s.delete('d/1');
        await s.delete('d/never');
        assert.equal(await s.get('d/1'), undefined);
        assert.deepEqual((await s.list('d/')).map((i) => i.key), ['d/2']);
      }));

      it('conditional delete: CP001 on a stale version (item kept) or a missing item; deletes on a match', withStore(async (s) => {
        const v1 = await s.put('d/c', 1);
        const v2 = await s.put('d/c', 2);
        await rejectsWith(s.delete('d/c', { expectedVersion: v1 }), 'CP001');
        assert.deepEqual(await s.get('d/c'), { value: 2, version: v2 });
        await s.delete('d/c', { expectedVersion: v2 });
        assert.equal(await s.get('d/c'), undefined);
        await rejectsWith(s.delete('d/c', { expectedVersion: v2 }), 'CP001');
      }));

      it('a deleted and re-created key never reuses a version (no ABA)', withStore(async (s) => {
        const old = await s.put('d/aba', 'first', { expectedVersion: null });
        await s.delete('d/aba');
        const fresh = await s.put('d/aba', 'second', { expectedVersion: null });
        assert.notEqual(fresh, old);
        await rejectsWith(s.put('d/aba', 'stale', { expectedVersion: old }), 'CP001');
        assert.equal((await s.get('d/aba'))?.value, 'second');
      }));

      it('keys with unicode, quotes, spaces, dots, slashes and case round-trip', withStore(async (s) => {
        const keys = [
          'tasks/t1/chunks/db."quoted"/tb name',
          "tasks/t1/chunks/it's/a `table`",
          'tasks/t1/chunks/库/表/ünïcødé/😀',
          'tasks/t1/chunks/café', // NFC
          'tasks/t1/chunks/cafe\u0301', // NFD: a different key
          'tasks/t1/chunks/Case',
          'tasks/t1/chunks/case',
          'tasks/t1/chunks/CASE',
          'tasks/t1/chunks/a//b',
          'tasks/t1/chunks/trailing/',
          '/leading',
          'tasks/t1/chunks/./..',
          'tasks/t1/chunks/%41~x=.json',
          'tasks/t1/chunks/' + 'long🙂name'.repeat(40),
          'tasks/t1/chunks/' + 'x'.repeat(600) + '/leaf',
        ];
        for (const k of keys) await s.put(k, { k }, { expectedVersion: null });
        for (const k of keys) assert.deepEqual((await s.get<{ k: string }>(k))?.value, { k }, `get ${JSON.stringify(k)}`);
        const listed = (await s.list('tasks/t1/chunks/')).map((i) => i.key);
        assert.deepEqual(listed, keys.filter((k) => k.startsWith('tasks/t1/chunks/')).sort(compareKeys));
        assert.deepEqual((await s.list('tasks/t1/chunks/cas')).map((i) => i.key), ['tasks/t1/chunks/case']);
        assert.deepEqual((await s.list('tasks/t1/chunks/' + 'long🙂name'.repeat(3))).length, 1);
        assert.deepEqual((await s.list('tasks/t1/chunks/' + 'x'.repeat(600) + '/')).map((i) => i.key), [keys[14]]);
        assert.deepEqual((await s.list('/')).map((i) => i.key), ['/leading']);
      }));

      it('nested values round-trip deep-equal', withStore(async (s) => {
        const value = {
          position: { file: 'mysql-bin.000042', pos: 1234567, gtid: 'uuid:1-99' },
          chunks: [{ id: 'db.tb/0001', lo: null, hi: ['9223372036854775807', 'x'] }, { id: 'é"\n\t\\', done: true }],
          empty: { obj: {}, arr: [] },
          numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER],
          text: 'quotes " \' and unicode 🚀',
        };
        await s.put('v/nested', value);
        assert.deepEqual((await s.get('v/nested'))?.value, value);
        for (const scalar of [null, false, 0, '', 'plain', [1, [2, [3]]]]) {
          await s.put('v/scalar', scalar);
          assert.deepEqual((await s.get('v/scalar'))?.value, scalar);
        }
      }));

      it('20 racing CAS writers from the same version: exactly one wins', withStore(async (s) => {
        const base = await s.put('race/k', { winner: null }, { expectedVersion: null });
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => s.put('race/k', { winner: i }, { expectedVersion: base })),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, version: r.value }] : []));
        assert.equal(won.length, 1, `winners: ${JSON.stringify(won)}`);
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as FerryError).code, 'CP001');
        assert.deepEqual(await s.get('race/k'), { value: { winner: won[0].i }, version: won[0].version });
      }));
    });

    describe('leases and fencing', () => {
      it('acquire; a second owner gets null while unexpired; the holder re-acquires with the same epoch', withStore(async (s) => {
        const a = await s.acquireLease('tasks/t/leases/cdc', 'worker-a', 60_000);
        assert.ok(a);
        assert.equal(a.owner, 'worker-a');
        assert.equal(a.name, 'tasks/t/leases/cdc');
        assert.ok(a.epoch >= 1);
        assert.ok(a.expiresAt > Date.now());
        assert.equal(await s.acquireLease('tasks/t/leases/cdc', 'worker-b', 60_000), null);
        const again = await s.acquireLease('tasks/t/leases/cdc', 'worker-a', 60_000);
        assert.equal(again?.epoch, a.epoch);
      }));

      it('leases are not items: they never show up in list or get', withStore(async (s) => {
        await s.acquireLease('tasks/t/leases/cdc', 'w', 60_000);
        assert.deepEqual(await s.list(''), []);
        assert.equal(await s.get('tasks/t/leases/cdc'), undefined);
      }));

      it('renew extends the holder; a taken-over holder gets CP002 on renew and on fenced put', withStore(async (s) => {
        const a = (await s.acquireLease('L', 'a', SHORT_TTL_MS))!;
        const renewed = await s.renewLease(a, SHORT_TTL_MS);
        assert.equal(renewed.epoch, a.epoch);
        assert.ok(renewed.expiresAt >= a.expiresAt);
        await s.put('pos', { at: 1 }, { fence: fenceOf(renewed) });

        await sleep(SHORT_TTL_MS + 100);
        const b = await s.acquireLease('L', 'b', 60_000);
        assert.ok(b, 'b takes over after expiry');
        assert.equal(b.epoch, a.epoch + 1);
        const vb = await s.put('pos', { at: 2 }, { fence: fenceOf(b) });

        const renewErr = await rejectsWith(s.renewLease(renewed, 60_000), 'CP002');
        assert.equal(renewErr.retryable, false);
        await rejectsWith(s.put('pos', { at: 'stale' }, { fence: fenceOf(a) }), 'CP002');
        // Fencing wins over a matching version: the stale holder must stop, not retry.
        await rejectsWith(s.put('pos', { at: 'stale' }, { fence: fenceOf(a), expectedVersion: vb }), 'CP002');
        assert.deepEqual(await s.get('pos'), { value: { at: 2 }, version: vb });
      }));

      it('the same owner re-acquiring after expiry gets a new epoch', withStore(async (s) => {
        const a = (await s.acquireLease('L', 'a', SHORT_TTL_MS))!;
        await sleep(SHORT_TTL_MS + 100);
        const a2 = (await s.acquireLease('L', 'a', 60_000))!;
        assert.equal(a2.epoch, a.epoch + 1);
        await rejectsWith(s.renewLease(a, 60_000), 'CP002');
      }));

      it('release frees the lease; epochs keep rising; a stale release is a no-op', withStore(async (s) => {
        const a = (await s.acquireLease('L', 'a', 60_000))!;
        await s.releaseLease(a);
        await s.releaseLease(a);
        const b = (await s.acquireLease('L', 'b', 60_000))!;
        assert.equal(b.epoch, a.epoch + 1);
        await s.releaseLease(a); // a no longer holds it: must not free b's lease
        assert.equal(await s.acquireLease('L', 'c', 60_000), null);
        await rejectsWith(s.renewLease(a, 60_000), 'CP002');
        await rejectsWith(s.put('x', 1, { fence: fenceOf(a) }), 'CP002');
        await s.put('x', 1, { fence: fenceOf(b) });
      }));

      it('a fence for a lease that was never acquired is refused', withStore(async (s) => {
        await rejectsWith(s.put('x', 1, { fence: { lease: 'never', epoch: 1 } }), 'CP002');
        assert.equal(await s.get('x'), undefined);
      }));

      it('racing owners: exactly one acquires a free lease', withStore(async (s) => {
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => s.acquireLease('L/race', `w${i}`, 60_000)));
        const holders = got.filter((l) => l !== null);
        assert.equal(holders.length, 1);
        const again = await s.acquireLease('L/race', holders[0]!.owner, 60_000);
        assert.equal(again?.epoch, holders[0]!.epoch);
      }));
    });
  });
}

/** Asserts `p` rejects with a FerryError of `code`; returns it for further checks. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<FerryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FerryError, `expected FerryError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected a FerryError ${code}, but it resolved`);
}
