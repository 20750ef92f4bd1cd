/**
 * StructWriter for TiDB: plans with ddl.ts; exists / execute over the MySQL protocol through the MySQL
 * connector's client (TiDB speaks it), one statement at a time.
 */
import type { DdlPlan, DdlStatement, SchemaModel, StructWriter } from '../../core/struct.ts';
import type { MysqlClient } from '../mysql/client.ts';
import { sqlString } from '../mysql/sql.ts';
import { planTidbDdl } from './ddl.ts';

export class TidbStructWriter implements StructWriter {
  constructor(
    private readonly client: MysqlClient,
    private readonly release: () => Promise<void>,
  ) {}

  planDdl(model: SchemaModel): DdlPlan {
    return planTidbDdl(model);
  }

  async exists(stmt: DdlStatement, signal: AbortSignal = new AbortController().signal): Promise<boolean> {
    const [db, tb, ix] = stmt.names;
    let sql: string;
    if (stmt.kind === 'database') sql = `SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(db)}`;
    else if (stmt.kind === 'table') sql = `SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(db)} AND TABLE_NAME = ${sqlString(tb!)}`;
    else if (stmt.kind === 'foreign_key') {
      sql = `SELECT 1 AS x FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ${sqlString(db)} AND TABLE_NAME = ${sqlString(tb!)} AND CONSTRAINT_NAME = ${sqlString(ix!)}`;
    } else sql = `SELECT 1 AS x FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${sqlString(db)} AND TABLE_NAME = ${sqlString(tb!)} AND INDEX_NAME = ${sqlString(ix!)}`;
    return (await this.client.catalog<{ x: number }>(sql, signal)).length > 0;
  }

  async execute(stmt: DdlStatement, signal: AbortSignal = new AbortController().signal): Promise<void> {
    await this.client.query(stmt.sql, signal, { context: `ddl ${stmt.object}` });
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/** `db`, `db.tb`, `db.tb.index` -> parts (names with dots are taken from the left: db, then tb, then the rest). */
