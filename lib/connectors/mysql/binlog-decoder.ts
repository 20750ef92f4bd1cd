import { GtidSet, MariadbGtidPosition, type AnyBinlogEvent } from '@vlasky/zongji';
import type { ChangeEvent, CommitMark, Position } from '../../core/change.ts';
import type { Logger } from '../../core/logger.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import { rowBytes, type Row } from '../../core/values.ts';
import type { BinlogItem } from './binlog-stream.ts';
import type { BinlogTables } from './binlog-tables.ts';
import { parseStatement } from './ddl-parse.ts';
import { SYSTEM_SCHEMAS } from './metadata.ts';
import { mysqlPosition, positionData, rowPosition } from './position.ts';

export interface DecoderOptions {
  /** Where the stream starts (a resumable position). */
  from: Position;
  isMariaDb: boolean;
  /** The task's tables; DDL and TRUNCATE of other tables are not emitted. Absent: every table. */
  tables?: TableRef[];
  startTimeMs?: number;
  endTimeMs?: number;
  logger: Logger;
}

/** One binlog event group (a transaction, or a standalone statement such as DDL). */
interface Group {
  /** Inside BEGIN ... COMMIT (MySQL) or a transactional MariaDB GTID group: queries do not end it. */
  inTx: boolean;
  gtid?: string | { domainId: number; serverId: number; seqNo: number | string };
  /** Skipped: committed before extractor.start_time_utc. */
  skip: boolean;
  /** The resumable position before the group: row positions derive from it. */
  base: Position;
  seq: number;
  /** Events emitted for the group (an empty group's CommitMark may be merged with the previous one). */
  emitted: number;
}

type Tracker = { add(g: unknown): void; toString(): string };

const UNRELATED = /^(SAVEPOINT|ROLLBACK\s+TO|RELEASE\s+SAVEPOINT|XA\s+(START|BEGIN|END))\b/i;

/**
 * Turns binlog events (in order) into ChangeEvents: RowChanges, DdlChange / TruncateChange, and a CommitMark
 * at the end of every group with the position after its commit event (XID, COMMIT / ROLLBACK query, a DDL or
 * other standalone statement, XA PREPARE). Groups that emitted nothing still get a CommitMark (their position
 * is safe to commit), merged with the previous one when that is the batch's last event.
 * Invariant: every emitted position's `order` is above the stream's start and commit orders only grow.
 */
export class BinlogDecoder {
  private file: string;
  private safe: Position;
  private group: Group | null = null;
  private readonly gtids: Tracker | null;
  private readonly emptyCommits = new WeakSet<ChangeEvent>();
  private readonly dbs: Set<string> | null;
  private readonly tableKeys: Set<string> | null;
  private readonly warned = new Set<string>();

  constructor(
    private readonly tables: BinlogTables,
    private readonly o: DecoderOptions,
  ) {
    const d = positionData(o.from);
    this.file = d.file;
    this.safe = o.from;
    this.gtids = d.gtid ? tracker(d.gtid, o.isMariaDb) : null;
    this.dbs = o.tables ? new Set(o.tables.map((t) => t.db)) : null;
    this.tableKeys = o.tables ? new Set(o.tables.map(tableId)) : null;
  }

  /** The last resumable position seen (commit, heartbeat, file start). */
  get resumePoint(): Position {
    return this.safe;
  }

  /** Appends the events of one binlog item to `out`; false when extractor.end_time_utc is reached (stream over). */
  async decode(it: BinlogItem, out: ChangeEvent[], signal: AbortSignal): Promise<boolean> {
    const ev = it.ev as AnyBinlogEvent & Record<string, unknown>;
    const ts = ev.timestamp as number;
    switch (ev.getEventName()) {
      case 'rotate':
        this.file = ev.binlogName as string;
        // The artificial rotate at dump start (timestamp 0) names the file only; a GTID start has not reached
        // a resumable offset yet.
        if (ts > 0 && !this.group) this.safe = mysqlPosition(this.file, ev.position as number, this.gtidText());
        return true;
      case 'mariadbgtid':
        return this.open(ts, !(ev.standalone as boolean), { domainId: ev.domainId as number, serverId: ev.serverId as number, seqNo: ev.seqNo as number | string });
      case 'gtid':
        return this.open(ts, false, ev.gtid as string);
      case 'heartbeat':
        this.heartbeat(ev, out);
        return true;
      case 'xid':
      case 'xaprepare':
        return this.commit(ev, out);
      case 'query':
        return this.query(ev, out);
      default:
        return this.rows(it, out, signal);
    }
  }

  private open(ts: number, inTx: boolean, gtid?: Group['gtid']): boolean {
    if (this.group?.emitted) {
      this.o.logger.warn('binlog group ended without a commit event; its changes are committed at the previous position', { at: this.safe.data });
    }
    if (this.o.endTimeMs !== undefined && ts > this.o.endTimeMs) return false;
    this.group = { inTx, gtid, skip: this.o.startTimeMs !== undefined && ts < this.o.startTimeMs, base: this.safe, seq: 0, emitted: 0 };
    return true;
  }

  private query(ev: Record<string, unknown> & AnyBinlogEvent, out: ChangeEvent[]): boolean {
    const sql = String(ev.query ?? '').trim();
    const upper = sql.slice(0, 24).toUpperCase();
    if (upper === 'BEGIN') {
      if (!this.group && !this.open(ev.timestamp, true)) return false;
      this.group!.inTx = true;
      return true;
    }
    if (!this.group && !this.open(ev.timestamp, false)) return false;
    const g = this.group!;
    if (/^(COMMIT|ROLLBACK)\s*$/i.test(sql) || /^XA\s+(COMMIT|ROLLBACK)\b/i.test(sql)) return this.commit(ev, out);
    if (UNRELATED.test(sql)) return true;
    const schema = String(ev.schema ?? '');
    const st = parseStatement(sql, schema);
    for (const t of st.touched) this.tables.invalidate(t);
    if (st.database) this.tables.invalidate({ db: st.database });
    if (g.inTx) {
      // Statement-based DML inside a transaction (a session with binlog_format != ROW): not decodable.
      this.warnOnce(`statement:${schema}`, 'statement-based binlog event skipped (a session wrote with binlog_format other than ROW)', { db: schema, sql: sql.slice(0, 200) });
      return true;
    }
    if (!g.skip && st.kind !== 'other' && this.relevant(schema, st.table, st.touched, st.database)) {
      const base = { position: rowPosition(g.base, ++g.seq), sourceTs: ev.timestamp };
      if (st.kind === 'truncate') out.push({ kind: 'truncate', tables: [st.table!], ...base });
      else out.push({ kind: 'ddl', db: schema, ...(st.table ? { table: st.table } : {}), sql, ...base });
      g.emitted++;
    }
    return this.commit(ev, out);
  }

  private relevant(schema: string, table: TableRef | undefined, touched: TableRef[], database?: string): boolean {
    const db = table?.db ?? database ?? schema;
    if (!this.tableKeys) return !SYSTEM_SCHEMAS.includes(db.toLowerCase());
    if (touched.length) return touched.some((t) => this.tableKeys!.has(tableId(t)));
    return this.dbs!.has(db);
  }

  private async rows(it: BinlogItem, out: ChangeEvent[], signal: AbortSignal): Promise<boolean> {
    if (!it.table) return true;
    if (!this.group && !this.open(it.ev.timestamp, true)) return false;
    const g = this.group!;
    if (g.skip) return true;
    const dec = await this.tables.decoderFor(it.table, signal);
    const name = it.ev.getEventName();
    const raw = (it.ev as unknown as { rows: Array<Record<string, unknown>> }).rows;
    const sourceTs = it.ev.timestamp;
    for (const r of raw) {
      let before: Row | null = null;
      let after: Row | null = null;
      if (name === 'updaterows') {
        before = dec.decode(r.before as Record<string, unknown>);
        after = dec.decode(r.after as Record<string, unknown>);
      } else if (name === 'writerows') after = dec.decode(r);
      else before = dec.decode(r);
      const op = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
      const bytes = (before ? rowBytes(before) : 0) + (after ? rowBytes(after) : 0);
      out.push({ kind: 'row', op, table: dec.table, before, after, bytes, position: rowPosition(g.base, ++g.seq), sourceTs });
    }
    g.emitted += raw.length;
    return true;
  }

  private commit(ev: AnyBinlogEvent, out: ChangeEvent[]): boolean {
    if (this.o.endTimeMs !== undefined && ev.timestamp > this.o.endTimeMs) return false;
    const g = this.group;
    this.group = null;
    if (g?.gtid !== undefined) this.gtids?.add(g.gtid);
    const pos = ev.nextPosition > 0 ? ev.nextPosition : positionData(this.safe).pos;
    this.safe = mysqlPosition(this.file, pos, this.gtidText());
    const mark: CommitMark = { kind: 'commit', position: this.safe, sourceTs: ev.timestamp, ...(g?.gtid ? { txId: gtidText(g.gtid) } : {}) };
    const last = out[out.length - 1];
    if (!g?.emitted && last && this.emptyCommits.has(last)) out[out.length - 1] = mark;
    else out.push(mark);
    if (!g?.emitted) this.emptyCommits.add(mark);
    return true;
  }

  private heartbeat(ev: Record<string, unknown> & AnyBinlogEvent, out: ChangeEvent[]): void {
    if (this.group) return;
    const pos = Number(ev.position ?? ev.nextPosition);
    const file = (ev.binlogName as string) || this.file;
    if (!(pos > 0) || !file) return;
    const p = mysqlPosition(file, pos, this.gtidText());
    // An idle server repeats the position already reached: still a Heartbeat (lag = 0), never a step back.
    if (p.order < this.safe.order) return;
    this.safe = p;
    out.push({ kind: 'heartbeat', position: p, sourceTs: Date.now() });
  }

  private gtidText(): string | undefined {
    return this.gtids?.toString() || undefined;
  }

  private warnOnce(k: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(k)) return;
    this.warned.add(k);
    this.o.logger.warn(msg, fields);
  }
}

const gtidText = (g: NonNullable<Group['gtid']>): string => (typeof g === 'string' ? g : `${g.domainId}-${g.serverId}-${g.seqNo}`);

/** A GTID position that grows with every committed group (MariaDB domain-server-seq list, or a MySQL set). */
function tracker(seed: string, isMariaDb: boolean): Tracker | null {
  try {
    if (isMariaDb && !seed.includes(':')) {
      const p = MariadbGtidPosition.parse(seed);
      return { add: (g) => typeof g === 'object' && p.add(g as { domainId: number; serverId: number; seqNo: number | string }), toString: () => p.toString() };
    }
    if (!isMariaDb && seed.includes(':')) {
      const s = GtidSet.parse(seed);
      return { add: (g) => typeof g === 'string' && s.add(g), toString: () => s.toString() };
    }
  } catch {
    // An unparseable seed: positions carry no GTID rather than a wrong one.
  }
  return null;
}
