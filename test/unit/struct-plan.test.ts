/**
 * Pure parts of structure migration: config keys (CF001 naming the key), and planDdl's type mapping and flags
 * for each direction on a hand-built model (the integration tests run the same DDL against the servers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { isFerryError } from '../../lib/core/errors.ts';
import type { SchemaModel, StructColumn } from '../../lib/core/struct.ts';
import { planMysqlDdl } from '../../lib/connectors/mysql/struct-ddl.ts';
import { canonicalMysqlType } from '../../lib/connectors/mysql/struct-types.ts';
import { parseMysqlDefault } from '../../lib/connectors/mysql/struct-reader.ts';
import { planPgDdl } from '../../lib/connectors/pg/struct-ddl.ts';
import { parsePgDefault } from '../../lib/connectors/pg/struct-reader.ts';
import { portableExpression } from '../../lib/core/struct-util.ts';

const base = { extractor: { db_type: 'mysql', extract_type: 'struct', url: 'mysql://h' }, sinker: { db_type: 'pg', sink_type: 'struct', url: 'postgres://h/d' } };

describe('struct config keys', () => {
  it('defaults: conflict_policy interrupt, do_structures all', () => {
    const { config } = taskConfigFromSections(base);
    assert.equal(config.sinker.conflictPolicy, 'interrupt');
    assert.deepEqual(config.filter.doStructures, ['*']);
  });
  it('bad values are CF001 naming the key', () => {
    for (const [sections, key] of [
      [{ ...base, sinker: { ...base.sinker, conflict_policy: 'skip' } }, 'sinker.conflict_policy'],
      [{ ...base, filter: { do_structures: 'table,view' } }, 'filter.do_structures'],
    ] as const) {
      assert.throws(() => taskConfigFromSections(sections), (e: unknown) => isFerryError(e) && e.code === 'CF001' && e.message.startsWith(key));
    }
  });
});

const col = (name: string, nativeType: string, family: StructColumn['family'], extra: Partial<StructColumn> = {}): StructColumn => ({ name, nativeType, family, nullable: true, ...extra });

function model(sourceDbType: string, columns: StructColumn[]): SchemaModel {
  return {
    sourceDbType,
    databases: [{ name: 'd' }],
    tables: [{ db: 'd', tb: 't', columns, primaryKey: { columns: [columns[0].name] }, indexes: [], foreignKeys: [], checks: [] }],
    sequences: [],
    enumTypes: [],
  };
}

describe('planDdl MySQL -> PostgreSQL', () => {
  it('maps the ape-dts way and flags lossy conversions', () => {
    const p = planPgDdl(model('mysql', [
      col('a', 'tinyint(4)', 'int'), col('b', 'int(10) unsigned', 'uint'), col('c', 'bigint(20) unsigned', 'uint'),
      col('d', 'datetime(6)', 'datetime', { precision: 6 }), col('e', 'longtext', 'json'), col('f', "set('x','y')", 'set', { members: ['x', 'y'] }),
      col('g', 'year(4)', 'year'), col('h', 'bit(3)', 'bit', { length: 3 }), col('i', 'blob', 'binary'), col('j', 'decimal(30,10)', 'decimal', { precision: 30, scale: 10 }),
      col('k', "enum('s','mm')", 'enum', { members: ['s', 'mm'] }), col('l', 'timestamp(3)', 'datetime', { precision: 3 }),
    ]));
    const sql = p.statements.find((s) => s.kind === 'table')!.sql;
    for (const want of ['"a" smallint', '"b" bigint', '"c" numeric(20,0)', '"d" timestamp(6) without time zone', '"e" jsonb', '"f" text', '"g" smallint', '"h" bit(3)', '"i" bytea', '"j" numeric(30,10)', `"k" character varying(2) CHECK ("k" IN ('s', 'mm'))`, '"l" timestamp(3) with time zone']) {
      assert.ok(sql.includes(want), `${want} in ${sql}`);
    }
    assert.deepEqual(p.flags.map((f) => f.object).sort(), ['d.t.e', 'd.t.f']);
  });
  it('geometry is MD002 naming db.tb.column and the type', () => {
    assert.throws(() => planPgDdl(model('mysql', [col('id', 'int', 'int'), col('g', 'point', 'geometry')])), (e: unknown) => isFerryError(e) && e.code === 'MD002' && /d\.t\.g: source type point/.test(e.message));
  });
});

describe('planDdl PostgreSQL -> MySQL', () => {
  it('maps back and flags the zone', () => {
    const p = planMysqlDdl(model('pg', [
      col('a', 'integer', 'int', { precision: 32 }), col('b', 'timestamp(3) with time zone', 'timestamptz', { precision: 3 }), col('c', 'boolean', 'bool'),
      col('d', 'jsonb', 'json'), col('e', 'uuid', 'uuid'), col('f', 'text', 'string'), col('g', 'integer[]', 'array'), col('h', 'mood', 'enum', { members: ['a', 'b'] }),
    ]));
    const sql = p.statements.find((s) => s.kind === 'table')!.sql;
    for (const want of ['`a` int', '`b` datetime(3)', '`c` tinyint(1)', '`d` json', '`e` char(36)', '`f` longtext', '`g` longtext', "`h` enum('a','b')"]) assert.ok(sql.includes(want), `${want} in ${sql}`);
    assert.deepEqual(p.flags.map((f) => f.object).sort(), ['d.t.b', 'd.t.g']);
  });
  it('text in a key becomes an indexable varchar, flagged', () => {
    const p = planMysqlDdl(model('pg', [col('k', 'text', 'string', { nullable: false })]));
    assert.match(p.statements[1].sql, /`k` varchar\(768\) NOT NULL/);
    assert.equal(p.flags[0].object, 'd.t.k');
  });
});

describe('struct helpers', () => {
  it('MySQL display widths: default widths dropped, tinyint(1) kept', () => {
    assert.equal(canonicalMysqlType('int(11)'), 'int');
    assert.equal(canonicalMysqlType('int(10) unsigned'), 'int unsigned');
    assert.equal(canonicalMysqlType('tinyint(1)'), 'tinyint(1)');
    assert.equal(canonicalMysqlType('bigint(20) unsigned zerofill'), 'bigint unsigned zerofill');
  });
  it('defaults as the catalogs print them', () => {
    assert.deepEqual(parseMysqlDefault("'it''s'", '', true), { kind: 'literal', value: "it's" });
    assert.deepEqual(parseMysqlDefault('current_timestamp(6)', '', true), { kind: 'current_timestamp', precision: 6 });
    assert.equal(parseMysqlDefault('NULL', '', true), undefined);
    assert.deepEqual(parseMysqlDefault('abc', '', false), { kind: 'literal', value: 'abc' });
    assert.deepEqual(parsePgDefault("'x'::character varying"), { kind: 'literal', value: 'x' });
    assert.deepEqual(parsePgDefault('(-1)'), { kind: 'literal', value: '-1' });
    assert.deepEqual(parsePgDefault('CURRENT_TIMESTAMP(3)'), { kind: 'current_timestamp', precision: 3 });
    assert.deepEqual(parsePgDefault('gen_random_uuid()'), { kind: 'expression', text: 'gen_random_uuid()' });
  });
  it('portable CHECK expressions are re-quoted; anything else is refused', () => {
    const cols = new Set(['a', 'b c']);
    assert.equal(portableExpression('`a` >= 0 and `b c` in (1,2)', (n) => `"${n}"`, cols), '"a" >= 0 AND "b c" IN (1,2)');
    assert.equal(portableExpression('(a > 0)', (n) => `\`${n}\``, cols), '(`a` > 0)');
    assert.equal(portableExpression("a::text = 'x'", (n) => n, cols), undefined);
    assert.equal(portableExpression('length(a) > 1', (n) => n, cols), undefined);
  });
});
