/**
 * Row matching in SQL for what ReplacingMergeTree cannot do by inserting: deletes in keyless tables
 * (ALTER TABLE ... DELETE, a mutation) and reading a row back (to complete a partial update image).
 */
import { sleep } from '../../core/signal.ts';
import type { Row } from '../../core/values.ts';
import type { ClickhouseApi } from './client.ts';
import type { ServerFeatures } from './features.ts';
import { DELETED_COL, VERSION_COL, quoteIdent, sqlString } from './sql.ts';
import type { TargetShape } from './target.ts';

/** `c1 = CAST('v' AS T) AND isNull(c2) ...` over the columns `row` has, values encoded as for inserts. */
export function matchSql(shape: TargetShape, row: Row): string {
  const parts: string[] = [];
  for (const c of shape.columns) {
    const v = row[c.name];
    if (v === undefined) continue;
    if (v === null) {
      parts.push(`isNull(${quoteIdent(c.name)})`);
      continue;
    }
    const json = c.encode(v);
    let lit: string;
    if (json.startsWith('"')) {
      const s = JSON.parse(json) as string;
      lit = shape.latin1 ? `CAST(unhex('${Buffer.from(s, 'latin1').toString('hex')}') AS ${c.type.inner})` : `CAST(${sqlString(s)} AS ${c.type.inner})`;
    } else lit = `CAST(${sqlString(json)} AS ${c.type.inner})`;
    parts.push(`${quoteIdent(c.name)} = ${lit}`);
  }
  return parts.length ? parts.join(' AND ') : '1';
}

/** Deletes the rows matching `row` and waits until the mutation is done (mutations_sync, or polling on old servers). */
export async function deleteMatching(client: ClickhouseApi, f: ServerFeatures, shape: TargetShape, row: Row, signal: AbortSignal): Promise<void> {
  const sql = `ALTER TABLE ${shape.sql} DELETE WHERE ${matchSql(shape, row)}`;
  const ctx = `target ${shape.id}`;
  if (f.mutationsSync) return client.command(sql, signal, ctx, { mutations_sync: 2 });
  await client.command(sql, signal, ctx);
  const pending = `SELECT count() AS n FROM system.mutations WHERE database = ${sqlString(shape.table.db)} AND table = ${sqlString(shape.table.tb)} AND is_done = 0`;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const [r] = await client.rows<{ n: string | number }>(pending, signal, ctx);
    if (Number(r?.n ?? 0) === 0) return;
    await sleep(wait, signal);
  }
}

/**
 * The current (FINAL, not deleted) row with the key of `key`, values as canonical text (bytes as Buffers), or
 * undefined. Completes update images that lack columns (PostgreSQL unchanged TOAST values).
 */
export async function readRow(client: ClickhouseApi, shape: TargetShape, key: Row, signal: AbortSignal): Promise<Row | undefined> {
  const cols = shape.columns.map((c) => {
    const q = quoteIdent(c.name);
    const bytes = c.family === 'binary' || c.family === 'geometry';
    return bytes ? `hex(${q}) AS ${q}` : q;
  });
  const sql = `SELECT ${cols.join(', ')}, ${quoteIdent(DELETED_COL)} AS _d FROM ${shape.sql} FINAL WHERE ${matchSql(shape, key)} ORDER BY ${quoteIdent(VERSION_COL)} DESC LIMIT 1`;
  const [r] = await client.textRows(sql, signal, `target ${shape.id}`);
  if (!r || Number(r._d) === 1) return undefined;
  const out: Row = {};
  for (const c of shape.columns) {
    const v = r[c.name];
    out[c.name] = v === null || v === undefined ? null : c.family === 'binary' || c.family === 'geometry' ? Buffer.from(v, 'hex') : v;
  }
  return out;
}
