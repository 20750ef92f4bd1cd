import { pgConnector } from '../lib/connectors/pg/index.ts';
import { silentLogger } from '../lib/core/logger.ts';
const ctx = { logger: silentLogger, signal: new AbortController().signal };
const url = 'postgres://postgres@127.0.0.1:55432/postgres';
const ep = (raw: Record<string, string> = {}) => ({ dbType: 'pg', url, maxConnections: 4, batchSize: 5000, raw } as any);
const md = await pgConnector.createMetadata!(ep(), ctx);
const src = await pgConnector.createSnapshotSource!(ep(), ctx);
const sk = await pgConnector.createSinker!(ep({ pg_write_mode: 'auto' }), ctx);
const meta = await md.getTableMeta({ db: 'ferry_bench', tb: 'sbtest1' }, ctx.signal);
const w = await sk.openTable({ table: { db: 'ferry_bench_pp', tb: 'sbtest1' }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, ctx.signal);
const B = Number(process.argv[2] ?? 5000);
let tr = 0, tw = 0, n = 0;
const t0 = performance.now();
const it = src.readChunk(meta, { id: 'x', table: meta, kind: 'range', lower: null, upper: [250000], estimatedRows: 0 }, { columns: meta.columns.map((c) => c.name), batchSize: B, raw: w.rawFormat, signal: ctx.signal })[Symbol.asyncIterator]();
for (;;) {
  const a = performance.now();
  const r = await it.next();
  tr += performance.now() - a;
  if (r.done) break;
  const b = performance.now();
  await w.writeRaw!(r.value.raw!, () => r.value.rows, ctx.signal);
  tw += performance.now() - b;
  n += r.value.raw!.count;
}
console.log({ n, read: tr.toFixed(0), write: tw.toFixed(0), total: (performance.now() - t0).toFixed(0) });
await md.close(); await src.close(); await sk.close();
