/**
 * Where the integration tests find the project's own servers (`npm run services -- up`).
 * Env overrides let the same tests run against any server: FERRY_TEST_MYSQL_URL, FERRY_TEST_PG_URL,
 * FERRY_TEST_CLICKHOUSE_URL (an HTTP URL: Debian's 18.16 here, any current server elsewhere).
 */
export const testUrls = {
  mysql: process.env.FERRY_TEST_MYSQL_URL ?? `mysql://root@127.0.0.1:${process.env.FERRY_MYSQL_PORT ?? 53306}`,
  pg: process.env.FERRY_TEST_PG_URL ?? `postgres://postgres@127.0.0.1:${process.env.FERRY_PG_PORT ?? 55432}/postgres`,
  clickhouse: process.env.FERRY_TEST_CLICKHOUSE_URL ?? `http://127.0.0.1:${process.env.FERRY_CH_HTTP_PORT ?? 58123}`,
};

/** A name unique to this test run, safe as a database/schema name: `<prefix>_<pid>_<counter>`. */
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`.toLowerCase();
}
