/**
 * The distributed proof: `ferry worker` processes sharing one DynamoDB store (dynalite in this process) copy
 * a MariaDB table while workers are killed (-9) and one is paused past its claim (SIGSTOP/SIGCONT); and
 * `ferry run` with store=dynamodb / store=s3 (s3rver behind the condition proxy), killed and resumed.
 * Every test ends by comparing source and target row for row.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { openDynamoDbStore } from '../../lib/checkpoint/dynamodb-store.ts';
import { chunkKey, chunkPrefix } from '../../lib/checkpoint/keys.ts';
import { chunkClaimName } from '../../lib/task/chunk-worker.ts';
import { rejectsWith } from '../contract/checkpoint-store.contract.ts';
import { startDynalite, startS3, standinEnv, STANDIN_CREDENTIALS, type Dynalite, type S3StandIn } from '../support/aws.ts';
import { startFerry, writeIni, type CliResult } from '../support/cli.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';

const SRC = uniqueName('it_worker_src');
const DST = uniqueName('it_worker_dst');
const ROWS = 60_000;
const TTL_SECS = 2;
let dir: string;
let db: Dynalite;
let s3: S3StandIn;
let raw: DynamoDBClient;

function sections(taskId: string, checkpoint: Record<string, string>) {
  return {
    extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 250, chunk_rows: 3000 },
    sinker: { db_type: 'mysql', sink_type: 'write', url: testUrls.mysql, batch_size: 250 },
    filter: { do_tbs: `${SRC}.*` },
    router: { db_map: `${SRC}:${DST}` },
    pipeline: { checkpoint_interval_secs: 0 },
    global: { task_id: taskId },
    checkpoint,
  };
}

const dynamoCheckpoint = (table: string) => ({ store: 'dynamodb', table, endpoint: db.endpoint, region: 'us-east-1' });

async function resetTarget(): Promise<void> {
  await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${DST}; CREATE DATABASE ${DST};
    CREATE TABLE ${DST}.big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(40) NOT NULL);`);
}

async function assertSame(): Promise<void> {
  const sum = (d: string) => query<{ n: string; h: string }>(testUrls.mysql, `SELECT COUNT(*) n, COALESCE(SUM(CRC32(CONCAT_WS('|', id, k, c))), 0) h FROM ${d}.big`);
  assert.deepEqual((await sum(DST))[0], (await sum(SRC))[0], 'target differs from source');
}

const targetRows = async () => Number((await query<{ n: string }>(testUrls.mysql, `SELECT COUNT(*) n FROM ${DST}.big`))[0].n);
const until = async (cond: () => Promise<boolean>, what: string, limitMs = 120_000) => {
  // A safety net against a hung test, not a timing assertion.
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** The raw lease item of a chunk's claim (owner, epoch, expiry), read straight from the table. */
async function claimOf(table: string, taskId: string, chunkId: string) {
  const r = await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `l|${chunkClaimName(taskId, chunkId)}` }, sk: { S: 'lease' } }, ConsistentRead: true }));
  return r.Item ? { owner: r.Item.owner?.S, epoch: Number(r.Item.epoch.N), expiresAt: Number(r.Item.exp.N) } : undefined;
}

describe('ferry worker and remote checkpoint stores (CLI, MariaDB -> MariaDB)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-worker-'));
    db = await startDynalite();
    s3 = await startS3();
    raw = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${SRC}; CREATE DATABASE ${SRC}; USE ${SRC};
      CREATE TABLE ${SRC}.big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(40) NOT NULL);
      INSERT INTO ${SRC}.big SELECT seq, seq % 977, REPEAT(CHAR(65 + seq % 26), 40) FROM seq_1_to_${ROWS};
      ANALYZE TABLE ${SRC}.big;`);
  });
  after(async () => {
    raw.destroy();
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${SRC}; DROP DATABASE IF EXISTS ${DST};`);
    await db.stop();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('4 workers, 2 killed -9 and replaced, 1 paused past its claim: every chunk done once, stale writes refused', async () => {
    await resetTarget();
    const table = 'cp_workers';
    await db.createTable(table);
    const taskId = 'workers';
    const cfg = await writeIni(dir, sections(taskId, dynamoCheckpoint(table)), 'workers.ini');
    const store = openDynamoDbStore({ table, endpoint: db.endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
    const doneCount = async () => (await store.list<{ status: string }>(chunkPrefix(taskId))).filter((i) => i.value.status === 'done').length;
    const start = () => startFerry(['worker', cfg, '--claim-ttl', String(TTL_SECS), '--json', '--no-progress'], standinEnv);
    const workers = Array.from({ length: 4 }, start);

    // Kill two workers at random points of the run (after progress, never by wall-clock guesses).
    const killed: typeof workers = [];
    for (let k = 0; k < 2; k++) {
      const seen = await targetRows();
      const step = 1000 + Math.floor(Math.random() * 8000);
      await until(async () => (await targetRows()) >= Math.min(ROWS, seen + step), 'target rows to grow');
      const victim = workers.filter((w) => !killed.includes(w) && w.child.exitCode === null)[0];
      if (victim) {
        victim.child.kill('SIGKILL');
        killed.push(victim);
      }
    }
    workers.push(start(), start());

    // Pause a live worker while it holds a claim, until another worker has taken the chunk over and written it.
    const plan = (await store.get<{ chunks: Array<{ id: string }> }>(`tasks/${taskId}/plan`))!.value;
    const live = workers.filter((w) => !killed.includes(w));
    let paused: { w: (typeof workers)[0]; chunkId: string; epoch: number } | undefined;
    await until(async () => {
      for (const c of plan.chunks) {
        const claim = await claimOf(table, taskId, c.id);
        const w = live.find((x) => claim?.owner?.endsWith(`:${x.child.pid}`) && x.child.exitCode === null);
        if (claim && w && claim.expiresAt > Date.now() && (await store.get<{ status: string }>(chunkKey(taskId, c.id)))?.value.status !== 'done') {
          w.child.kill('SIGSTOP');
          paused = { w, chunkId: c.id, epoch: claim.epoch };
          return true;
        }
      }
      return false;
    }, 'a live worker holding a claim');
    const p = paused!;
    await until(async () => ((await claimOf(table, taskId, p.chunkId))?.epoch ?? 0) > p.epoch, 'the paused chunk to be claimed again').catch(async (e) => {
      // What the other workers were doing, for the failure message.
      const tails = workers.map((w, i) => `worker ${i} (pid ${w.child.pid}, ${killed.includes(w) ? 'killed' : w === p.w ? 'paused' : `exit ${w.child.exitCode}`}):\n${w.output().split('\n').slice(-6).join('\n')}`);
      p.w.child.kill('SIGCONT');
      throw new Error(`${(e as Error).message}; claim now ${JSON.stringify(await claimOf(table, taskId, p.chunkId))}\n${tails.join('\n')}`);
    });
    const taken = (await claimOf(table, taskId, p.chunkId))!;
    // The new holder stamps the progress record with its epoch before copying.
    await until(async () => {
      const item = await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `i|tasks/${taskId}/` }, sk: { S: chunkKey(taskId, p.chunkId) } }, ConsistentRead: true }));
      return Number(item.Item?.fe?.N ?? 0) >= taken.epoch;
    }, 'the new holder to write the chunk under its epoch');
    // What the paused worker would write with its old claim is refused, as a write from the test shows.
    const stale = await rejectsWith(store.put(chunkKey(taskId, p.chunkId), { status: 'running', lastKey: null, rows: 0, updatedAt: '' }, { fence: { lease: chunkClaimName(taskId, p.chunkId), epoch: p.epoch } }), 'CP002');
    assert.ok(Number(stale.details.currentEpoch) > p.epoch);
    p.w.child.kill('SIGCONT');

    const results: CliResult[] = await Promise.all(workers.filter((w) => !killed.includes(w)).map((w) => w.done));
    for (const r of results) assert.equal(r.code, 0, `a worker failed: ${r.stderr.slice(-2000)}`);
    const summaries = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; claimsLost: number; worker: string });
    for (const s of summaries) assert.equal(s.status, 'done');
    const pausedSummary = summaries[workers.filter((w) => !killed.includes(w)).indexOf(p.w)];
    assert.ok(pausedSummary.claimsLost >= 1, `the paused worker did not notice it lost its claim: ${JSON.stringify(pausedSummary)}`);
    assert.match(results[workers.filter((w) => !killed.includes(w)).indexOf(p.w)].stderr, /CP002/);
    assert.equal(await doneCount(), plan.chunks.length);
    assert.ok(plan.chunks.length >= 15, `expected about 20 chunks, got ${plan.chunks.length}`);
    await assertSame();
    await store.close();
  });

  for (const kind of ['dynamodb', 's3'] as const) {
    it(`ferry run with [checkpoint] store=${kind}: killed -9 mid-run, the rerun resumes and completes`, async () => {
      await resetTarget();
      const taskId = `run-${kind}`;
      let checkpoint: Record<string, string>;
      if (kind === 'dynamodb') {
        await db.createTable('cp_run');
        checkpoint = dynamoCheckpoint('cp_run');
      } else {
        await s3.createBucket('cp-run');
        checkpoint = { store: 's3', bucket: 'cp-run', endpoint: s3.endpoint, region: 'us-east-1', force_path_style: 'true', prefix: 'ferry/' };
      }
      const cfg = await writeIni(dir, sections(taskId, checkpoint), `run-${kind}.ini`);
      const first = startFerry(['run', cfg, '--no-progress', '--json'], standinEnv);
      await until(async () => first.child.exitCode !== null || (await targetRows()) >= 5000 + Math.floor(Math.random() * 20_000), 'progress');
      first.child.kill('SIGKILL');
      await first.done;
      const second = await startFerry(['run', cfg, '--no-progress', '--json'], standinEnv).done;
      assert.equal(second.code, 0, second.stderr.slice(-2000));
      const summary = JSON.parse(second.stdout.trim().split('\n').pop()!) as { status: string; chunks: number; chunksDone: number; rows: number };
      assert.equal(summary.status, 'done');
      assert.equal(summary.chunksDone, summary.chunks);
      assert.ok(summary.rows < ROWS, `the rerun copied everything again (${summary.rows} rows): it did not resume`);
      await assertSame();
    });
  }
});
