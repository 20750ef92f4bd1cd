import type { Logger, MetadataAccessor, SnapshotSource, Sinker, ConnectorDefinition, CdcSource, CdcStartCapture, StructReader, StructWriter } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import type { EndpointConfig, TaskConfig } from '../config/types.ts';
import { loadConnector } from '../connectors/registry.ts';
import { discoverTables } from '../plan/discover.ts';

/**
 * The connections one process holds for one task: created on first use, shared by every chunk the process
 * runs (a local worker pool, or a warm Lambda container), closed once.
 * Invariant: each role is created at most once; `close` closes exactly what was created.
 */
export class TaskResources {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(
    readonly cfg: TaskConfig,
    readonly logger: Logger,
    private readonly signal: AbortSignal = new AbortController().signal,
  ) {}

  metadata(): Promise<MetadataAccessor> {
    return this.role('metadata', 'extractor', (c, e) => c.createMetadata?.(e, this.ctx('extractor')));
  }

  source(): Promise<SnapshotSource> {
    return this.role('source', 'extractor', (c, e) => c.createSnapshotSource?.(e, this.ctx('extractor')));
  }

  /** The extractor's change stream (CDC), also used to capture the handover position. */
  cdcSource(): Promise<CdcSource & CdcStartCapture> {
    return this.role('cdc source', 'extractor', (c, e) => {
      if (!c.createCdcSource) return undefined;
      const create = c.createCdcSource.bind(c);
      // The source learns the task's tables (filter resolved now): PostgreSQL then publishes only those, so a
      // ferry-made publication never affects other tables (a FOR ALL TABLES publication makes DELETE fail on
      // every table without a replica identity).
      return (async () => {
        const tables = await discoverTables(this.cfg, await this.metadata(), this.logger, this.signal);
        const f = this.cfg.filter;
        const tablesMayGrow = f.doDbs.length > 0 || f.doTbs.some((p) => /[*?]|^r#/.test(p.tb.source));
        return create(e, this.ctx('extractor'), { tables: tables.map((t) => ({ db: t.db, tb: t.tb })), tablesMayGrow });
      })();
    });
  }

  sinker(): Promise<Sinker> {
    return this.role('sinker', 'sinker', (c, e) => c.createSinker?.(e, this.ctx('sinker')));
  }

  /** Structure migration: the extractor's schema reader (connector role createStructReader). */
  structReader(): Promise<StructReader> {
    return this.role('struct reader', 'extractor', (c, e) => c.createStructReader?.(e, this.ctx('extractor')));
  }

  /** Structure migration: the sinker's DDL writer (connector role createStructWriter). */
  structWriter(): Promise<StructWriter> {
    return this.role('struct writer', 'sinker', (c, e) => c.createStructWriter?.(e, this.ctx('sinker')));
  }

  /**
   * Starts loading both endpoints' connector modules, without connecting: the sinker's code is then compiled while
   * the process waits on the source's first round trips instead of after the plan. Never rejects; a connector
   * that cannot load fails later, with its error, in the role that needs it.
   */
  preload(): void {
    for (const section of ['extractor', 'sinker'] as const) loadConnector(this.cfg[section].dbType, `${section}.db_type`).catch(() => undefined);
  }

  /** True when the source's statements run unchanged on the target (same connector SQL dialect). */
  async sameSqlDialect(): Promise<boolean> {
    const dialect = async (section: 'extractor' | 'sinker') => {
      const c = await loadConnector(this.cfg[section].dbType, `${section}.db_type`);
      return c.sqlDialect ?? c.dbType;
    };
    return (await dialect('extractor')) === (await dialect('sinker'));
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    this.cache.clear();
    await Promise.allSettled(closers.map((c) => c()));
  }

  private ctx(section: 'extractor' | 'sinker') {
    return { logger: this.logger.child({ connector: this.cfg[section].dbType, role: section }), signal: this.signal };
  }

  private role<T extends { close(): Promise<void> }>(
    name: string,
    section: 'extractor' | 'sinker',
    make: (c: ConnectorDefinition<EndpointConfig>, e: EndpointConfig) => Promise<T> | undefined,
  ): Promise<T> {
    let p = this.cache.get(name) as Promise<T> | undefined;
    if (!p) {
      p = (async () => {
        const endpoint = this.cfg[section];
        const connector = await loadConnector(endpoint.dbType, `${section}.db_type`);
        const made = make(connector, endpoint);
        if (!made) {
          throw new FerryError('CF001', `${section}.db_type: ${connector.title} cannot be used as ${({ sinker: 'a sinker', 'cdc source': 'a CDC source', 'struct reader': 'a structure source', 'struct writer': 'a structure target' } as Record<string, string>)[name] ?? 'a snapshot source'}`, {
            details: { key: `${section}.db_type` },
          });
        }
        const r = await made;
        this.closers.push(() => r.close());
        return r;
      })();
      this.cache.set(name, p);
      p.catch(() => this.cache.delete(name));
    }
    return p;
  }
}
