/**
 * Sinker for StarRocks / Doris: table shapes from the FE (MySQL protocol), rows by Stream Load (HTTP).
 * Shared by the two connectors, which differ only by their {@link OlapDialect}.
 *
 * Capabilities: `replaceAll` (keyless tables: TRUNCATE + loads, not atomic, see writer.ts); CDC apply
 * (applier.ts); no DDL apply (`ddl: false`: the CDC task logs DDL events as not applied, as ape-dts ignores them).
 */
import type { Logger } from '../../core/logger.ts';
import type { ChangeApplier, Sinker, SinkerCapabilities, TableWriter, WriteTarget } from '../../core/sinker.ts';
import { StreamLoadApplier } from './applier.ts';
import type { ResolvedOlapConfig } from './config.ts';
import type { OlapDialect } from './dialect.ts';
import type { OlapCatalog } from './fe-client.ts';
import { StreamLoader, type LoaderOptions } from './loader.ts';
import { resolveTarget, type LoadTarget } from './target.ts';
import { StreamLoadTableWriter } from './writer.ts';

export class StreamLoadSinker implements Sinker {
  readonly capabilities: SinkerCapabilities = { replaceAll: true, ddl: false };
  readonly loader: StreamLoader;

  constructor(
    readonly dialect: OlapDialect,
    private readonly cfg: ResolvedOlapConfig,
    private readonly catalog: OlapCatalog,
    logger: Logger,
    loaderOptions: LoaderOptions = {},
  ) {
    this.loader = new StreamLoader(cfg, logger.child({ connector: dialect.dbType }), loaderOptions);
  }

  resolve(target: WriteTarget, signal: AbortSignal): Promise<LoadTarget> {
    return resolveTarget(this.catalog, this.dialect, target, signal);
  }

  async openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter> {
    const t = await this.resolve(target, signal);
    return new StreamLoadTableWriter({ target: t, loader: this.loader, catalog: this.catalog, maxBodyBytes: this.cfg.maxBodyBytes, labelPrefix: this.cfg.labelPrefix });
  }

  async openApplier(_signal: AbortSignal): Promise<ChangeApplier> {
    return new StreamLoadApplier({
      dialect: this.dialect,
      loader: this.loader,
      catalog: this.catalog,
      resolve: (t, s) => this.resolve(t, s),
      maxBodyBytes: this.cfg.maxBodyBytes,
      labelPrefix: this.cfg.labelPrefix,
    });
  }

  async close(): Promise<void> {
    await this.catalog.close();
  }
}
