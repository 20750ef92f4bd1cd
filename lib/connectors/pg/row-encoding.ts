import { FerryError } from '../../core/errors.ts';
import type { WriteTarget } from '../../core/sinker.ts';
import { tableId } from '../../core/table.ts';
import type { Row, Value } from '../../core/values.ts';
import { ConversionError, encoderFor, type Encoder } from './codec-in.ts';
import type { PgColumn } from './type-map.ts';

/** A row as PostgreSQL input texts, in written-column order, with what error messages need. */
export interface EncodedRow {
  fields: Array<string | null>;
  row: Row;
  /** 0-based position in the batch / stream (names keyless rows in messages). */
  ord: number;
  nullKey: boolean;
}

const show = (v: Value | undefined): string =>
  v === null || v === undefined ? 'NULL' : Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : typeof v === 'object' ? JSON.stringify(v) : String(v);

/**
 * Encodes canonical rows for one target table: one encoder per written column, chosen by the target column's
 * type and the source family. Invariant: a value PostgreSQL cannot store raises IN001 naming the table, the
 * column and the row's key before anything is sent.
 */
export class RowEncoder {
  readonly names: string[];
  private readonly encoders: Encoder[];
  private readonly keyIdx: number[];

  constructor(
    private readonly target: WriteTarget,
    targetCols: PgColumn[],
  ) {
    this.names = target.columns.map((c) => c.name);
    this.encoders = target.columns.map((c, i) => encoderFor(targetCols[i], c.family));
    this.keyIdx = target.keyColumns.map((k) => this.names.indexOf(k));
  }

  /** `id=42` / `a=1, b=x`; keyless rows are named by position. */
  describe(e: Pick<EncodedRow, 'row' | 'ord'>): string {
    if (!this.target.keyColumns.length) return `row #${e.ord + 1}`;
    return this.target.keyColumns.map((k) => `${k}=${show(e.row[k])}`).join(', ');
  }

  encode(rows: Row[], ordBase = 0): EncodedRow[] {
    const out: EncodedRow[] = new Array(rows.length);
    const w = this.names.length;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const fields: Array<string | null> = new Array(w);
      for (let i = 0; i < w; i++) {
        try {
          fields[i] = this.encoders[i](row[this.names[i]]);
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          const at = this.describe({ row, ord: ordBase + r });
          throw new FerryError('IN001', `target ${tableId(this.target.table)}: ${e.message} (column ${this.names[i]}) at key ${at}`, {
            details: { table: tableId(this.target.table), column: this.names[i], key: at, source: tableId(this.target.source) },
          });
        }
      }
      let nullKey = false;
      for (const i of this.keyIdx) if (fields[i] === null) nullKey = true;
      out[r] = { fields, row, ord: ordBase + r, nullKey };
    }
    return out;
  }

  /** Dedupes by key (last occurrence wins, as if written one after another) and splits off NULL-key rows. */
  split(rows: EncodedRow[]): { keyed: EncodedRow[]; nullKey: EncodedRow[] } {
    const byKey = new Map<string, EncodedRow>();
    const nullKey: EncodedRow[] = [];
    for (const r of rows) {
      if (r.nullKey) nullKey.push(r);
      else byKey.set(this.keyText(r), r);
    }
    return { keyed: [...byKey.values()], nullKey };
  }

  /** Key texts joined by NUL, which no encoded text contains: a collision-free map key and sort key. */
  keyText(r: EncodedRow): string {
    return this.keyIdx.map((i) => r.fields[i]).join('\u0000');
  }
}
