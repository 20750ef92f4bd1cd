/**
 * The deployables as they ship: `npm run build` once, the bundles copied to a temp dir with no node_modules
 * anywhere above it, then
 *  - every events/ sample validated against its handler's schema and invoked through the BUNDLED handler
 *    (plan -> chunks with a source change in the middle -> finalize -> status), and the CDC container started
 *    from events/cdc.json: it resumes the handover and applies the change made during the snapshot;
 *  - the Dockerfile's runtime stage rebuilt as a folder (its COPY lines) and its ENTRYPOINT run with plain node:
 *    `--help`, and three Cloud Run job tasks (CLOUD_RUN_TASK_INDEX/COUNT) that together copy the task;
 *  - `sls package` offline: the state machine's Task states call the stack's real functions, whose handler
 *    files exist in the build.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testUrls, uniqueName } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { zipEntries } from '../support/zip-list.ts';
import { buildAll, LAMBDA_BUDGET_BYTES, type BuiltBundle } from '../../scripts/build.ts';
import { cdcEnvSchema, chunkEventSchema, finalizeEventSchema, planEventSchema, statusEventSchema } from '../../lib/task/function-input.ts';
import { uniqueServerId } from './mysql-cdc-support.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const event = async (name: string) => JSON.parse(await readFile(join(root, 'events', `${name}.json`), 'utf8'));

interface Run { code: number | null; stdout: string; stderr: string }
function node(args: string[], env: Record<string, string>, cwd: string): { done: Promise<Run>; kill: (s: NodeJS.Signals) => void } {
  // A clean environment: only what the image / Lambda would get, plus PATH.
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))), kill: (s) => child.kill(s) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const rowsOf = async (db: string) => ({
  src: await query(testUrls.mysql, `SELECT id, name, CAST(price AS CHAR) price FROM ${db}_src.items ORDER BY id`),
  dst: (table: string) => query(testUrls.pg, `SELECT id, name, price::text price FROM ${table} ORDER BY id`),
});

describe('bundled functions, image entry and sls package', () => {
  const db = uniqueName('ferry_fnb');
  let work: string;
  let dist: string;
  let built: BuiltBundle[];
  let env: Record<string, string>;

  before(async () => {
    built = await buildAll(join(root, 'dist'));
    // Outside the repository: no node_modules up the tree, as in Lambda or the image.
    work = await mkdtemp(join(tmpdir(), 'ferry-bundle-'));
    dist = join(work, 'lambda');
    await cp(join(root, 'dist'), dist, { recursive: true });
    env = {
      FERRY_TEST_MYSQL_URL: testUrls.mysql, FERRY_TEST_PG_URL: testUrls.pg, FERRY_CHECKPOINT_DIR: join(work, 'store'),
      FERRY_EVENTS_DB: db, FERRY_SERVER_ID: String(uniqueServerId()), FERRY_LOG_LEVEL: 'warn',
    };
    Object.assign(process.env, env);
    await execSql(testUrls.mysql, `CREATE DATABASE ${db}_src; USE ${db}_src;
      CREATE TABLE ${db}_src.items (id INT PRIMARY KEY, name VARCHAR(30), price DECIMAL(10,2));
      INSERT INTO ${db}_src.items SELECT seq, CONCAT('item ', seq), seq * 0.5 FROM seq_1_to_7000;
      ANALYZE TABLE ${db}_src.items;`);
    const table = 'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(30), price NUMERIC(10,2))';
    await execSql(testUrls.pg, `CREATE SCHEMA ${db}_dst; SET search_path = ${db}_dst; ${table}; CREATE SCHEMA ${db}_run; SET search_path = ${db}_run; ${table};`);
  });
  after(async () => {
    for (const k of Object.keys(env)) delete process.env[k];
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${db}_src`);
    await execSql(testUrls.pg, `DROP SCHEMA IF EXISTS ${db}_dst CASCADE; DROP SCHEMA IF EXISTS ${db}_run CASCADE;`);
    await rm(work, { recursive: true, force: true });
  });

  it('builds one entry per function, each Lambda package (entry + shared/) under 5 MB', () => {
    assert.deepEqual(built.map((b) => b.name).sort(), ['cdc', 'chunk', 'cli', 'entry', 'finalize', 'plan', 'status']);
    for (const b of built.filter((x) => x.lambda)) assert.ok(b.packageBytes < LAMBDA_BUDGET_BYTES && b.packageBytes > b.bytes, `${b.name}: ${b.packageBytes} bytes`);
  });

  it('events/ through the bundled handlers, then the CDC container from events/cdc.json resumes the handover', async () => {
    // Each invocation in a fresh `node` (scripts/invoke-local.mjs, what docs/local-invoke.md shows), like a cold Lambda.
    const invoke = (name: string) => async (ev: unknown): Promise<Record<string, any>> => {
      const child = spawn(process.execPath, [join(root, 'scripts/invoke-local.mjs'), join(dist, `${name}.mjs`), '-'], { cwd: work, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.stdin.end(JSON.stringify(ev));
      const code = await new Promise((r) => child.on('close', r));
      assert.equal(code, 0, `${name}: ${err.slice(-1500)}`);
      return JSON.parse(out);
    };
    const [plan, chunk, finalize, status] = ['plan', 'chunk', 'finalize', 'status'].map(invoke);
    const events = { plan: await event('plan'), chunk: await event('chunk'), finalize: await event('finalize'), status: await event('status'), cdc: await event('cdc') };
    for (const [name, schema] of [['plan', planEventSchema], ['chunk', chunkEventSchema], ['finalize', finalizeEventSchema], ['status', statusEventSchema]] as const) {
      assert.ok(schema.safeParse(events[name]).success, `events/${name}.json`);
    }
    assert.ok(cdcEnvSchema.safeParse(events.cdc.env).success, 'events/cdc.json env');

    const planned = await plan(events.plan);
    assert.equal(planned.taskId, db);
    assert.ok(planned.chunks.length >= 3 && planned.maxConcurrency >= 1, JSON.stringify({ ...planned, chunks: planned.chunks.length }));
    const [first, ...rest] = planned.chunks as Array<{ chunkId: string }>;
    assert.equal((await chunk({ ...events.chunk, chunkId: first.chunkId }, )).status, 'done');
    // Changed after its chunk was copied: only CDC from the position recorded by the planner can bring it over.
    await execSql(testUrls.mysql, `UPDATE ${db}_src.items SET name = 'changed during snapshot' WHERE id = 1`);
    for (const c of rest) assert.equal((await chunk({ ...events.chunk, chunkId: c.chunkId }, )).status, 'done');
    const fin = await finalize(events.finalize);
    assert.deepEqual({ done: fin.done, pending: fin.pending, failed: fin.failed, rows: fin.rows, handover: fin.cdc.handover }, { done: true, pending: 0, failed: 0, rows: 7000, handover: true });
    const st = await status(events.status);
    assert.deepEqual({ chunksDone: st.chunksDone, rowsDone: st.rowsDone, handover: st.cdc?.handover }, { chunksDone: planned.chunks.length, rowsDone: 7000, handover: true });

    const cdc = node([join(dist, 'entry.mjs'), ...events.cdc.args], { ...env, ...events.cdc.env, FERRY_METRICS_PORT: '0', FERRY_LEASE_WAIT_SECS: '30' }, work);
    try {
      await execSql(testUrls.mysql, `INSERT INTO ${db}_src.items VALUES (7001, 'after the snapshot', 1.25)`);
      const rows = await rowsOf(db);
      await until('CDC to apply the changes', async () => {
        const [one] = await query<{ name: string }>(testUrls.pg, `SELECT name FROM ${db}_dst.items WHERE id = 1`);
        const [late] = await query<{ n: string }>(testUrls.pg, `SELECT COUNT(*)::text n FROM ${db}_dst.items WHERE id = 7001`);
        return one?.name === 'changed during snapshot' && late.n === '1' ? true : undefined;
      });
      assert.deepEqual(await rows.dst(`${db}_dst.items`), rows.src);
    } catch (e) {
      cdc.kill('SIGTERM');
      const r = await cdc.done;
      throw new Error(`${(e as Error).message}; CDC exit ${r.code}: ${r.stdout.slice(-1000)} ${r.stderr.slice(-3000)}`);
    }
    cdc.kill('SIGTERM');
    const r = await cdc.done;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const after = await status(events.status);
    assert.equal(after.cdc?.handover, undefined, 'the CDC worker committed past the recorded start');
  });

  /** The runtime stage of the Dockerfile rebuilt as a folder: its COPY --from=build lines, then its ENTRYPOINT. */
  async function imageFolder(): Promise<{ dir: string; entry: string[] }> {
    const text = await readFile(join(root, 'Dockerfile'), 'utf8');
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const froms = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
    const buildStage = lines.slice(froms[0], froms[1]);
    const runtime = lines.slice(froms.at(-1));
    const buildWorkdir = buildStage.find((l) => /^WORKDIR\s/i.test(l))!.split(/\s+/)[1];
    const dir = join(work, 'image');
    const copies = runtime.filter((l) => /^COPY\s/i.test(l));
    assert.ok(copies.length > 0, 'runtime stage copies something');
    for (const line of copies) {
      const parts = line.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
      assert.ok(/--from=build\b/.test(line), `runtime stage copies only from the build stage: ${line}`);
      const [src, dst] = parts;
      const rel = src.startsWith(buildWorkdir + '/') ? src.slice(buildWorkdir.length + 1) : src;
      assert.ok(rel.startsWith('dist'), `runtime stage copies only the build output: ${line}`);
      await mkdir(join(dir, dirname(dst)), { recursive: true });
      await cp(join(root, rel), join(dir, dst), { recursive: true });
    }
    const entry = JSON.parse(runtime.find((l) => /^ENTRYPOINT\s/i.test(l))!.replace(/^ENTRYPOINT\s+/i, '')) as string[];
    assert.equal(entry[0], 'node');
    assert.ok(runtime.some((l) => /^USER\s+(?!root|0\b)/i.test(l)), 'runs as a non-root user');
    return { dir, entry: entry.slice(1).map((a) => (a.startsWith('/') ? join(dir, a) : a)) };
  }

  it('the image entry runs with plain node: --help, and 3 Cloud Run tasks that together copy the task', async () => {
    const image = await imageFolder();
    for (const f of ['entry.mjs', 'cli.mjs', 'cdc.mjs', 'chunk.mjs']) assert.ok((await stat(join(image.dir, 'app', f))).size > 0, f);
    const help = await node([...image.entry, '--help'], {}, image.dir).done;
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /chunk \[options\] <config> \[chunkId\]/);
    assert.match(help.stdout, /Image roles: cdc/);
    // The version is package.json's, carried inside the bundle (no package.json in the image).
    const version = await node([...image.entry, '--version'], {}, image.dir).done;
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version);

    const cfg = (await event('plan')).config;
    const config = { ...cfg, router: { db_map: `${db}_src:${db}_run` }, global: { task_id: `${db}_run` }, extractor: { ...cfg.extractor, extract_type: 'snapshot' } };
    const configPath = join(work, 'task-config.json');
    await writeFile(configPath, JSON.stringify(config));
    const tasks = [0, 1, 2].map((i) => node([...image.entry, 'chunk', configPath], { ...env, CLOUD_RUN_TASK_INDEX: String(i), CLOUD_RUN_TASK_COUNT: '3' }, image.dir).done);
    const results = await Promise.all(tasks);
    const summaries = results.map((r, i) => {
      assert.equal(r.code, 0, `task ${i}: ${r.stderr.slice(-1500)}`);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { index: number; chunks: number; done: number; skipped: number; rows: number };
    });
    assert.deepEqual(summaries.map((s) => s.index), [0, 1, 2]);
    assert.ok(summaries.every((s) => s.chunks >= 1 && s.done + s.skipped === s.chunks), JSON.stringify(summaries));
    const rows = await rowsOf(db);
    assert.deepEqual(await rows.dst(`${db}_run.items`), rows.src);
    const st = await node([...image.entry, 'status', configPath, '--json'], env, image.dir).done;
    const s = JSON.parse(st.stdout) as { chunks: number; chunksDone: number };
    assert.equal(s.chunksDone, s.chunks);
    assert.equal(summaries.reduce((n, x) => n + x.chunks, 0), s.chunks, 'the three shares cover the plan exactly once');
  });

  it('sls package (offline): the state machine calls the stack\'s functions, whose handler files exist in the build', async () => {
    const out = join(work, 'sls');
    const sls = node([join(root, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', out], {
      HOME: process.env.HOME ?? work, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
    }, root);
    const r = await sls.done;
    assert.equal(r.code, 0, r.stdout.slice(-1500) + r.stderr.slice(-1500));
    const cfn = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: any }> };
    const res = cfn.Resources;
    const machines = Object.values(res).filter((x) => x.Type === 'AWS::StepFunctions::StateMachine');
    assert.equal(machines.length, 1);
    const [template, vars] = machines[0].Properties.DefinitionString['Fn::Sub'] as [string, Record<string, { 'Fn::GetAtt': [string, string] }>];
    const asl = JSON.parse(template.replace(/\$\{(\w+)\}/g, (_m, k: string) => `@${vars[k]?.['Fn::GetAtt']?.[0] ?? k}`));
    const tasks: Array<[string, any]> = [];
    const walk = (states: Record<string, any>) => {
      for (const [name, st] of Object.entries(states)) {
        if (st.Type === 'Task') tasks.push([name, st]);
        if (st.ItemProcessor) walk(st.ItemProcessor.States);
      }
    };
    walk(asl.States);
    const lambdaTasks = tasks.filter(([, st]) => st.Resource === 'arn:aws:states:::lambda:invoke');
    assert.deepEqual(lambdaTasks.map(([n]) => n).sort(), ['Chunk', 'Finalize', 'Plan']);
    for (const [name, st] of lambdaTasks) {
      const logicalId = String(st.Parameters.FunctionName).replace(/^@/, '');
      const fn = res[logicalId];
      assert.equal(fn?.Type, 'AWS::Lambda::Function', `${name} calls ${logicalId}`);
      assert.equal(fn.Properties.Runtime, 'nodejs20.x');
      const [file, exported] = [fn.Properties.Handler.replace(/\.[^.]+$/, ''), fn.Properties.Handler.split('.').at(-1)];
      assert.ok(existsSync(join(root, `${file}.mjs`)), `${name}: handler file ${file}.mjs exists in the build`);
      assert.equal(typeof ((await import(join(root, `${file}.mjs`))) as Record<string, unknown>)[exported], 'function', `${name}: ${exported} is exported`);
    }
    // Each function's zip holds its entry and the shared code it loads on demand (connectors, stores).
    const zip = (await readdir(out)).find((f) => /(^|-)chunk\.zip$/.test(f));
    assert.ok(zip, 'the chunk function has its own package');
    const listing = await zipEntries(join(out, zip));
    assert.ok(listing.includes('dist/chunk.mjs'), 'chunk entry in its package');
    const shared = (await readdir(join(root, 'dist/shared'))).filter((f) => f.endsWith('.mjs'));
    for (const f of shared) assert.ok(listing.includes(`dist/shared/${f}`), `dist/shared/${f} in the chunk package`);
    // The Distributed Map re-invokes a partial chunk, and the CDC start targets the stack's ECS service.
    const map = asl.States.Chunks;
    assert.equal(map.ItemProcessor.ProcessorConfig.Mode, 'DISTRIBUTED');
    assert.equal(map.ItemProcessor.States['ChunkDone?'].Choices[0].Next, 'Chunk');
    assert.equal(res.CdcService?.Type, 'AWS::ECS::Service');
    assert.deepEqual(res.CdcTaskDefinition.Properties.ContainerDefinitions[0].Command, ['cdc']);
    // Table keys come from the one place in serverless.yml.
    assert.deepEqual(res.CheckpointTable.Properties.KeySchema.map((k: { AttributeName: string }) => k.AttributeName), ['pk', 'sk']);
  });
});
