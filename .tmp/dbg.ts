import pg from 'pg';
import { readCopyPage, writeCopyPage } from '../lib/connectors/pg/copy-wire.ts';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/postgres' });
await c.connect();
await c.query('DROP TABLE IF EXISTS xt.d; CREATE TABLE xt.d (id int primary key, v text)');
const page = await readCopyPage(c as any, `COPY (SELECT g, 'v'||g FROM generate_series(1,100) g) TO STDOUT`);
console.log('read', page.rows, page.bytes, JSON.stringify(page.last.toString()));
await writeCopyPage(c as any, 'COPY xt.d FROM STDIN', page.chunks);
console.log('written 1', (await c.query('select count(*) from xt.d')).rows);
try { await writeCopyPage(c as any, 'COPY xt.d FROM STDIN', page.chunks); } catch (e) { console.log('second', (e as any).code); }
console.log('after', (await c.query('select count(*) from xt.d')).rows);
await c.end();
const c2 = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/postgres' });
await c2.connect();
try { await readCopyPage(c2 as any, `COPY (SELECT 1/(g-5000) FROM generate_series(1,10000) g) TO STDOUT`); } catch (e) { console.log('mid error', (e as any).code); }
console.log('next query ok', (await c2.query('select 1 as x')).rows);
const big = await readCopyPage(c2 as any, `COPY (SELECT * FROM ferry_bench.sbtest1 WHERE id <= 300000) TO STDOUT`);
const { to } = await import('pg-copy-streams');
const parts: Buffer[] = [];
for await (const ch of c2.query(to(`COPY (SELECT * FROM ferry_bench.sbtest1 WHERE id <= 300000) TO STDOUT`))) parts.push(ch as Buffer);
const text = Buffer.concat(parts);
const { forEachPayload } = await import('../lib/connectors/pg/copy-wire.ts');
const mine: Buffer[] = []; forEachPayload(big.chunks, (p) => mine.push(p));
console.log('big', big.rows, Buffer.concat(mine).equals(text), JSON.stringify(big.last.toString().slice(0, 30)));
await c2.end();
