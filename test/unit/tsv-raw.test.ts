/**
 * The pieces of the `mysql-text-tsv` path that need no server: TabSeparated field splitting, the ClickHouse
 * writer's per-column decision (tsv-fit) and bounds check, and the chunk runner's page merging.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tsvFields } from '../../lib/core/tsv.ts';
import type { ColumnMeta } from '../../lib/core/table.ts';
import type { RowBatch } from '../../lib/core/source.ts';
import { tsvPlan, withinBounds } from '../../lib/connectors/clickhouse/tsv-fit.ts';
import { parseType } from '../../lib/connectors/clickhouse/sql.ts';
import { mergePages } from '../../lib/task/merge-pages.ts';

const col = (name: string, nativeType: string, family: ColumnMeta['family'], more: Partial<ColumnMeta> = {}): ColumnMeta => ({ name, nativeType, family, nullable: false, ...more });

describe('tsvFields', () => {
  it('splits on tabs, undoes escapes, reads \\N as NULL', () => {
    const line = Buffer.from('1\t\\N\ta\\tb\\nc\\\\d\\re\t\t\\\\N');
    assert.deepEqual(tsvFields(line, 0, line.length).map((f) => (f === null ? null : f.toString())), ['1', null, 'a\tb\nc\\d\re', '', '\\N']);
  });
});

describe('tsvPlan (ClickHouse takes MySQL text as it is)', () => {
  const plan = (meta: ColumnMeta, type: string, zone = 'UTC') => tsvPlan([{ meta, type: parseType(type) }], zone, true);
  it('takes exact pairs and gives date bounds', () => {
    assert.deepEqual(plan(col('a', 'int(11)', 'int'), 'Int32'), { bounds: [null] });
    assert.deepEqual(plan(col('a', 'bigint(20) unsigned', 'uint'), 'UInt64'), { bounds: [null] });
    assert.deepEqual(plan(col('a', 'year(4)', 'year'), 'UInt16'), { bounds: [null] });
    assert.deepEqual(plan(col('a', 'decimal(12,3)', 'decimal', { precision: 12, scale: 3 }), 'Decimal(14, 4)'), { bounds: [null] });
    assert.deepEqual(plan(col('a', 'double', 'float'), 'String'), { refused: 'a: double into String' }, 'float text is widened: never raw');
    assert.deepEqual(plan(col('a', 'varbinary(9)', 'binary', { nullable: true }), 'Nullable(String)'), { bounds: [null] });
    assert.deepEqual(plan(col('a', 'date', 'date'), 'Date'), { bounds: [['1970-01-01', '2149-06-06']] });
    assert.deepEqual(plan(col('a', 'datetime', 'datetime', { precision: 0 }), "DateTime('UTC')"), { bounds: [['1970-01-01 00:00:00', '2106-02-07 06:28:15']] });
  });
  it('refuses what would not read back the same', () => {
    const refused = (meta: ColumnMeta, type: string, zone?: string) => assert.ok('refused' in plan(meta, type, zone), `${meta.nativeType} -> ${type}`);
    refused(col('a', 'int(11) unsigned', 'uint'), 'Int32');
    refused(col('a', 'bigint(20)', 'int'), 'Int32');
    refused(col('a', 'decimal(12,3)', 'decimal', { precision: 12, scale: 3 }), 'Decimal(12, 2)');
    refused(col('a', 'decimal(12,3)', 'decimal', { precision: 12, scale: 3 }), 'Decimal(11, 3)');
    refused(col('a', 'datetime(6)', 'datetime', { precision: 6 }), "DateTime('UTC')");
    refused(col('a', 'datetime', 'datetime', { precision: 0 }), "DateTime('Asia/Shanghai')");
    refused(col('a', 'datetime', 'datetime', { precision: 0 }), 'DateTime', 'Europe/Berlin');
    refused(col('a', 'varchar(5)', 'string', { nullable: true }), 'String');
    refused(col('a', 'varchar(5)', 'string'), 'FixedString(5)');
    refused(col('a', "enum('a')", 'enum'), "Enum8('a' = 1)");
    refused(col('a', 'bit(3)', 'bit'), 'UInt64');
    refused(col('a', 'int(5) unsigned zerofill', 'uint'), 'String');
    assert.deepEqual(tsvPlan([{ meta: col('a', 'int(11)', 'int'), type: parseType('Int32') }], 'UTC', false), { refused: 'an extra column has a DEFAULT expression' });
  });
  it('withinBounds compares each page range with the target range', () => {
    const p = { bounds: [null, ['1970-01-01', '2149-06-06'] as const, ['1970-01-01 00:00:00', '2106-02-07 06:28:15'] as const] };
    assert.equal(withinBounds(p, [null, ['1970-01-01', '2149-06-06'], ['2000-01-01 00:00:00', '2000-01-01 00:00:00']]), true);
    assert.equal(withinBounds(p, [null, null, null]), true, 'all NULL');
    assert.equal(withinBounds(p, [null, ['1969-12-31', '2000-01-01'], null]), false);
    assert.equal(withinBounds(p, [null, null, ['2000-01-01 00:00:00', '2106-02-07 06:28:16']]), false);
    assert.equal(withinBounds(p, undefined), false, 'a page without bounds');
  });
});

describe('mergePages', () => {
  const rawPage = (n: number, last: number, bounds: Array<[string, string] | null>): RowBatch => ({
    get rows() {
      return Array.from({ length: n }, (_v, i) => ({ id: last - n + 1 + i }));
    },
    lastKey: [last],
    bytes: n * 10,
    raw: { format: 'f', chunks: [Buffer.from(`page ${last}`)], count: n, bounds },
  });
  async function* from(pages: RowBatch[]) {
    yield* pages;
  }
  const collect = async (it: AsyncIterable<RowBatch>) => {
    const out: RowBatch[] = [];
    for await (const b of it) out.push(b);
    return out;
  };

  it('merges raw pages up to maxRows, keeping chunks in order, the last key and the widest bounds', async () => {
    const pages = [rawPage(2, 2, [['2000-01-02', '2000-01-05']]), rawPage(2, 4, [null]), rawPage(2, 6, [['1999-01-01', '2000-01-03']]), rawPage(2, 8, [null])];
    const out = await collect(mergePages(from(pages), 6, 1000));
    assert.equal(out.length, 2);
    assert.deepEqual(out[0].raw!.chunks.map(String), ['page 2', 'page 4', 'page 6']);
    assert.equal(out[0].raw!.count, 6);
    assert.deepEqual(out[0].lastKey, [6]);
    assert.deepEqual(out[0].raw!.bounds, [['1999-01-01', '2000-01-05']]);
    assert.deepEqual(out[0].rows.map((r) => r.id), [1, 2, 3, 4, 5, 6]);
    assert.equal(out[1], pages[3], 'a lone page goes as it is');
  });

  it('never mixes raw and decoded pages, and stops at maxBytes', async () => {
    const decoded: RowBatch = { rows: [{ id: 9 }], lastKey: [9], bytes: 10 };
    const out = await collect(mergePages(from([rawPage(1, 1, [null]), decoded, rawPage(1, 10, [null]), rawPage(1, 11, [null])]), 100, 15));
    assert.deepEqual(out.map((b) => b.lastKey), [[1], [9], [10], [11]]);
  });
});
