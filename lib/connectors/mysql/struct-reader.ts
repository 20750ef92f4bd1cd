/**
 * StructReader for MySQL/MariaDB: the neutral schema model (lib/core/struct.ts) from information_schema.
 *
 * Reads databases (charset, collation), tables (engine, collation, comment, AUTO_INCREMENT), columns (type,
 * nullability, default, charset, collation, comment, auto_increment, generated, ON UPDATE), primary and
 * unique keys, indexes (prefix lengths, fulltext, spatial, MySQL 8 functional parts), foreign keys and CHECK
 * constraints. Invariant: read-only; names are compared exactly (information_schema may fold case).
 */
import { FerryError } from '../../core/errors.ts';
import type {
  SchemaModel, StructCheck, StructColumn, StructDefault, StructForeignKey, StructIndex, StructReader, StructSequence, StructTable,
} from '../../core/struct.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { MysqlClient } from './client.ts';
import { sqlString } from './sql.ts';
import { columnMetaOf, type ColumnRow } from './type-map.ts';

type Num = number | bigint | null;

interface ColRow extends ColumnRow {
  dflt: string | null;
  extra: string;
  charset: string | null;
  collation: string | null;
  comment: string;
  gen: string | null;
}

interface StatRow {
  idx: string;
  nonUnique: Num;
  seq: Num;
  col: string | null;
  sub: Num;
  type: string;
  coll: string | null;
  comment: string;
  expr?: string | null;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/**
 * A MariaDB COLUMN_DEFAULT (an SQL expression since 10.2.7: `'abc'`, `12`, `NULL`, `current_timestamp(6)`) or
 * a MySQL one (the bare literal; `DEFAULT_GENERATED` in EXTRA marks an expression) as a {@link StructDefault}.
 */
export function parseMysqlDefault(raw: string | null, extra: string, mariadb: boolean): StructDefault | undefined {
  if (raw === null) return undefined;
  const ts = /^current_timestamp(?:\((\d*)\))?$/i.exec(raw.trim()) ?? /^now\((\d*)\)$/i.exec(raw.trim());
  if (ts) return ts[1] ? { kind: 'current_timestamp', precision: Number(ts[1]) } : { kind: 'current_timestamp' };
  if (!mariadb) return /DEFAULT_GENERATED/i.test(extra) ? { kind: 'expression', text: raw } : { kind: 'literal', value: raw };
  if (raw === 'NULL') return undefined;
  const q = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(raw);
  if (q) return { kind: 'literal', value: q[1].replace(/''/g, "'").replace(/\\(.)/gs, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c) };
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(raw)) return { kind: 'literal', value: raw };
  return { kind: 'expression', text: raw };
}

// RESTRICT and NO ACTION are the same rule in MySQL (checked at once); NO ACTION is the portable spelling.
const rule = (r: string | null | undefined): string | undefined => (r ? (r.toUpperCase() === 'RESTRICT' ? 'NO ACTION' : r.toUpperCase()) : undefined);

export class MysqlStructReader implements StructReader {
  constructor(
    private readonly client: MysqlClient,
    private readonly onClose: () => Promise<void> = () => client.end(),
  ) {}

  async readSchema(tables: TableRef[], signal: AbortSignal = new AbortController().signal): Promise<SchemaModel> {
    const mariadb = (await this.client.server(signal)).isMariaDb;
    const dbs = [...new Set(tables.map((t) => t.db))].sort();
    const databases = dbs.length
      ? (
          await this.client.catalog<{ n: string; cs: string; co: string }>(
            `SELECT SCHEMA_NAME AS n, DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA` +
              ` WHERE SCHEMA_NAME IN (${dbs.map(sqlString).join(', ')}) ORDER BY SCHEMA_NAME`,
            signal,
          )
        )
          .filter((r) => dbs.includes(r.n))
          .map((r) => ({ name: r.n, charset: r.cs, collation: r.co }))
      : [];
    const out: StructTable[] = [];
    const sequences: StructSequence[] = [];
    for (const t of [...tables].sort((a, b) => (a.db === b.db ? (a.tb < b.tb ? -1 : 1) : a.db < b.db ? -1 : 1))) {
      const { table, autoIncrement } = await this.readTable(t, mariadb, signal);
      out.push(table);
      const ai = table.columns.find((c) => c.autoIncrement);
      if (ai && autoIncrement !== null) {
        sequences.push({
          db: t.db, tb: `${t.tb}.${ai.name}`, start: '1', increment: '1', cycle: false, nextValue: String(autoIncrement),
          ownedBy: `${t.db}.${t.tb}.${ai.name}`, identity: 'by_default',
        });
      }
    }
    return { sourceDbType: 'mysql', databases, tables: out, sequences, enumTypes: [] };
  }

  private async readTable(t: TableRef, mariadb: boolean, signal: AbortSignal): Promise<{ table: StructTable; autoIncrement: string | null }> {
    const where = `TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(t.tb)}`;
    const rows = await this.client.catalog<{ n: string; engine: string | null; co: string | null; cs: string | null; cm: string; ai: Num }>(
      `SELECT t.TABLE_NAME AS n, t.ENGINE AS engine, t.TABLE_COLLATION AS co, c.CHARACTER_SET_NAME AS cs, t.TABLE_COMMENT AS cm,` +
        ` t.AUTO_INCREMENT AS ai FROM information_schema.TABLES t LEFT JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION` +
        ` WHERE t.${where.replace(' AND ', ' AND t.')} AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`,
      signal,
    );
    const tr = rows.find((r) => r.n === t.tb);
    if (!tr) throw new FerryError('MD001', `source table ${tableId(t)} does not exist`, { details: { table: tableId(t) } });
    const cols = await this.client.catalog<ColRow>(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,` +
        ` CHARACTER_MAXIMUM_LENGTH AS charLength, NUMERIC_PRECISION AS numPrecision, NUMERIC_SCALE AS numScale,` +
        ` DATETIME_PRECISION AS fsp, COLUMN_DEFAULT AS dflt, EXTRA AS extra, CHARACTER_SET_NAME AS charset,` +
        ` COLLATION_NAME AS collation, COLUMN_COMMENT AS comment, GENERATION_EXPRESSION AS gen` +
        ` FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
      signal,
      `metadata ${tableId(t)}`,
    );
    const checks = await this.readChecks(t, mariadb, signal);
    // MariaDB's JSON is LONGTEXT + CHECK (json_valid(`col`)): the type carries it, the check is not repeated.
    const jsonCols = new Set(checks.filter((c) => c.expression === `json_valid(\`${c.name.replace(/`/g, '``')}\`)`).map((c) => c.name));
    const columns = cols.map((r) => this.column(r, jsonCols.has(r.name), mariadb));
    const stats = await this.client.catalog<StatRow>(
      `SELECT INDEX_NAME AS idx, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col, SUB_PART AS sub, INDEX_TYPE AS type,` +
        ` COLLATION AS coll, INDEX_COMMENT AS comment${mariadb ? '' : ', EXPRESSION AS expr'} FROM information_schema.STATISTICS` +
        ` WHERE ${where} ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      signal,
    );
    const { primaryKey, indexes } = groupIndexes(stats);
    const table: StructTable = {
      db: t.db,
      tb: tr.n,
      columns,
      ...(primaryKey ? { primaryKey } : {}),
      indexes,
      foreignKeys: await this.readForeignKeys(t, signal),
      checks: checks.filter((c) => !jsonCols.has(c.name)),
      ...(tr.cm ? { comment: tr.cm } : {}),
      ...(tr.cs ? { charset: tr.cs } : {}),
      ...(tr.co ? { collation: tr.co } : {}),
      ...(tr.engine ? { engine: tr.engine } : {}),
    };
    return { table, autoIncrement: tr.ai === null || tr.ai === undefined ? null : String(tr.ai) };
  }

  private column(r: ColRow, isJson: boolean, mariadb: boolean): StructColumn {
    const c: StructColumn = columnMetaOf({ ...r, isJson });
    const extra = str(r.extra);
    if (r.gen) {
      c.generated = { expression: r.gen, stored: /STORED|PERSISTENT/i.test(extra) };
    } else {
      const d = parseMysqlDefault(r.dflt, extra, mariadb);
      if (d) c.default = d;
    }
    if (/auto_increment/i.test(extra)) c.autoIncrement = true;
    if (/on update current_timestamp/i.test(extra)) c.onUpdateCurrentTimestamp = true;
    if (r.charset && c.family !== 'json') c.charset = r.charset;
    if (r.collation && c.family !== 'json') c.collation = r.collation;
    if (r.comment) c.comment = r.comment;
    return c;
  }

  private async readChecks(t: TableRef, mariadb: boolean, signal: AbortSignal): Promise<StructCheck[]> {
    const rows = mariadb
      ? await this.client.catalog<{ n: string; c: string }>(
          `SELECT CONSTRAINT_NAME AS n, CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${sqlString(t.db)}` +
            ` AND TABLE_NAME = ${sqlString(t.tb)} ORDER BY CONSTRAINT_NAME`,
          signal,
        )
      : await this.client.catalog<{ n: string; c: string }>(
          `SELECT tc.CONSTRAINT_NAME AS n, cc.CHECK_CLAUSE AS c FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.CHECK_CONSTRAINTS cc` +
            ` ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE tc.CONSTRAINT_TYPE = 'CHECK'` +
            ` AND tc.TABLE_SCHEMA = ${sqlString(t.db)} AND tc.TABLE_NAME = ${sqlString(t.tb)} ORDER BY tc.CONSTRAINT_NAME`,
          signal,
        ).catch(() => []); // MySQL < 8.0.16 has no CHECK_CONSTRAINTS
    return rows.map((r) => ({ name: r.n, expression: r.c }));
  }

  private async readForeignKeys(t: TableRef, signal: AbortSignal): Promise<StructForeignKey[]> {
    const rows = await this.client.catalog<{ n: string; col: string; rdb: string; rtb: string; rcol: string; upd: string; del: string }>(
      `SELECT k.CONSTRAINT_NAME AS n, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_SCHEMA AS rdb, k.REFERENCED_TABLE_NAME AS rtb,` +
        ` k.REFERENCED_COLUMN_NAME AS rcol, r.UPDATE_RULE AS upd, r.DELETE_RULE AS del FROM information_schema.KEY_COLUMN_USAGE k` +
        ` JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME` +
        ` AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = ${sqlString(t.db)} AND k.TABLE_NAME = ${sqlString(t.tb)}` +
        ` AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      signal,
    );
    const byName = new Map<string, StructForeignKey>();
    for (const r of rows) {
      let fk = byName.get(r.n);
      if (!fk) {
        fk = { name: r.n, columns: [], refDb: r.rdb, refTb: r.rtb, refColumns: [], onDelete: rule(r.del), onUpdate: rule(r.upd) };
        byName.set(r.n, fk);
      }
      fk.columns.push(r.col);
      fk.refColumns.push(r.rcol);
    }
    return [...byName.values()];
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

/** STATISTICS rows (ordered by index, position) -> primary key and secondary indexes. */
export function groupIndexes(stats: StatRow[]): { primaryKey?: StructTable['primaryKey']; indexes: StructIndex[] } {
  let primaryKey: StructTable['primaryKey'];
  const indexes = new Map<string, StructIndex>();
  for (const r of stats) {
    if (r.idx === 'PRIMARY') {
      primaryKey ??= { columns: [] };
      if (r.col) primaryKey.columns.push(r.col);
      continue;
    }
    let ix = indexes.get(r.idx);
    if (!ix) {
      const type = str(r.type).toLowerCase();
      ix = { name: r.idx, unique: Number(r.nonUnique) === 0, parts: [], method: type || undefined };
      if (r.comment) ix.comment = r.comment;
      indexes.set(r.idx, ix);
    }
    ix.parts.push({
      ...(r.col ? { column: r.col } : { expression: str(r.expr) }),
      ...(r.sub !== null && r.sub !== undefined ? { prefixLength: Number(r.sub) } : {}),
      ...(r.coll === 'D' ? { descending: true } : {}),
    });
  }
  return { primaryKey, indexes: [...indexes.values()] };
}
