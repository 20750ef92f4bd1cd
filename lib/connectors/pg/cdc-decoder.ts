import type { Pgoutput } from 'pg-logical-replication';
import type { ChangeEvent, DdlChange, RowChange } from '../../core/change.ts';
import { FerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import type { PgTypeResolver } from './cdc-types.ts';
import { parseLsn, pgChangePosition, pgPosition, txPositionBase, type TxPositionBase } from './position.ts';
import type { ReplItem } from './replication.ts';
import { decoderFor, type Decoder } from './type-map.ts';

/** A published table as its latest Relation message describes it. */
interface PgRelation {
  table: TableRef;
  identity: Pgoutput.MessageRelation['replicaIdentity'];
  columns: Array<{ name: string; decode: Decoder }>;
  /** Replica identity columns (primary key, the USING INDEX columns, or every column for FULL). */
  keyNames: string[];
  /** The heartbeat table (its changes only exist to produce commits) or the DDL meta table. */
  ignored: boolean;
  /** The DDL meta table (ddl-capture.ts): its inserts become DdlChanges. */
  ddlMeta: boolean;
}

/** The tables whose rows are not replicated as rows. */
export interface DecoderTables {
  heartbeat?: TableRef;
  ddlMeta?: TableRef;
}

/** Command tags whose object is a table: the DdlChange names it. */
const TABLE_TAGS = new Set(['CREATE TABLE', 'ALTER TABLE', 'DROP TABLE', 'CREATE TABLE AS', 'SELECT INTO']);

const same = (a: TableRef | undefined, b: TableRef): boolean => !!a && a.db === b.db && a.tb === b.tb;

interface OpenTx extends TxPositionBase {
  commitLsn: bigint;
  ts: number;
  seq: number;
}

/** Tuple values as pg-logical-replication hands them over: text, null, or undefined (unchanged TOAST / not in a key tuple). */
type Tuple = Record<string, string | Buffer | null | undefined>;

const micros = (t: unknown): number => Number(BigInt(t as bigint) / 1000n);

/**
 * pgoutput messages -> ferry change events, in stream order.
 *
 * - BEGIN opens a transaction (not emitted); each insert/update/delete becomes a RowChange whose position
 *   sorts inside its transaction (position.ts) and whose `sourceTs` is the commit time; COMMIT becomes a
 *   CommitMark at the commit's END LSN -- where streaming resumes, and what may be acknowledged.
 * - Values are decoded by the snapshot source's decoders, chosen from the Relation message's type OIDs, so a
 *   row reads the same through CDC and through a snapshot. A Relation message after DDL replaces the cached
 *   shape before any change that uses it.
 * - Unchanged TOAST values (pgoutput 'u') are absent from `after`, never null. `before` is the old row for
 *   REPLICA IDENTITY FULL, the key columns otherwise (taken from `after` when the key did not change).
 * - A keepalive outside a transaction becomes a Heartbeat at the server's WAL end, if that moved forward.
 * - An INSERT into the DDL meta table becomes a DdlChange at its place in the transaction (after the DDL's
 *   own effects, before the CommitMark); no change of the meta or heartbeat table is ever a RowChange. Column
 *   shapes after DDL still come from the Relation messages pgoutput sends before the next change.
 * Invariant: positions of emitted CommitMarks and Heartbeats strictly increase.
 */
export class PgoutputDecoder {
  private readonly relations = new Map<number, PgRelation>();
  private tx: OpenTx | null = null;
  private last: bigint;

  constructor(
    private readonly types: PgTypeResolver,
    from: bigint,
    private readonly tables: DecoderTables = {},
  ) {
    this.last = from;
  }

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** Relation messages need catalog lookups; everything else decodes synchronously. */
  static isRelation(it: ReplItem): it is Extract<ReplItem, { kind: 'xlog' }> & { msg: Pgoutput.MessageRelation } {
    return it.kind === 'xlog' && it.msg.tag === 'relation';
  }

  async relation(msg: Pgoutput.MessageRelation, signal: AbortSignal): Promise<void> {
    await this.types.resolve(msg.columns.map((c) => c.typeOid), signal);
    const table = { db: msg.schema, tb: msg.name };
    this.relations.set(msg.relationOid, {
      table,
      identity: msg.replicaIdentity,
      columns: msg.columns.map((c) => ({ name: c.name, decode: decoderFor(this.types.columnMeta(c.name, c.typeOid, c.typeMod)) })),
      keyNames: msg.keyColumns,
      ignored: same(this.tables.heartbeat, table) || same(this.tables.ddlMeta, table),
      ddlMeta: same(this.tables.ddlMeta, table),
    });
  }

  /** One non-Relation item -> at most one event. */
  decode(it: ReplItem): ChangeEvent | null {
    if (it.kind === 'keepalive') return this.keepalive(it.walEnd, it.at);
    const m = it.msg;
    switch (m.tag) {
      case 'begin': {
        const commitLsn = parseLsn(m.commitLsn ?? '0/0', 'begin commit lsn');
        this.tx = { ...txPositionBase(commitLsn, m.xid), commitLsn, ts: micros(m.commitTime), seq: 0 };
        return null;
      }
      case 'commit':
        return this.commit(m);
      case 'insert':
        if (this.rel(m.relation).ddlMeta) return this.ddl(it, m.relation, m.new as Tuple);
        return this.row(it, m.relation, 'insert', null, m.new as Tuple);
      case 'update':
        return this.row(it, m.relation, 'update', (m.old ?? m.key) as Tuple | null, m.new as Tuple);
      case 'delete':
        return this.row(it, m.relation, 'delete', (m.old ?? m.key) as Tuple | null, null);
      case 'truncate': {
        const tx = this.open('truncate');
        const tables = m.relations.map((r) => this.rel(r)).filter((r) => !r.ignored).map((r) => r.table);
        if (!tables.length) return null;
        return { kind: 'truncate', tables, position: pgChangePosition(tx, tx.seq++, it.lsn), sourceTs: tx.ts };
      }
      default:
        return null; // type, origin, message: nothing to replicate
    }
  }

  private open(what: string): OpenTx {
    if (!this.tx) throw new FerryError('RT002', `pgoutput ${what} outside a transaction`);
    return this.tx;
  }

  private rel(r: Pgoutput.MessageRelation): PgRelation {
    const rel = this.relations.get(r.relationOid);
    if (!rel) throw new FerryError('RT002', `pgoutput change of ${r.schema}.${r.name} before its Relation message`);
    return rel;
  }

  private commit(m: Pgoutput.MessageCommit): ChangeEvent {
    const tx = this.open('commit');
    const end = parseLsn(m.commitEndLsn ?? '0/0', 'commit end lsn');
    this.tx = null;
    this.last = end;
    return { kind: 'commit', txId: String(tx.xid), position: pgPosition(end, { commitLsn: tx.lsn, xid: tx.xid }), sourceTs: micros(m.commitTime) };
  }

  private keepalive(walEnd: bigint, at: number): ChangeEvent | null {
    // Inside a transaction the WAL end is past changes not yet delivered: not a safe position.
    if (this.tx || walEnd <= this.last) return null;
    this.last = walEnd;
    return { kind: 'heartbeat', position: pgPosition(walEnd), sourceTs: at };
  }

  private ddl(it: Extract<ReplItem, { kind: 'xlog' }>, r: Pgoutput.MessageRelation, neu: Tuple): DdlChange | null {
    const tx = this.open('insert');
    const v = decodeRow(this.rel(r), neu);
    const str = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));
    const sql = str(v.ddl_text);
    if (!sql) return null;
    const schema = str(v.schema_name) ?? '';
    const object = str(v.object_name);
    const tag = (str(v.command_tag) ?? '').toUpperCase();
    const table = TABLE_TAGS.has(tag) && schema && object ? { db: schema, tb: object } : undefined;
    // A dropped table's relation is never used again (a new table of that name has a new OID).
    if (table && tag === 'DROP TABLE') for (const [oid, rel] of this.relations) if (same(table, rel.table)) this.relations.delete(oid);
    return { kind: 'ddl', db: schema, ...(table ? { table } : {}), sql, position: pgChangePosition(tx, tx.seq++, it.lsn), sourceTs: tx.ts };
  }

  private row(it: Extract<ReplItem, { kind: 'xlog' }>, r: Pgoutput.MessageRelation, op: RowChange['op'], old: Tuple | null, neu: Tuple | null): RowChange | null {
    const tx = this.open(op);
    const rel = this.rel(r);
    if (rel.ignored) return null;
    const after = neu ? decodeRow(rel, neu) : null;
    let before: Row | null = null;
    if (op !== 'insert') {
      if (old) before = decodeRow(rel, old);
      else if (after && rel.identity !== 'nothing' && rel.keyNames.length) before = keyOf(rel, after);
      if (!before || !rel.keyNames.every((k) => k in before!)) throw noIdentity(rel, op);
    }
    return { kind: 'row', op, table: rel.table, before, after, bytes: it.bytes, position: pgChangePosition(tx, tx.seq++, it.lsn), sourceTs: tx.ts };
  }
}

function decodeRow(rel: PgRelation, t: Tuple): Row {
  const row: Row = {};
  for (const c of rel.columns) {
    const v = t[c.name];
    if (v === undefined) continue; // unchanged TOAST value (or a non-key column of a key tuple): absent
    row[c.name] = v === null ? null : c.decode(v);
  }
  return row;
}

function keyOf(rel: PgRelation, after: Row): Row {
  const key: Row = {};
  for (const k of rel.keyNames) if (k in after) key[k] = after[k];
  return key;
}

function noIdentity(rel: PgRelation, op: string): FerryError {
  const id = tableId(rel.table);
  return new FerryError(
    'PR001',
    `${op} on ${id} cannot be replicated: the table has no usable replica identity (REPLICA IDENTITY ${rel.identity.toUpperCase()}); ` +
      `add a primary key or run ALTER TABLE ${id} REPLICA IDENTITY FULL (or USING INDEX)`,
    { details: { table: id, replicaIdentity: rel.identity } },
  );
}
