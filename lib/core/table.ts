import type { TypeFamily } from './values.ts';

/** A table's address: `db` is the MySQL database or the PostgreSQL schema. */
export interface TableRef {
  db: string;
  tb: string;
}

export const tableId = (t: TableRef): string => `${t.db}.${t.tb}`;

/** One column as the engine describes it. */
export interface ColumnMeta {
  name: string;
  /** Engine-native type text, e.g. `decimal(65,30)`, `bigint unsigned`, `timestamp with time zone`. */
  nativeType: string;
  family: TypeFamily;
  nullable: boolean;
  /** Character length / numeric precision / fractional-second digits / bit width where the engine has one. */
  length?: number;
  precision?: number;
  scale?: number;
  /** enum/set members, in declaration order. */
  members?: string[];
  /** PostgreSQL: element type of an array, udt name of a user type. */
  udtName?: string;
}

/** How the rows of a table are identified. */
export type KeyKind = 'primary' | 'unique' | 'none';

/**
 * A table's shape as read from its database.
 * Invariant: `keyColumns` is non-empty iff `keyKind !== 'none'`; every key column is in `columns`.
 * A 'unique' key may contain nullable columns only when `keyNullable` is true (NULL-key rows then get a
 * chunk of their own, since `key > x` never matches them).
 */
export interface TableMeta extends TableRef {
  columns: ColumnMeta[];
  keyKind: KeyKind;
  keyColumns: string[];
  keyNullable: boolean;
  /** Other unique keys (sinkers may need them for conflict targets). */
  uniqueKeys?: string[][];
  /** Row estimate from engine statistics (0 when unknown). */
  estimatedRows: number;
}

export const column = (meta: TableMeta, name: string): ColumnMeta | undefined =>
  meta.columns.find((c) => c.name === name);
