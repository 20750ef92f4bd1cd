import pg from 'pg';
import { to } from 'pg-copy-streams';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/postgres' });
await c.connect();
for (const sql of ['COPY ferry_bench.sbtest1 TO STDOUT', 'COPY (SELECT * FROM ferry_bench.sbtest1 WHERE id <= 250000 ORDER BY id) TO STDOUT']) {
  const t0 = performance.now(); const cpu0 = process.cpuUsage();
  let bytes = 0, chunks = 0;
  for await (const ch of c.query(to(sql))) { bytes += (ch as Buffer).length; chunks++; }
  const cpu = process.cpuUsage(cpu0);
  console.log(sql.slice(0, 40), { bytes, chunks, ms: (performance.now() - t0).toFixed(0), cpuMs: ((cpu.user + cpu.system) / 1000).toFixed(0) });
}
await c.end();
