import { createHash } from 'node:crypto';
import { identList, keyHasNull, keyNotNull, qualified, quoteIdent } from './sql.ts';
import type { TableRef } from '../../core/table.ts';

/** PostgreSQL's limit on bind parameters per statement (Int16 count in the Bind message). */
export const MAX_PARAMS = 65535;

/** Advisory-lock namespace of ferry ('FRRY'), combined with the table oid into one bigint key. */
const LOCK_NS = 0x46525259n;

export const hashName = (prefix: string, text: string, len = 20): string =>
  `${prefix}${createHash('sha1').update(text).digest('hex').slice(0, len)}`;

/**
 * Every statement one table writer runs, built once. `cols` are the written columns, `keys` the target key.
 * The staging table is a session TEMP table shaped LIKE the target, emptied at each commit.
 */
export class WriteSql {
  readonly target: string;
  readonly staging: string;
  /** Relation names as the server prints them in error contexts (`COPY <name>, line n`). */
  readonly names: { target: string; staging: string };
  readonly cols: string;
  readonly createStaging: string;
  readonly copyStaging: string;
  readonly copyTarget: string;
  /** Binary COPY (`pg-copy-binary` pages) into the staging table and into the target. */
  readonly copyStagingBinary: string;
  readonly copyTargetBinary: string;
  readonly upsertFromStaging: string;
  readonly lock: string;
  readonly deleteByKey: string;
  readonly deleteNullKeyCopies: string;
  readonly insertNullKeyFromStaging: string;
  readonly insertAllFromStaging: string;
  readonly clearStaging: string;
  private readonly conflict: string;

  constructor(
    table: TableRef,
    oid: string,
    private readonly columns: string[],
    keys: string[],
    opts: { hasArbiter: boolean; overwrite: boolean; nullableKey: boolean },
  ) {
    this.target = qualified(table);
    const stagingName = hashName('ferry_stage_', `${table.db}\u0000${table.tb}`, 16);
    this.staging = quoteIdent(stagingName);
    this.names = { target: table.tb, staging: stagingName };
    this.cols = identList(columns);
    const nonKey = columns.filter((c) => !keys.includes(c));
    this.conflict = !opts.hasArbiter
      ? ''
      : nonKey.length && opts.overwrite
        ? ` ON CONFLICT (${identList(keys)}) DO UPDATE SET ${nonKey.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`
        : ` ON CONFLICT (${identList(keys)}) DO NOTHING`;
    this.createStaging = `CREATE TEMP TABLE IF NOT EXISTS ${this.staging} (LIKE ${this.target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;
    this.copyStaging = `COPY ${this.staging} (${this.cols}) FROM STDIN`;
    this.copyTarget = `COPY ${this.target} (${this.cols}) FROM STDIN`;
    this.copyStagingBinary = `${this.copyStaging} (FORMAT binary)`;
    this.copyTargetBinary = `${this.copyTarget} (FORMAT binary)`;
    this.clearStaging = `DELETE FROM ${this.staging}`;
    // Key order fixes the row-lock order, so two writers of overlapping batches cannot deadlock each other.
    const notNull = opts.nullableKey ? ` WHERE ${keyNotNull(keys)}` : '';
    this.upsertFromStaging = `INSERT INTO ${this.target} (${this.cols}) SELECT ${this.cols} FROM ${this.staging}${notNull} ORDER BY ${identList(keys)}${this.conflict}`;
    this.lock = `SELECT pg_advisory_xact_lock(${((LOCK_NS << 32n) | BigInt(oid)).toString()})`;
    const keyEq = keys.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
    this.deleteByKey = `DELETE FROM ${this.target} t USING ${this.staging} s WHERE ${keyEq}`;
    // NULL-key rows have no identity but their content: an exact copy (every column, compared as text, which
    // works for types without equality such as json) is the row written before, so it is replaced.
    const s = (c: string) => `s.${quoteIdent(c)}`;
    const rowEq = columns.map((c) => `t.${quoteIdent(c)}::text IS NOT DISTINCT FROM ${s(c)}::text`).join(' AND ');
    this.deleteNullKeyCopies = `DELETE FROM ${this.target} t USING ${this.staging} s WHERE (${keys.map((k) => `${s(k)} IS NULL`).join(' OR ')}) AND ${rowEq}`;
    this.insertNullKeyFromStaging = `INSERT INTO ${this.target} (${this.cols}) SELECT ${this.cols} FROM ${this.staging} WHERE ${keyHasNull(keys)}`;
    this.insertAllFromStaging = `INSERT INTO ${this.target} (${this.cols}) SELECT ${this.cols} FROM ${this.staging}`;
  }

  /** Rows per multi-row INSERT: under the parameter limit and `cap`. */
  rowsPerInsert(cap: number): number {
    return Math.max(1, Math.min(cap, Math.floor(MAX_PARAMS / Math.max(1, this.columns.length))));
  }

  /** `INSERT INTO t (cols) VALUES ($1..),(..)` for `n` rows, into the target (with ON CONFLICT) or staging. */
  insertValues(n: number, into: 'target' | 'staging' | 'plain'): string {
    const w = this.columns.length;
    const rows: string[] = new Array(n);
    for (let r = 0; r < n; r++) {
      const ph: string[] = new Array(w);
      for (let i = 0; i < w; i++) ph[i] = `$${r * w + i + 1}`;
      rows[r] = `(${ph.join(',')})`;
    }
    const table = into === 'staging' ? this.staging : this.target;
    return `INSERT INTO ${table} (${this.cols}) VALUES ${rows.join(',')}${into === 'target' ? this.conflict : ''}`;
  }
}
