/**
 * Sinker for ClickHouse: snapshot table writers and the CDC applier over one HTTP client.
 *
 * Invariants (beyond lib/core/sinker.ts): openTable fails with MD001 naming `db.tb` / `db.tb.col` when the
 * table, a written column or one of ape-dts's extra columns is missing, or when a keyed table is not a
 * ReplacingMergeTree (writes would not be idempotent). Values are checked against the TARGET column type
 * (fit.ts). Rows go as RowBinary where the table allows it, else JSONEachRow (`format`, target.ts). DDL events
 * are not applied (capabilities.ddl = false): source DDL is MySQL/PostgreSQL text.
 */
import type { Logger } from '../../core/logger.ts';
import type { ChangeApplier, Sinker, SinkerCapabilities, TableWriter, WriteTarget } from '../../core/sinker.ts';
import { ClickhouseChangeApplier } from './applier.ts';
import type { ClickhouseApi } from './client.ts';
import { openShape, type FormatChoice } from './target.ts';
import { VersionClock } from './version.ts';
import { ClickhouseTableWriter } from './writer.ts';

export class ClickhouseSinker implements Sinker {
  readonly capabilities: SinkerCapabilities = { replaceAll: true, ddl: false };
  /** One clock for every applier of this sinker (parallel lanes), so versions never go back. */
  readonly clock = new VersionClock();

  constructor(
    readonly client: ClickhouseApi,
    private readonly logger: Logger,
    /** `sinker.clickhouse_format`. */
    readonly format: FormatChoice = 'auto',
    /** `sinker.batch_size`: rows per snapshot INSERT when more than a source page (pages streamed or merged into it). */
    private readonly batchRows?: number,
  ) {}

  async openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter> {
    await this.client.server(signal);
    return new ClickhouseTableWriter(this.client, await openShape(this.client, target, signal, this.format, this.logger), this.batchRows);
  }

  async openApplier(signal: AbortSignal): Promise<ChangeApplier> {
    await this.client.server(signal);
    return new ClickhouseChangeApplier(this.client, this.clock, this.logger, this.format);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
