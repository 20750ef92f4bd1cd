import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { acquireFileLock, LockLostError, TORN_LOCK_GRACE_MS } from '../../lib/checkpoint/file-lock.ts';
import { keyPaths } from '../../lib/checkpoint/file-paths.ts';
import { FileCheckpointStore } from '../../lib/checkpoint/file-store.ts';
import { memoryLogger, silentLogger } from '../../lib/core/logger.ts';
import { rejectsWith } from '../contract/checkpoint-store.contract.ts';

const REPO = resolve(import.meta.dirname, '../..');
const KEY = 'tasks/t1/chunks/db.tb/0001';

async function tempStore(opts: { lockWaitMs?: number; staleLockMs?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cp-crash-'));
  const lines: Array<Record<string, unknown>> = [];
  const store = await FileCheckpointStore.open({ dir, logger: memoryLogger(lines), ...opts });
  return { dir, store, lines, paths: keyPaths(join(dir, 'items'), KEY), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A PID that surely belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

const lockBody = (pid: number) => JSON.stringify({ pid, host: hostname(), token: 'someone-else', at: Date.now() });

describe('file store: crashed writers and lock waits', () => {
  it('a stale lock from a dead PID plus a leftover temp file neither block nor corrupt', async () => {
    // staleLockMs is long, so only the dead-PID check can explain a fast recovery.
    const { store, paths, lines, cleanup } = await tempStore({ lockWaitMs: 5_000, staleLockMs: 600_000 });
    try {
      const v1 = await store.put(KEY, { done: 1 });
      await writeFile(paths.lock, lockBody(deadPid()));
      await writeFile(`${paths.tmpBase}99999-deadbeef`, '{"format":1,"key":"tasks/t1/chu'); // torn
      assert.deepEqual(await store.get(KEY), { value: { done: 1 }, version: v1 });
      assert.deepEqual((await store.list('tasks/t1/')).map((i) => i.key), [KEY]);
      const t0 = performance.now();
      await store.put(KEY, { done: 2 }, { expectedVersion: v1 });
      const ms = performance.now() - t0;
      assert.ok(ms < 1_000, `recovered in ${ms} ms`);
      assert.equal((await store.get<{ done: number }>(KEY))?.value.done, 2);
      assert.deepEqual(await readdir(paths.dir), ['0001.json'], 'stale lock and temp file are gone');
      assert.ok(lines.some((l) => l.msg === 'checkpoint: broke a stale lock' && l.level === 'warn'));
    } finally {
      await cleanup();
    }
  });

  it('a lock older than staleLockMs is broken even when its PID is alive', async () => {
    const { store, paths, cleanup } = await tempStore({ lockWaitMs: 5_000, staleLockMs: 1_000 });
    try {
      await store.put(KEY, 1);
      await writeFile(paths.lock, lockBody(process.ppid));
      const old = new Date(Date.now() - 60_000);
      await utimes(paths.lock, old, old);
      await store.put(KEY, 2);
      assert.equal((await store.get(KEY))?.value, 2);
    } finally {
      await cleanup();
    }
  });

  it('an empty (torn) lock file is waited on while fresh and broken once stale', async () => {
    // Fresh: younger than TORN_LOCK_GRACE_MS, it may be a live creator about to write its body. Stale: its
    // creator died between create and write, and it is broken long before staleLockMs.
    const { store, paths, cleanup } = await tempStore({ lockWaitMs: TORN_LOCK_GRACE_MS / 2, staleLockMs: 60_000 });
    try {
      await store.put(KEY, 1);
      await writeFile(paths.lock, '');
      await rejectsWith(store.put(KEY, 2), 'CP003');
      const old = new Date(Date.now() - TORN_LOCK_GRACE_MS - 1_000);
      await utimes(paths.lock, old, old);
      await store.put(KEY, 3);
      assert.equal((await store.get(KEY))?.value, 3);
    } finally {
      await cleanup();
    }
  });

  it('a live holder: the wait is bounded by lockWaitMs, then CP003 naming the key and holder', async () => {
    const { store, paths, cleanup } = await tempStore({ lockWaitMs: 300, staleLockMs: 60_000 });
    try {
      await store.put(KEY, 1);
      await writeFile(paths.lock, lockBody(process.ppid));
      const t0 = performance.now();
      const err = await rejectsWith(store.put(KEY, 2), 'CP003');
      const ms = performance.now() - t0;
      assert.ok(ms >= 290 && ms < 1_000, `gave up after ${ms} ms`);
      assert.equal(err.retryable, true);
      assert.match(err.message, /timed out after 300ms waiting for the lock on "tasks\/t1\/chunks\/db.tb\/0001"/);
      assert.match(err.message, new RegExp(`pid ${process.ppid}`));
      assert.equal((await store.get(KEY))?.value, 1, 'reads never wait for locks');
    } finally {
      await cleanup();
    }
  });

  it('an abort signal stops the lock wait at once with RT001', async () => {
    const { dir, store, cleanup } = await tempStore({ lockWaitMs: 10_000 });
    try {
      await store.acquireLease('L', 'a', 60_000);
      const leasePaths = keyPaths(join(dir, 'leases'), 'L');
      await writeFile(leasePaths.lock, lockBody(process.ppid));
      const t0 = performance.now();
      await rejectsWith(store.renewLease({ name: 'L', owner: 'a', epoch: 1, expiresAt: 0 }, 1_000, AbortSignal.timeout(50)), 'RT001');
      const ms = performance.now() - t0;
      assert.ok(ms < 1_000, `aborted after ${ms} ms`);
      const ac = new AbortController();
      ac.abort(new Error('deadline'));
      await rejectsWith(store.put(KEY, 1, { signal: ac.signal }), 'RT001');
    } finally {
      await cleanup();
    }
  });

  it('a writer SIGKILLed mid-loop leaves a readable store that the next writer uses at once', { timeout: 60_000 }, async () => {
    const { dir, store, paths, cleanup } = await tempStore({ lockWaitMs: 5_000, staleLockMs: 600_000 });
    try {
      const code = `
        const { FileCheckpointStore } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'lib/checkpoint/file-store.ts')).href)});
        const store = await FileCheckpointStore.open({ dir: process.env.CP_DIR });
        for (let i = 0; ; i++) {
          await store.put(${JSON.stringify(KEY)}, { i, pad: 'x'.repeat(50_000) });
          if (i === 20) process.stdout.write('ready\\n');
        }`;
      // Kill until a round dies holding the lock (most do: the loop spends its time in fsync under it).
      const rounds: string[][] = [];
      while (rounds.length < 5 && !rounds.some((r) => r.some((n) => n.endsWith('.lock')))) {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
          cwd: REPO,
          env: { ...process.env, CP_DIR: dir },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 30));
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGKILL');
        await exited;
        rounds.push((await readdir(paths.dir)).filter((n) => n !== '0001.json'));
        assert.ok((await store.get(KEY)) !== undefined);
      }
      process.stderr.write(`# SIGKILLed writers left behind, per round: ${JSON.stringify(rounds)}\n`);

      const cur = await store.get<{ i: number; pad: string }>(KEY);
      assert.ok(cur && cur.value.i >= 20 && cur.value.pad.length === 50_000, 'last committed record is whole');
      const t0 = performance.now();
      await store.put(KEY, { i: -1 }, { expectedVersion: cur.version });
      assert.ok(performance.now() - t0 < 1_000, 'no wait for the dead writer');
      assert.deepEqual(await readdir(paths.dir), ['0001.json']);
    } finally {
      await cleanup();
    }
  });

  it('a lock broken under its holder is detected before the commit (verify)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-cp-lock-'));
    try {
      const lockPath = join(dir, 'k.lock');
      const opts = { waitMs: 1_000, staleMs: 60_000, what: 'k', logger: silentLogger };
      const a = await acquireFileLock(lockPath, opts);
      await a.verify();
      // A breaker moves the lock aside and another process takes it.
      await rename(lockPath, `${lockPath}.stale-x`);
      const b = await acquireFileLock(lockPath, opts);
      await assert.rejects(a.verify(), LockLostError);
      await a.release(); // must not remove b's lock
      await b.verify();
      await b.release();
      assert.deepEqual(await readdir(dir), ['k.lock.stale-x']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a takeover that lands while a fenced put waits for the lease lock is seen: CP002, nothing written', async () => {
    const { dir, store, cleanup } = await tempStore({ lockWaitMs: 5_000 });
    try {
      const a = (await store.acquireLease('L', 'a', 60_000))!;
      const v1 = await store.put(KEY, 'by a', { fence: { lease: 'L', epoch: a.epoch } });
      const lease = keyPaths(join(dir, 'leases'), 'L');
      // Someone (a takeover in progress) holds the lease's lock...
      await writeFile(lease.lock, lockBody(process.ppid));
      const pending = store.put(KEY, 'late write by a', { fence: { lease: 'L', epoch: a.epoch } });
      await new Promise((r) => setTimeout(r, 50));
      // ...and commits epoch 2 before letting go. `a` passed its first epoch check before this.
      const taken = { format: 1, key: 'L', version: '9.takeover', value: { owner: 'b', epoch: a.epoch + 1, expiresAt: Date.now() + 60_000 }, writtenAt: Date.now() };
      await writeFile(lease.file, JSON.stringify(taken));
      await rm(lease.lock);
      await rejectsWith(pending, 'CP002');
      assert.deepEqual(await store.get(KEY), { value: 'by a', version: v1 });
    } finally {
      await cleanup();
    }
  });

  it('corrupt or foreign records are CP003, not a crash', async () => {
    const { store, paths, cleanup } = await tempStore();
    try {
      await mkdir(paths.dir, { recursive: true });
      await writeFile(paths.file, 'not json');
      await rejectsWith(store.get(KEY), 'CP003');
      await writeFile(paths.file, JSON.stringify({ format: 1, key: 'other/key', version: '1.a', value: 1, writtenAt: 0 }));
      await rejectsWith(store.get(KEY), 'CP003');
      await writeFile(paths.file, JSON.stringify({ hello: 'world' }));
      await rejectsWith(store.put(KEY, 1), 'CP003');
    } finally {
      await cleanup();
    }
  });

  it('values that are not JSON are refused (RT002) before anything is written; a closed store refuses calls', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await rejectsWith(store.put(KEY, { n: 1n }), 'RT002');
      await rejectsWith(store.put(KEY, undefined), 'RT002');
      await rejectsWith(store.put('', 1), 'RT002');
      assert.equal(await store.get(KEY), undefined);
      await store.close();
      await rejectsWith(store.get(KEY), 'RT002');
    } finally {
      await cleanup();
    }
  });
});
