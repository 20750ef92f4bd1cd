import type { TableMapEntry } from '@vlasky/zongji';
import { isFerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { tableId, type TableMeta, type TableRef } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import { prepareTableMap, columnFromBinlog, converterFor, type Converter } from './binlog-columns.ts';
import type { MysqlClient } from './client.ts';
import type { MysqlMetadata } from './metadata.ts';
import { sqlString } from './sql.ts';

/** Rows of one table map decoded into canonical rows. */
export interface RowDecoder {
  table: TableRef;
  decode(raw: Record<string, unknown>): Row;
}

interface TableInfo {
  meta: TableMeta | null;
  charsets: Map<string, string | null>;
  /** Read again because a TABLE_MAP named a column the earlier read lacked (done once per read). */
  refreshed: boolean;
}

const key = (t: TableRef) => `${t.db}\u0000${t.tb}`;
/** Bound on cached decoders (tables x column shapes seen); past it the cache starts over. */
const MAX_DECODERS = 4096;

/**
 * Column names and families for binlog rows, from the snapshot connector's metadata (MysqlMetadata) so CDC
 * values are typed exactly as snapshot values; cached per table and dropped after DDL on it.
 *
 * Which source wins, per column: the NAMES (and their order) come from the TABLE_MAP event
 * (binlog_row_metadata=FULL) -- they are the table as it was when the row was written, which is what the
 * row image holds even when ferry reads the binlog long after an ALTER. The TYPE of each named column comes
 * from information_schema (exact native type, MariaDB JSON, enum members, charset); a column information_schema
 * does not know (dropped since) is typed from the binlog metadata instead, after one refresh of the cache.
 */
export class BinlogTables {
  private readonly infos = new Map<string, Promise<TableInfo>>();
  /**
   * Decoders by table and TABLE_MAP column signature. zongji builds a new map entry for every TABLE_MAP event
   * (one per transaction and table), so keying by the entry object would rebuild the decoder each time.
   */
  private readonly decoders = new Map<string, RowDecoder>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly metadata: MysqlMetadata,
    private readonly client: MysqlClient,
    private readonly logger: Logger,
  ) {}

  /** Forget a table (after DDL on it), every table of a database, or everything. */
  invalidate(t?: TableRef | { db: string }): void {
    if (!t) {
      this.infos.clear();
      return this.decoders.clear();
    }
    const prefix = 'tb' in t ? `${key(t)}\u0000` : `${t.db}\u0000`;
    for (const m of [this.infos, this.decoders] as Array<Map<string, unknown>>) {
      for (const k of [...m.keys()]) if (`${k}\u0000`.startsWith(prefix)) m.delete(k);
    }
  }

  async decoderFor(entry: TableMapEntry, signal: AbortSignal): Promise<RowDecoder> {
    const table = { db: entry.parentSchema, tb: entry.tableName };
    const cols = prepareTableMap(entry);
    const sig = `${key(table)}\u0000${cols.names.join('\u0001')}\u0000${cols.types.join(',')}\u0000${cols.nativeTypes.join('\u0001')}`;
    const hit = this.decoders.get(sig);
    if (hit) return hit;
    let info = await this.info(table, signal);
    const known = (i: TableInfo) => cols.names.every((n) => i.meta?.columns.some((c) => c.name === n));
    if (!known(info) && !info.refreshed) {
      // A column added since this table was cached (the ALTER may not have passed yet, or was filtered).
      this.infos.delete(key(table));
      info = await this.info(table, signal);
      info.refreshed = true;
    }
    const columns = cols.names.map((name, i) => {
      const c = info.meta?.columns.find((x) => x.name === name);
      if (c) return { name, conv: converterFor(c, cols.types[i], info.charsets.get(name) ?? null) };
      this.warnOnce(table, name);
      return { name, conv: converterFor(columnFromBinlog(name, cols.nativeTypes[i]), cols.types[i], null) };
    });
    const dec = makeDecoder(table, columns);
    if (this.decoders.size >= MAX_DECODERS) this.decoders.clear();
    this.decoders.set(sig, dec);
    return dec;
  }

  private info(t: TableRef, signal: AbortSignal): Promise<TableInfo> {
    let p = this.infos.get(key(t));
    if (!p) {
      p = this.read(t, signal);
      this.infos.set(key(t), p);
      p.catch(() => this.infos.delete(key(t)));
    }
    return p;
  }

  private async read(t: TableRef, signal: AbortSignal): Promise<TableInfo> {
    let meta: TableMeta | null = null;
    try {
      meta = await this.metadata.getTableMeta(t, signal);
    } catch (e) {
      // Dropped since the row was written (ferry reading history): the binlog's own metadata still decodes it.
      if (!(isFerryError(e) && e.code === 'MD001')) throw e;
    }
    const rows = meta
      ? await this.client.catalog<{ n: string; cs: string | null }>(
          `SELECT COLUMN_NAME AS n, CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(meta.tb)}`,
          signal,
          `metadata ${tableId(t)}`,
        )
      : [];
    return { meta, charsets: new Map(rows.map((r) => [r.n, r.cs])), refreshed: false };
  }

  private warnOnce(t: TableRef, column: string): void {
    const k = `${tableId(t)}.${column}`;
    if (this.warned.has(k)) return;
    this.warned.add(k);
    this.logger.warn('binlog column unknown to information_schema (dropped or renamed since); typed from the binlog metadata', { table: tableId(t), column });
  }
}

function makeDecoder(table: TableRef, columns: Array<{ name: string; conv: Converter }>): RowDecoder {
  const names = columns.map((c) => c.name);
  const convs = columns.map((c) => c.conv);
  return {
    table,
    decode(raw) {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) row[names[i]] = convs[i](raw[names[i]]);
      return row;
    },
  };
}

