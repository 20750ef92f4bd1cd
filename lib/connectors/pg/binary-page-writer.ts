import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { sleep } from '../../core/signal.ts';
import type { RawRows } from '../../core/source.ts';
import type { ColumnMeta, TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import { binaryKeyTypes, binaryPage, keyFieldText, pageStream, readTuple, splitTuples } from './copy-binary.ts';
import { isDataError, isTransientConflict, isUniqueViolation, sqlstateOf } from './errors.ts';
import { badRowError, columnOf, copyLineOf, locateBadRow } from './locate.ts';
import type { PgPool } from './pool.ts';
import { copyRaw, exec, inTransaction, type Session } from './session.ts';
import { decoderFor, type Decoder } from './type-map.ts';
import type { WriteSql } from './write-sql.ts';

/** Whether `auto` mode tries a direct COPY first (see CopyFirst in table-writer.ts). */
export interface CopyGate {
  shouldTry(): boolean;
  succeeded(): void;
  conflicted(): void;
}

export interface BinaryPageDeps {
  pool: PgPool;
  sql: WriteSql;
  table: TableRef;
  ctx: string;
  /** The written columns (source metadata under target names), in page field order. */
  columns: ColumnMeta[];
  keyColumns: string[];
  gate: CopyGate;
  logger: Logger;
  /** `k=v` text of a key (the row writer's own, so messages look the same on both paths). */
  describe(key: Row): string;
  ensureStaging(s: Session): Promise<void>;
  deadlockAttempts: number;
}


/**
 * Writes `pg-copy-binary` pages, which ferry never decodes into rows:
 * - first one `COPY target FROM STDIN (FORMAT binary)` of the page as it came (one statement: atomic);
 * - an existing key, a deadlock or serialization failure (or CopyFirst saying skip) sends the page into the
 *   session staging table and `INSERT ... SELECT ... ON CONFLICT` from there, in one transaction (retried on
 *   deadlock): the same result as the row path's upsert;
 * - a value the target rejects raises IN001 naming the table, the column and the row's key: the row is the
 *   tuple the server's COPY context names (`line n`), or, for errors without one (the upsert's constraints),
 *   found by bisecting the page's tuples in a rolled-back transaction. Nothing of a failed page is written.
 */
export class BinaryPageWriter {
  private readonly keyIdx: number[];
  private readonly keyTypes: string[];
  private readonly keyDecoders: Decoder[];
  private readonly names: string[];

  constructor(private readonly d: BinaryPageDeps) {
    this.names = d.columns.map((c) => c.name);
    this.keyIdx = d.keyColumns.map((k) => this.names.indexOf(k));
    const keyTypes = binaryKeyTypes(d.columns, d.keyColumns);
    if (!keyTypes) throw new FerryError('RT002', `${d.ctx}: key columns ${d.keyColumns.join(', ')} cannot be read from binary COPY`);
    this.keyTypes = keyTypes;
    this.keyDecoders = this.keyIdx.map((i) => decoderFor(d.columns[i]));
  }

  async write(raw: RawRows, signal: AbortSignal): Promise<void> {
    if (!raw.count) return;
    if (this.d.gate.shouldTry()) {
      try {
        await this.d.pool.withClient(signal, (client) => copyRaw(this.session(client, signal), this.d.sql.copyTargetBinary, raw.chunks));
        this.d.gate.succeeded();
        return;
      } catch (e) {
        if (isUniqueViolation(e)) this.d.gate.conflicted();
        else if (isDataError(e)) {
          const pinned = this.pinned(raw.chunks, e, this.d.sql.names.target);
          if (pinned) throw pinned;
          // No row named (no COPY context): the staging path meets it again and bisects for the row.
        } else if (!isTransientConflict(e)) throw e;
        this.d.logger.debug('binary COPY page takes the staging upsert', { table: tableId(this.d.table), rows: raw.count, sqlstate: sqlstateOf(e) });
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.d.pool.withClient(signal, (client) => this.upsert(this.session(client, signal), raw.chunks));
        return;
      } catch (e) {
        if (!isTransientConflict(e) || attempt >= this.d.deadlockAttempts || signal.aborted) throw e;
        this.d.logger.debug('retrying binary page after a transient failure', { table: tableId(this.d.table), attempt, error: e });
        await sleep(25 * 2 ** attempt * (0.5 + Math.random()), signal);
      }
    }
  }

  private session(client: Session['client'], signal: AbortSignal): Session {
    return { client, target: this.d.pool.target, signal, ctx: this.d.ctx };
  }

  /** The page through the staging table, in one transaction; a data error pinned to its tuple. */
  private async upsert(s: Session, chunks: Buffer[]): Promise<void> {
    await this.d.ensureStaging(s);
    try {
      await inTransaction(s, async () => {
        await copyRaw(s, this.d.sql.copyStagingBinary, chunks);
        await exec(s, this.d.sql.upsertFromStaging);
      });
    } catch (e) {
      if (!isDataError(e)) throw e;
      const pinned = this.pinned(chunks, e, this.d.sql.names.staging);
      if (pinned) throw pinned;
      throw await locateBadRow(s, splitTuples(pageStream(chunks)), e, {
        table: this.d.table,
        columns: this.names,
        describe: (t) => this.keyOf(t),
        attempt: async (tuples) => {
          await exec(s, this.d.sql.clearStaging);
          await copyRaw(s, this.d.sql.copyStagingBinary, binaryPage(tuples));
          await exec(s, this.d.sql.upsertFromStaging);
        },
        probe: (t) => copyRaw(s, this.d.sql.copyStagingBinary, binaryPage([t])),
      });
    }
  }

  /** IN001 for the tuple a COPY error context names (`COPY <into>, line n`); undefined without one. */
  private pinned(chunks: Buffer[], e: unknown, into: string): FerryError | undefined {
    const line = copyLineOf(e, [into]);
    if (line === undefined) return undefined;
    const tuples = splitTuples(pageStream(chunks));
    if (line < 1 || line > tuples.length) return undefined;
    return badRowError(this.d.table, e, columnOf(e, this.names), this.keyOf(tuples[line - 1]));
  }

  /** A tuple's key, decoded as the source decodes resume keys, described as the row writer does. */
  private keyOf(tuple: Buffer): string {
    const fields = readTuple(tuple, 0)!.fields;
    const key: Row = {};
    this.keyIdx.forEach((i, j) => {
      const f = fields[i];
      key[this.d.keyColumns[j]] = f === null || f === undefined ? null : this.keyDecoders[j](keyFieldText(this.keyTypes[j], f));
    });
    return this.d.describe(key);
  }
}
