import type { DdlPlan, DdlStatement, SchemaModel, StructWriter } from '../../core/struct.ts';
import type { TableRef } from '../../core/table.ts';
import type { MysqlClient } from './client.ts';
import { sqlString } from './sql.ts';
import { planMysqlDdl } from './struct-ddl.ts';
import { MysqlStructReader } from './struct-reader.ts';

/**
 * StructWriter for MySQL/MariaDB targets. `exists` asks information_schema by the statement's names;
 * `execute` runs the statement on a sink session (foreign_key_checks off when the sinker says so, so a
 * foreign key added after the data does not re-check every row).
 */
export class MysqlStructWriter implements StructWriter {
  constructor(
    private readonly client: MysqlClient,
    private readonly onClose: () => Promise<void> = () => client.end(),
  ) {}

  planDdl(model: SchemaModel): DdlPlan {
    return planMysqlDdl(model);
  }

  async exists(stmt: DdlStatement, signal: AbortSignal = new AbortController().signal): Promise<boolean> {
    const [db, tb, name] = stmt.names.map(sqlString);
    let sql: string;
    switch (stmt.kind) {
      case 'database':
        sql = `SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${db}`;
        break;
      case 'table':
        sql = `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${db} AND TABLE_NAME = ${tb}`;
        break;
      case 'index':
      case 'unique':
        sql = `SELECT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${db} AND TABLE_NAME = ${tb} AND INDEX_NAME = ${name}`;
        break;
      case 'check':
      case 'foreign_key':
        sql = `SELECT CONSTRAINT_NAME AS n FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ${db} AND TABLE_NAME = ${tb} AND CONSTRAINT_NAME = ${name}`;
        break;
      default:
        return false; // types and sequences are never planned for MySQL
    }
    const rows = await this.client.catalog<{ n: string }>(sql, signal);
    // information_schema compares case-insensitively; databases and tables are case-sensitive on most systems,
    // index and constraint names never are.
    const want = stmt.names[stmt.names.length - 1];
    const folded = stmt.kind !== 'database' && stmt.kind !== 'table';
    return rows.some((r) => r.n === want || (folded && r.n.toLowerCase() === want.toLowerCase()));
  }

  async execute(stmt: DdlStatement, signal: AbortSignal = new AbortController().signal): Promise<void> {
    await this.client.query(stmt.sql, signal, { context: `struct ${stmt.object}` });
  }

  async readSchema(tables: TableRef[], signal?: AbortSignal): Promise<SchemaModel> {
    return new MysqlStructReader(this.client, async () => undefined).readSchema(tables, signal);
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
