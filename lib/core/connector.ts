import type { Logger } from './logger.ts';
import type { MetadataAccessor, SnapshotSource } from './source.ts';
import type { Sinker } from './sinker.ts';

/** What every connector factory receives: its endpoint section and the injected logger. */
export interface ConnectorContext {
  logger: Logger;
  signal: AbortSignal;
}

/**
 * A connector: one database kind, one folder under lib/connectors, registered once in registry.ts.
 * Roles are optional: a connector offers only what it supports, and the task planner refuses (CF001 naming
 * `extractor.db_type` / `sinker.db_type`) a role that is missing -- never a silent no-op.
 *
 * `E` is the connector's endpoint config (lib/config EndpointConfig or a subtype).
 */
export interface ConnectorDefinition<E = unknown> extends CdcConnectorRoles<E> {
  dbType: string;
  /** Human name for messages and docs. */
  title: string;
  createMetadata?(endpoint: E, ctx: ConnectorContext): Promise<MetadataAccessor>;
  createSnapshotSource?(endpoint: E, ctx: ConnectorContext): Promise<SnapshotSource>;
  createSinker?(endpoint: E, ctx: ConnectorContext): Promise<Sinker>;
  /** Structure migration source role: reads the neutral schema model (lib/core/struct.ts). */
  createStructReader?(endpoint: E, ctx: ConnectorContext): Promise<import('./struct.ts').StructReader>;
  /** Structure migration target role: plans and runs DDL for this engine. */
  createStructWriter?(endpoint: E, ctx: ConnectorContext): Promise<import('./struct.ts').StructWriter>;
  /**
   * The SQL dialect of its statements, when it shares another connector's (TiDB: `mysql`); absent: its own
   * `dbType`. CDC applies a source's DDL text to a target only when both dialects are the same.
   */
  sqlDialect?: string;
  /** Quotes an identifier for this engine (`a``b` / "a""b"). */
  quoteIdent(name: string): string;
}

/** What the task knows that a CDC source may use (all optional; a source may ignore what it cannot use). */
export interface CdcSourceOptions {
  /**
   * The source tables the task replicates (filter resolved). PostgreSQL publishes only these when it creates
   * its publication; absent: every table.
   */
  tables?: import('./table.ts').TableRef[];
  /**
   * True when tables created later can match the task's filter (`filter.do_dbs` or wildcard `do_tbs`): a
   * source that can decode by database should then not restrict itself to `tables`, or new tables' rows and
   * DDL would be missed. (PostgreSQL's publication needs a list: it adds new matches when streaming restarts.)
   */
  tablesMayGrow?: boolean;
}

/** CDC roles a connector may add to its definition (kept apart so snapshot-only connectors stay small). */
export interface CdcConnectorRoles<E = unknown> {
  createCdcSource?(endpoint: E, ctx: ConnectorContext, opts?: CdcSourceOptions): Promise<import('./change.ts').CdcSource & import('./change.ts').CdcStartCapture>;
}
