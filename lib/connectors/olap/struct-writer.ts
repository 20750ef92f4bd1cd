/**
 * StructWriter for StarRocks / Doris: plans with ddl.ts, checks existence and runs statements on the FE
 * over the MySQL protocol.
 */
import type { DdlPlan, DdlStatement, SchemaModel, StructWriter } from '../../core/struct.ts';
import type { OlapDialect } from './dialect.ts';
import type { OlapCatalog } from './fe-client.ts';
import { planOlapDdl, type OlapDdlOptions } from './ddl.ts';

export class OlapStructWriter implements StructWriter {
  constructor(
    private readonly dialect: OlapDialect,
    private readonly o: OlapDdlOptions,
    private readonly catalog: OlapCatalog,
  ) {}

  planDdl(model: SchemaModel): DdlPlan {
    return planOlapDdl(this.dialect, model, this.o);
  }

  async exists(stmt: DdlStatement, signal?: AbortSignal): Promise<boolean> {
    if (stmt.kind === 'database') return this.catalog.databaseExists(stmt.names[0], signal);
    const t = { db: stmt.names[0], tb: stmt.names[1] };
    return (await this.catalog.describe(t, signal ?? new AbortController().signal)) !== undefined;
  }

  async execute(stmt: DdlStatement, signal?: AbortSignal): Promise<void> {
    await this.catalog.execute(stmt.sql, signal);
  }

  async close(): Promise<void> {
    await this.catalog.close();
  }
}
