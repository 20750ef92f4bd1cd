import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FileCheckpointStore } from '../../lib/checkpoint/file-store.ts';
import { runCheckpointStoreContract } from '../contract/checkpoint-store.contract.ts';

const REPO = resolve(import.meta.dirname, '../..');
const STORE_MODULE = pathToFileURL(join(REPO, 'lib/checkpoint/file-store.ts')).href;

/** A fresh store in its own temp dir. */
async function tempStore(opts: { lockWaitMs?: number; staleLockMs?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cp-'));
  const store = await FileCheckpointStore.open({ dir, ...opts });
  return { dir, store, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

runCheckpointStoreContract('file', tempStore);

/**
 * Runs `code` (an ES module body; `Store` is FileCheckpointStore, `dir` the store dir) in a separate node
 * process with tsx, resolving with its stdout.
 */
function runChild(code: string, env: Record<string, string>): { done: Promise<string> } {
  const prelude = `const { FileCheckpointStore: Store } = await import(${JSON.stringify(STORE_MODULE)}); const dir = process.env.CP_DIR;`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${prelude}\n${code}`], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<string>((ok, fail) => {
    child.on('error', fail);
    child.on('exit', (code, sig) => (code === 0 ? ok(out) : fail(new Error(`child exited ${code ?? sig}: ${err}`))));
  });
  return { done };
}

describe('file store across OS processes', () => {
  it('4 processes x 50 CAS increments on one counter: no update is lost', { timeout: 120_000 }, async () => {
    const { dir, store, cleanup } = await tempStore();
    try {
      await store.put('counter', { n: 0 }, { expectedVersion: null });
      const procs = 4;
      const perProc = 50;
      // Every child spins until the same instant, so the increments really overlap.
      const startAt = Date.now() + 3_000;
      const code = `
        const store = await Store.open({ dir });
        while (Date.now() < Number(process.env.START_AT)) await new Promise((r) => setTimeout(r, 1));
        const t0 = Date.now();
        let retries = 0;
        for (let i = 0; i < Number(process.env.PER_PROC); i++) {
          for (;;) {
            const cur = await store.get('counter');
            try {
              await store.put('counter', { n: cur.value.n + 1 }, { expectedVersion: cur.version });
              break;
            } catch (e) {
              if (e.code !== 'CP001') throw e;
              retries++;
            }
          }
        }
        process.stdout.write(JSON.stringify({ retries, t0, t1: Date.now() }));`;
      const children = Array.from({ length: procs }, () =>
        runChild(code, { CP_DIR: dir, START_AT: String(startAt), PER_PROC: String(perProc) }),
      );
      const reports = (await Promise.all(children.map((c) => c.done))).map((o) => JSON.parse(o) as { retries: number; t0: number; t1: number });
      const final = await store.get<{ n: number }>('counter');
      assert.equal(final?.value.n, procs * perProc);
      const t0 = Math.min(...reports.map((r) => r.t0));
      const t1 = Math.max(...reports.map((r) => r.t1));
      // The runs overlapped (each started before any finished), so CAS really was contended.
      assert.ok(Math.max(...reports.map((r) => r.t0)) < Math.min(...reports.map((r) => r.t1)), 'children overlapped');
      const retries = reports.reduce((a, r) => a + r.retries, 0);
      process.stderr.write(`# multi-process CAS: ${procs}x${perProc} increments in ${t1 - t0} ms, ${retries} CP001 retries\n`);
      // Nothing is left behind: no lock files, no temp files.
      assert.deepEqual((await readdir(join(dir, 'items'))).sort(), ['counter.json']);
    } finally {
      await cleanup();
    }
  });

  it('2 processes x 20 racing lease acquisitions: epochs are unique per holder and only rise', { timeout: 60_000 }, async () => {
    const { dir, store, cleanup } = await tempStore();
    try {
      const startAt = Date.now() + 3_000;
      // Each child repeatedly takes the free lease, writes a fenced marker, and releases it.
      const code = `
        const store = await Store.open({ dir });
        while (Date.now() < Number(process.env.START_AT)) await new Promise((r) => setTimeout(r, 1));
        const epochs = [];
        while (epochs.length < 20) {
          const l = await store.acquireLease('L', process.env.OWNER, 60_000);
          if (!l) { await new Promise((r) => setTimeout(r, 1)); continue; }
          await store.put('owned-by', { owner: l.owner, epoch: l.epoch }, { fence: { lease: l.name, epoch: l.epoch } });
          epochs.push(l.epoch);
          await store.releaseLease(l);
        }
        process.stdout.write(JSON.stringify(epochs));`;
      const outs = await Promise.all(['p1', 'p2'].map((o) => runChild(code, { CP_DIR: dir, START_AT: String(startAt), OWNER: o }).done));
      const all = outs.flatMap((o) => JSON.parse(o) as number[]);
      assert.equal(new Set(all).size, 40, 'no epoch was handed to two holders');
      for (const o of outs) {
        const mine = JSON.parse(o) as number[];
        assert.deepEqual(mine, [...mine].sort((a, b) => a - b), 'epochs seen by one process only rise');
      }
      assert.equal(Math.max(...all), 40);
    } finally {
      await cleanup();
    }
  });
});
