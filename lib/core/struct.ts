import type { ColumnMeta, TableRef } from './table.ts';

/**
 * Structure migration contracts (extract_type=struct / sink_type=struct, as in ape-dts).
 *
 * The path: a source connector's {@link StructReader} reads a neutral {@link SchemaModel}; the target
 * connector's {@link StructWriter} turns it into DDL for its own engine ({@link DdlPlan}), flagging every
 * conversion that can lose information; the struct task runs the plan phase by phase (database, table first;
 * constraint, index after the data) under `conflict_policy`.
 *
 * Invariants:
 * - The model is engine-neutral: types travel as {@link ColumnMeta} (family + precision + the source's native
 *   text), so a target maps from the family and may use `nativeType` only when source and target engines match.
 * - A writer never silently drops or narrows: anything it cannot carry exactly becomes a {@link StructFlag}
 *   (lossy) or an error naming `db.tb.column` and the type (unsupported).
 * - `planDdl` is pure (no I/O): `ferry struct --dry-run` prints exactly what `apply` would run.
 */

/** A column as structure migration needs it: the data-path metadata plus default, comment, charset. */
export interface StructColumn extends ColumnMeta {
  /** Column default as the source printed it; `kind` says how a target should carry it. */
  default?: StructDefault;
  /** MySQL AUTO_INCREMENT, PostgreSQL identity / serial (sequence default owned by the column). */
  autoIncrement?: boolean;
  charset?: string;
  collation?: string;
  comment?: string;
  /** Generated column expression (engine-specific text; carried only between like engines, else flagged). */
  generated?: { expression: string; stored: boolean };
  /** MySQL `ON UPDATE CURRENT_TIMESTAMP[(p)]` (PostgreSQL has no counterpart: flagged there). */
  onUpdateCurrentTimestamp?: boolean;
}

export type StructDefault =
  /** A constant: the literal text without engine quoting, e.g. `0`, `abc`, `2024-01-01`. */
  | { kind: 'literal'; value: string }
  /** CURRENT_TIMESTAMP / now() and friends, with fractional digits when given. */
  | { kind: 'current_timestamp'; precision?: number }
  /** Any other expression, engine text (carried between like engines, flagged otherwise). */
  | { kind: 'expression'; text: string };

export interface StructIndexPart {
  /** Column name, or undefined for an expression part. */
  column?: string;
  /** Expression text for functional index parts (engine-specific). */
  expression?: string;
  /** MySQL prefix length (`KEY (c(10))`). */
  prefixLength?: number;
  descending?: boolean;
}

export interface StructIndex {
  name: string;
  unique: boolean;
  parts: StructIndexPart[];
  /** btree, hash, gin, gist, fulltext, spatial... as the source names it (lower case). */
  method?: string;
  /** PostgreSQL partial index predicate (engine text). */
  where?: string;
  comment?: string;
  /** PostgreSQL: a UNIQUE constraint (ALTER TABLE ... ADD CONSTRAINT) rather than a bare unique index. */
  constraint?: boolean;
}

export interface StructForeignKey {
  name: string;
  columns: string[];
  refDb: string;
  refTb: string;
  refColumns: string[];
  /** NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT (upper case). */
  onDelete?: string;
  onUpdate?: string;
}

export interface StructCheck {
  name: string;
  /** Expression text as the source prints it (without the CHECK keyword). */
  expression: string;
}

/** One table. Invariant: every column named by a key, index or foreign key is in `columns`. */
export interface StructTable extends TableRef {
  columns: StructColumn[];
  primaryKey?: { name?: string; columns: string[] };
  /** Secondary indexes, including unique ones (unique constraints too). */
  indexes: StructIndex[];
  foreignKeys: StructForeignKey[];
  checks: StructCheck[];
  comment?: string;
  charset?: string;
  collation?: string;
  /** MySQL storage engine, kept only MySQL -> MySQL. */
  engine?: string;
}

export interface StructDatabase {
  /** MySQL database / PostgreSQL schema. */
  name: string;
  charset?: string;
  collation?: string;
}

export interface StructSequence extends TableRef {
  /** Sequence name lives in `tb`. */
  start: string;
  increment: string;
  min?: string;
  max?: string;
  cycle: boolean;
  /** The next value a target sequence should hand out (from the source's last_value), when known. */
  nextValue?: string;
  /** `db.tb.column` owning it (serial / identity), when any. */
  ownedBy?: string;
  /**
   * Set when the generator belongs to its column rather than being a free-standing sequence: a PostgreSQL
   * identity column or a MySQL AUTO_INCREMENT (whose `nextValue` is the table's AUTO_INCREMENT). Writers create
   * it with the column (identity / AUTO_INCREMENT), never as a CREATE SEQUENCE.
   */
  identity?: 'always' | 'by_default';
}

export interface StructEnumType extends TableRef {
  /** Type name lives in `tb`. */
  labels: string[];
}

/** A source's structure, filter applied. Sorted by db then name for stable DDL output. */
export interface SchemaModel {
  /** The source connector's db_type (`mysql`, `pg`): lets a like-engine target keep native text. */
  sourceDbType: string;
  databases: StructDatabase[];
  tables: StructTable[];
  sequences: StructSequence[];
  enumTypes: StructEnumType[];
}

/** ape-dts `do_structures` phases. `database` and `table` run before the data; the rest after. */
export type StructPhase = 'database' | 'sequence' | 'type' | 'table' | 'constraint' | 'index' | 'foreign_key';

export const STRUCT_PHASES_BEFORE_DATA: readonly StructPhase[] = ['database', 'type', 'sequence', 'table'];
export const STRUCT_PHASES_AFTER_DATA: readonly StructPhase[] = ['constraint', 'index', 'foreign_key'];

/** One DDL statement with the object it creates (`db`, `db.tb`, `db.tb.index`) and its phase. */
export interface DdlStatement {
  phase: StructPhase;
  object: string;
  sql: string;
  /**
   * What the statement creates, unambiguously (names may contain dots): `kind` and the object's address
   * parts `[db]`, `[db, name]` (type, sequence, table) or `[db, tb, name]` (index, unique key, check, foreign
   * key). `exists` decides by these, never by parsing `object` or `sql`.
   */
  kind: StructObjectKind;
  names: string[];
}

export type StructObjectKind = 'database' | 'type' | 'sequence' | 'table' | 'unique' | 'index' | 'check' | 'foreign_key';

/** `db`, `db.tb`, `db.tb.name`: the display form of {@link DdlStatement.names}. */
export const objectName = (names: string[]): string => names.join('.');

/** A conversion that may lose information (e.g. `year` -> smallint, a MySQL SET -> text), never silent. */
export interface StructFlag {
  /** `db.tb.column` (or `db.tb` / `db.tb.index`). */
  object: string;
  from: string;
  to: string;
  reason: string;
}

/** What a writer would run, in order, plus the flagged conversions. */
export interface DdlPlan {
  statements: DdlStatement[];
  flags: StructFlag[];
}

/** Reads a source's structure (connector role `createStructReader`). */
export interface StructReader {
  /** Reads the given tables (and their databases, sequences, enum types they use). */
  readSchema(tables: TableRef[], signal?: AbortSignal): Promise<SchemaModel>;
  close(): Promise<void>;
}

/** Creates a target's structure (connector role `createStructWriter`). */
export interface StructWriter {
  /**
   * Pure: the DDL this target needs for `model` after routing (`model` already carries target names).
   * Throws FerryError (MD002) naming `db.tb.column` and the type for a type it cannot carry at all.
   */
  planDdl(model: SchemaModel): DdlPlan;
  /** True when the object a statement creates already exists on the target. */
  exists(stmt: DdlStatement, signal?: AbortSignal): Promise<boolean>;
  /** Runs one statement. */
  execute(stmt: DdlStatement, signal?: AbortSignal): Promise<void>;
  /** Reads the target's own structure back (structure check compares it with the source's). */
  readSchema?(tables: TableRef[], signal?: AbortSignal): Promise<SchemaModel>;
  close(): Promise<void>;
}
