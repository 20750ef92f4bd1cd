/**
 * RowBinary bytes per target type, without a server: edge values of every type (integer bounds up to 256 bits,
 * 2^64-1, wide and negative decimals, DateTime64 before 1970 and past 2255, UTF-8 and zero bytes in strings,
 * NULL and absent values), the values refused (FitError), and the row level: the extra columns, IN001 naming
 * table, column and key, payload chunks. Also: JSONEachRow and RowBinary accept and refuse the same values (they
 * share fit.ts). Round trips through real engines: test/integration/clickhouse-rowbinary.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import type { Row, TypeFamily, Value } from '../../lib/core/values.ts';
import { ByteChunks } from '../../lib/connectors/clickhouse/bytes.ts';
import { encoderFor } from '../../lib/connectors/clickhouse/encode.ts';
import { FitError } from '../../lib/connectors/clickhouse/fit.ts';
import { clickhouseFormat } from '../../lib/connectors/clickhouse/index.ts';
import { rowsPayload } from '../../lib/connectors/clickhouse/payload.ts';
import { binaryColumn, type WriteValue } from '../../lib/connectors/clickhouse/rowbinary.ts';
import { parseType } from '../../lib/connectors/clickhouse/sql.ts';
import type { TargetShape } from '../../lib/connectors/clickhouse/target.ts';

function writer(type: string, family: TypeFamily = 'string', zone: string | undefined = 'UTC'): WriteValue {
  const w = binaryColumn(parseType(type), family, zone);
  if ('unsupported' in w) throw new Error(`${type}: ${w.unsupported}`);
  return w;
}

/** The RowBinary bytes of one value, as hex. */
function hex(type: string, v: Value | undefined, family: TypeFamily = 'string'): string {
  const o = new ByteChunks(64);
  writer(type, family)(o, v);
  return Buffer.concat(o.take()).toString('hex');
}

const le = (n: bigint, bytes: number): string => {
  const b = Buffer.alloc(bytes);
  let x = BigInt.asUintN(bytes * 8, n);
  for (let i = 0; i < bytes; i++, x >>= 8n) b[i] = Number(x & 0xffn);
  return b.toString('hex');
};

const refuses = (type: string, v: Value, re: RegExp, family: TypeFamily = 'string') =>
  assert.throws(() => hex(type, v, family), (e: unknown) => e instanceof FitError && re.test(e.message), `${type} refuses ${String(v)}`);

describe('RowBinary integers', () => {
  it('writes every width little-endian, two\'s complement, from numbers, bigints and digit strings', () => {
    const cases: Array<[string, Value, bigint, number]> = [
      ['Int8', -128, -128n, 1], ['Int8', 127, 127n, 1], ['UInt8', 255, 255n, 1], ['Int16', -32768, -32768n, 2], ['UInt16', 65535, 65535n, 2],
      ['Int32', -2147483648, -2147483648n, 4], ['Int32', '2147483647', 2147483647n, 4], ['UInt32', 4294967295, 4294967295n, 4],
      ['Int64', -(2n ** 63n), -(2n ** 63n), 8], ['Int64', '9223372036854775807', 2n ** 63n - 1n, 8], ['Int64', -1, -1n, 8],
      ['Int64', Number.MIN_SAFE_INTEGER, BigInt(Number.MIN_SAFE_INTEGER), 8], ['Int64', 2 ** 40 + 3, 2n ** 40n + 3n, 8],
      ['UInt64', 2n ** 64n - 1n, 2n ** 64n - 1n, 8], ['UInt64', '18446744073709551615', 2n ** 64n - 1n, 8], ['UInt64', Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n, 8],
      ['Int128', -1, -1n, 16], ['Int128', 2n ** 127n - 1n, 2n ** 127n - 1n, 16], ['Int128', -(2n ** 127n), -(2n ** 127n), 16], ['Int128', -(2 ** 40), -(2n ** 40n), 16],
      ['UInt128', 2n ** 128n - 1n, 2n ** 128n - 1n, 16], ['Int256', -2, -2n, 32], ['Int256', -(2n ** 255n), -(2n ** 255n), 32],
      ['UInt256', 2n ** 256n - 1n, 2n ** 256n - 1n, 32], ['UInt256', 12345, 12345n, 32],
      ['Int8', true, 1n, 1], ['Int32', 1e3, 1000n, 4],
    ];
    for (const [type, v, n, bytes] of cases) assert.equal(hex(type, v, 'int'), le(n, bytes), `${type} ${String(v)}`);
    assert.equal(hex('UInt64', '1000000001', 'bit'), le(513n, 8), 'BIT digits');
    assert.equal(hex('UInt64', '', 'bit'), le(0n, 8), 'BIT(0) / empty');
  });

  it('refuses what does not fit: out of range, fractions, text', () => {
    refuses('Int8', 128, /out of range for Int8/, 'int');
    refuses('UInt8', -1, /out of range for UInt8/, 'int');
    refuses('UInt64', 2n ** 64n, /out of range for UInt64/, 'int');
    refuses('Int64', '9223372036854775808', /out of range for Int64/, 'int');
    refuses('Int256', 2n ** 255n, /out of range for Int256/, 'int');
    refuses('Int32', 1.5, /not an integer/, 'int');
    refuses('Int32', '1e3', /not an integer/, 'int');
    refuses('Int32', 'x', /not an integer/, 'int');
  });
});

describe('RowBinary floats, booleans, decimals', () => {
  it('floats', () => {
    assert.equal(hex('Float32', 1.5), '0000c03f');
    assert.equal(hex('Float64', -2.2250738585072014e-308), Buffer.from(new Float64Array([-2.2250738585072014e-308]).buffer).toString('hex'));
    assert.equal(hex('Float64', NaN), Buffer.from(new Float64Array([NaN]).buffer).toString('hex'));
    assert.equal(hex('Float64', 'nan'), Buffer.from(new Float64Array([NaN]).buffer).toString('hex'));
    assert.equal(hex('Float32', -Infinity), '000080ff');
    assert.equal(hex('Float64', '0.25'), Buffer.from(new Float64Array([0.25]).buffer).toString('hex'));
    refuses('Float32', 3.5e38, /out of range for Float32/);
    refuses('Float64', 'abc', /not a number/);
  });

  it('Bool is one byte', () => {
    assert.equal(hex('Bool', true, 'bool'), '01');
    assert.equal(hex('Bool', 'f', 'bool'), '00');
    assert.equal(hex('Bool', 0, 'bool'), '00');
    refuses('Bool', 'maybe', /not a boolean/);
  });

  it('decimals: the scaled integer in the width of the precision, exact from text', () => {
    const wide = '-12345678901234567890123456789012345.123456789012345678901234567891';
    const cases: Array<[string, Value, bigint, number]> = [
      ['Decimal(9, 2)', '-1.5', -150n, 4], ['Decimal(9, 2)', '007.50', 750n, 4], ['Decimal(9, 2)', '.5', 50n, 4], ['Decimal(9, 2)', '5.', 500n, 4],
      ['Decimal(9, 2)', ' 1.5 ', 150n, 4], ['Decimal(9, 2)', 12.25, 1225n, 4], ['Decimal(9, 2)', '-0.00', 0n, 4], ['Decimal(9, 0)', 999999999n, 999999999n, 4],
      ['Decimal(9, 2)', '9999999.99', 999999999n, 4], ['Decimal32(3)', '-1', -1000n, 4],
      ['Decimal(18, 4)', '12345678901234.5678', 123456789012345678n, 8], ['Decimal(18, 0)', '-999999999999999999', -999999999999999999n, 8],
      ['Decimal(15, 2)', '-1234567890123.45', -123456789012345n, 8],
      ['Decimal(38, 10)', '-0.0000000001', -1n, 16], ['Decimal(38, 0)', '99999999999999999999999999999999999999', 10n ** 38n - 1n, 16],
      ['Decimal(30, 10)', '12345678901234567890.0123456789', 123456789012345678900123456789n, 16],
      ['Decimal(65, 30)', wide, BigInt(wide.replace('.', '')), 32], ['Decimal(65, 30)', '0.000000000000000000000000000001', 1n, 32],
      ['Decimal(76, 0)', '9'.repeat(76), 10n ** 76n - 1n, 32], ['Decimal(76, 0)', '-' + '9'.repeat(76), -(10n ** 76n - 1n), 32],
      ['Decimal256(10)', '-1.5', -15000000000n, 32], ['Decimal128(2)', '0', 0n, 16],
    ];
    for (const [type, v, n, bytes] of cases) assert.equal(hex(type, v, 'decimal'), le(n, bytes), `${type} ${String(v)}`);
  });

  it('decimals that do not fit are refused, never rounded', () => {
    refuses('Decimal(9, 2)', '1.234', /more than 2 fractional digits/);
    refuses('Decimal(9, 2)', '12345678.9', /more than 7 integer digits/);
    refuses('Decimal(65, 30)', '1.0000000000000000000000000000001', /more than 30 fractional digits/);
    refuses('Decimal(9, 2)', '', /not a decimal/);
    refuses('Decimal(9, 2)', '.', /not a decimal/);
    refuses('Decimal(9, 2)', '1e5', /not a decimal/);
    refuses('Decimal(9, 2)', 'NaN', /not a decimal/);
    refuses('Decimal(9, 2)', '+1', /not a decimal/);
  });
});

describe('RowBinary strings', () => {
  it('String: LEB128 length then UTF-8 bytes; Buffers raw', () => {
    assert.equal(hex('String', ''), '00');
    assert.equal(hex('String', 'héllo'), '06' + Buffer.from('héllo').toString('hex'));
    assert.equal(hex('String', '😀 utf8mb4'), '0c' + Buffer.from('😀 utf8mb4').toString('hex'));
    assert.equal(hex('String', 'a\0b'), '03610062');
    assert.equal(hex('String', Buffer.from([0, 255, 16])), '0300ff10');
    assert.equal(hex('String', 12), '023132');
    assert.equal(hex('String', 2n ** 64n), '14' + Buffer.from('18446744073709551616').toString('hex'));
    assert.equal(hex('String', { a: [1] }), '09' + Buffer.from('{"a":[1]}').toString('hex'));
    const long = 'x'.repeat(200);
    assert.equal(hex('String', long), 'c801' + Buffer.from(long).toString('hex'));
    // 64 UTF-16 units, 128 UTF-8 bytes: the length needs two bytes, the text moves up one.
    const e = 'é'.repeat(64);
    assert.equal(hex('String', e), '8001' + Buffer.from(e).toString('hex'));
    const big = '€'.repeat(6000);
    assert.equal(hex('String', big), 'd08c01' + Buffer.from(big).toString('hex'));
    const bytes = Buffer.alloc(300, 7);
    assert.equal(hex('String', bytes), 'ac02' + bytes.toString('hex'));
  });

  it('FixedString(N): exactly N bytes, zero-padded; longer is refused', () => {
    assert.equal(hex('FixedString(4)', 'ab'), '61620000');
    assert.equal(hex('FixedString(4)', 'éé'), Buffer.from('éé').toString('hex'));
    assert.equal(hex('FixedString(3)', Buffer.from([1, 2])), '010200');
    assert.equal(hex('FixedString(2)', ''), '0000');
    refuses('FixedString(4)', 'abcde', /5 bytes do not fit FixedString\(4\)/);
    refuses('FixedString(4)', 'ééé', /6 bytes do not fit/);
    refuses('FixedString(2)', Buffer.alloc(3), /3 bytes do not fit/);
  });

  it('a chunk never splits a value: a long value gets a Buffer of its own', () => {
    const o = new ByteChunks(16);
    const w = writer('String');
    w(o, 'abc');
    w(o, 'x'.repeat(40));
    w(o, 'de');
    const chunks = o.take();
    assert.deepEqual(chunks.map((c) => c.length), [4, 44]);
    assert.equal(Buffer.concat(chunks).toString('latin1'), '\x03abc\x28' + 'x'.repeat(40) + '\x02de');
    assert.deepEqual(o.take(), []);
  });
});

describe('RowBinary UUID, dates, enums, addresses', () => {
  it('UUID: two UInt64 halves, each little-endian (as ClickHouse prints toUUID(...) in RowBinary)', () => {
    assert.equal(hex('UUID', '123e4567-e89b-12d3-a456-426614174000'), 'd3129be867453e12004017146642' + '56a4');
    assert.equal(hex('UUID', '123E4567E89B12D3A456426614174000'), 'd3129be867453e1200401714664256a4');
    assert.equal(hex('UUID', '00000000-0000-0000-0000-000000000000'), '0'.repeat(32));
    refuses('UUID', 'nope', /not a UUID/);
    refuses('UUID', '123e4567e89b-12d3-a456-426614174000', /not a UUID/);
    refuses('UUID', '{123e4567-e89b-12d3-a456-426614174000}', /not a UUID/);
  });

  it('Date (UInt16 days) and Date32 (Int32 days), real calendar dates in range only', () => {
    assert.equal(hex('Date', '1970-01-01', 'date'), '0000');
    assert.equal(hex('Date', '2149-06-06', 'date'), 'ffff');
    assert.equal(hex('Date', '2024-02-29', 'date'), le(19782n, 2));
    assert.equal(hex('Date32', '1900-01-01', 'date'), le(-25567n, 4));
    assert.equal(hex('Date32', '2299-12-31', 'date'), le(120529n, 4));
    refuses('Date', '2149-06-07', /outside 1970-01-01\.\.2149-06-06/);
    refuses('Date', '1969-12-31', /outside/);
    refuses('Date32', '1899-12-31', /outside 1900-01-01\.\.2299-12-31/);
    refuses('Date', '2023-02-29', /not a date/);
    refuses('Date', '2024-13-01', /not a date/);
    refuses('Date', '2024-00-10', /not a date/);
    refuses('Date', '0000-00-00', /not a date/);
    refuses('Date', '2024-01-01 00:00:00', /not a date/);
  });

  it('DateTime (UInt32 seconds) and DateTime64(p) (Int64 in 10^-p s), UTC, before 1970 too', () => {
    assert.equal(hex("DateTime('UTC')", '1970-01-01 00:00:00', 'datetime'), '00000000');
    assert.equal(hex("DateTime('UTC')", '2106-02-07 06:28:15', 'datetime'), 'ffffffff');
    assert.equal(hex("DateTime('UTC')", '2024-01-01 01:30:00.9+02:00', 'timestamptz'), le(BigInt(Date.UTC(2023, 11, 31, 23, 30) / 1000), 4), 'fraction dropped, zone applied');
    assert.equal(hex("DateTime64(6, 'UTC')", '1969-12-31 23:59:59.5', 'datetime'), le(-500000n, 8));
    assert.equal(hex("DateTime64(3, 'UTC')", '1900-01-01 00:00:00', 'datetime'), le(-2208988800000n, 8));
    assert.equal(hex("DateTime64(6, 'UTC')", '2024-01-02T03:04:05.123456', 'datetime'), le(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 123456n, 8));
    assert.equal(hex("DateTime64(6, 'UTC')", '2024-01-01 00:00:00.5Z', 'timestamptz'), le(BigInt(Date.UTC(2024, 0, 1)) * 1000n + 500000n, 8));
    assert.equal(hex("DateTime64(6, 'UTC')", '2024-01-01 00:00:00-0330', 'timestamptz'), le(BigInt(Date.UTC(2024, 0, 1, 3, 30)) * 1000n, 8));
    // Past 2255 at precision 6 the value is beyond 2^53: written exactly through bigint.
    assert.equal(hex("DateTime64(6, 'UTC')", '2299-12-31 23:59:59.999999', 'datetime'), le(BigInt(Date.UTC(2299, 11, 31, 23, 59, 59)) * 1000n + 999999n, 8));
    assert.equal(hex("DateTime64(9, 'UTC')", '1969-12-31 23:59:59.000000001', 'datetime'), le(-999999999n, 8));
    refuses("DateTime64(9, 'UTC')", '2299-12-31 23:59:59', /outside the range of DateTime64\(9\)/);
    refuses("DateTime64(6, 'UTC')", '2024-01-01 00:00:00.1234567', /more than 6 fractional second digits/);
    refuses("DateTime64(6, 'UTC')", '1899-12-31 23:59:59', /outside 1900-01-01 00:00:00\.\.2299-12-31 23:59:59/);
    refuses("DateTime('UTC')", '1969-12-31 23:59:59', /outside/);
    refuses("DateTime64(6, 'UTC')", '2023-02-29 00:00:00', /not a date-time/);
    refuses("DateTime64(6, 'UTC')", '2024-01-01 24:00:00', /not a date-time/);
    refuses("DateTime64(6, 'UTC')", '2024-01-01', /not a date-time/);
    refuses("DateTime64(6, 'UTC')", '2024-01-01 00:00:00.', /not a date-time/);
    refuses("DateTime64(6, 'UTC')", '2024-01-01 00:00:00 EST', /not a date-time/);
  });

  it('date-times go as RowBinary only in UTC (the zone of the column, else the server\'s)', () => {
    const unsupported = (type: string, zone?: string) => 'unsupported' in binaryColumn(parseType(type), 'datetime', zone);
    assert.equal(unsupported("DateTime('Europe/Berlin')", 'UTC'), true);
    assert.equal(unsupported("DateTime64(6, 'Asia/Tokyo')", 'UTC'), true);
    assert.equal(unsupported('DateTime', 'Europe/Berlin'), true);
    assert.equal(unsupported('DateTime', undefined), true);
    assert.equal(unsupported('DateTime', 'Etc/UTC'), false);
    assert.equal(unsupported('DateTime64(3)', 'UTC'), false);
    assert.equal(unsupported("Nullable(DateTime('UTC'))", 'Europe/Berlin'), false);
    for (const t of ['JSON', "Object('json')"]) assert.equal('unsupported' in binaryColumn(parseType(t), 'json', 'UTC'), true, t);
  });

  it('Enum8/16: the member\'s number, by name or by number; the lowest member for an absent value', () => {
    const e8 = "Enum8('a' = 1, 'b c' = -3, 'it\\'s' = 5, 'tab\\there' = 7)";
    assert.equal(hex(e8, 'b c'), 'fd');
    assert.equal(hex(e8, "it's"), '05');
    assert.equal(hex(e8, 'tab\there'), '07');
    assert.equal(hex(e8, '5'), '05');
    assert.equal(hex(e8, undefined), 'fd');
    assert.equal(hex("Enum16('x' = 1000, 'y' = -1000)", 'x'), 'e803');
    refuses(e8, 'zz', /not a member/);
    refuses(e8, '4', /not a member/);
  });

  it('IPv4 (UInt32) and IPv6 (16 bytes, network order)', () => {
    assert.equal(hex('IPv4', '10.0.0.1', 'inet'), '0100000a');
    assert.equal(hex('IPv4', '010.000.000.001', 'inet'), '0100000a');
    assert.equal(hex('IPv4', '255.255.255.255', 'inet'), 'ffffffff');
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4/32', ' 1.2.3.4', '1.2.3.4.5', '']) refuses('IPv4', bad, /not an IPv4/);
    assert.equal(hex('IPv6', '2001:db8::1', 'inet'), '20010db8000000000000000000000001');
    assert.equal(hex('IPv6', '2001:DB8:0:0:0:0:0:1', 'inet'), '20010db8000000000000000000000001');
    assert.equal(hex('IPv6', '::', 'inet'), '0'.repeat(32));
    assert.equal(hex('IPv6', '::1', 'inet'), '0'.repeat(30) + '01');
    assert.equal(hex('IPv6', '1::', 'inet'), '0001' + '0'.repeat(28));
    assert.equal(hex('IPv6', '::ffff:1.2.3.4', 'inet'), '00000000000000000000ffff01020304');
    assert.equal(hex('IPv6', '10.0.0.1', 'inet'), '00000000000000000000ffff0a000001');
    assert.equal(hex('IPv6', '0:0:0:0:0:0:1.2.3.4', 'inet'), '00000000000000000000000001020304');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '1:2:3:4:5:6:7', '12345::', ':1::', '1.2.3.4::', 'x']) refuses('IPv6', bad, /not an IPv6/);
  });
});

describe('RowBinary Nullable, LowCardinality, absent values', () => {
  it('Nullable: a flag byte (1 = NULL) then the value; an absent value is NULL', () => {
    assert.equal(hex('Nullable(Int32)', null, 'int'), '01');
    assert.equal(hex('Nullable(Int32)', undefined, 'int'), '01');
    assert.equal(hex('Nullable(Int32)', 5, 'int'), '0005000000');
    assert.equal(hex('LowCardinality(Nullable(String))', 'x'), '000178');
    assert.equal(hex('LowCardinality(String)', 'x'), '0178');
  });

  it('not Nullable: NULL is refused; an absent value is the type\'s default', () => {
    refuses('Int32', null as unknown as Value, /NULL in non-Nullable Int32/);
    const defaults: Array<[string, string]> = [
      ['Int32', '00000000'], ['UInt256', '0'.repeat(64)], ['Float64', '0'.repeat(16)], ['Decimal(38, 2)', '0'.repeat(32)], ['String', '00'],
      ['FixedString(3)', '000000'], ['UUID', '0'.repeat(32)], ['Date', '0000'], ['Date32', '00000000'], ["DateTime('UTC')", '00000000'],
      ["DateTime64(6, 'UTC')", '0'.repeat(16)], ['Bool', '00'], ['IPv4', '00000000'], ['IPv6', '0'.repeat(32)],
    ];
    for (const [type, want] of defaults) assert.equal(hex(type, undefined), want, type);
  });
});

describe('JSONEachRow and RowBinary accept and refuse the same values', () => {
  it('for every type both formats check (Enum and addresses: JSONEachRow leaves them to the server)', () => {
    const values: Value[] = [
      0, -1, 1.5, 127, 128, 255, 256, -129, 2 ** 31, 2 ** 53, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n) - 1n, '', ' 12 ', '007', '-0',
      '1.25', '1.255', '.5', '5.', '1e3', 'nan', 'NaN', 'inf', 't', 'true', 'f', 'x', '0110', true, false, '9'.repeat(40), '-' + '9'.repeat(30) + '.5',
      '1970-01-01', '2149-06-06', '2149-06-07', '1900-01-01', '2024-02-29', '2023-02-29', '2024-13-01', '1970-01-01 00:00:00', '2024-01-01T10:00:00.123456789',
      '2024-01-01 10:00:00.1234567', '1969-12-31 23:59:59.999+01:00', '2106-02-07 06:28:15', '2106-02-07 06:28:16', '2299-12-31 23:59:59.999999', '2024-01-01 25:00:00',
      '123e4567-e89b-12d3-a456-426614174000', '123e4567e89b12d3a456426614174000', '123e4567-e89b12d3-a456-426614174000', Buffer.from('abcd'), Buffer.alloc(5),
      'héé', 'abcd', { a: 1 },
    ];
    const types = [
      'Int8', 'UInt8', 'Int16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Int128', 'UInt256', 'Float32', 'Float64', 'Decimal(9, 2)', 'Decimal(18, 3)', 'Decimal(38, 1)',
      'Decimal(76, 30)', 'Bool', 'String', 'FixedString(4)', 'UUID', 'Date', 'Date32', "DateTime('UTC')", "DateTime64(6, 'UTC')", "DateTime64(3, 'UTC')",
    ];
    for (const type of types) {
      for (const family of ['int', 'bit', 'string', 'binary'] as TypeFamily[]) {
        const json = encoderFor(parseType(type), family, true);
        for (const v of values) {
          const outcome = (f: () => unknown) => {
            try {
              f();
              return 'ok';
            } catch (e) {
              if (e instanceof FitError) return 'FitError';
              return `other: ${(e as Error).message}`;
            }
          };
          assert.equal(outcome(() => hex(type, v, family)), outcome(() => json(v as Exclude<Value, null>)), `${type} (${family}) ${String(v)}`);
        }
      }
    }
  });

  it('JSONEachRow now refuses impossible calendar dates too (ClickHouse rolls them over: 2024-02-30 -> 2024-03-01)', () => {
    assert.throws(() => encoderFor(parseType('Date'), 'date', false)('2024-02-30'), /not a date/);
    assert.throws(() => encoderFor(parseType("DateTime64(6, 'UTC')"), 'datetime', false)('2024-02-30 00:00:00'), /not a date-time/);
    assert.equal(encoderFor(parseType("DateTime64(6, 'UTC')"), 'timestamptz', false)('2024-01-01 01:30:00.5+02:00'), '"2023-12-31 23:30:00.500000"');
    assert.equal(encoderFor(parseType("DateTime64(6, 'UTC')"), 'datetime', false)('1905-03-04T05:06:07.000001'), '"1905-03-04 05:06:07.000001"');
    assert.equal(encoderFor(parseType("DateTime('UTC')"), 'datetime', false)('2024-01-01 00:00:00.75'), '"2024-01-01 00:00:00"');
    assert.equal(encoderFor(parseType('Decimal(9, 2)'), 'decimal', false)('-007.50'), '-7.5');
  });
});

describe('RowBinary rows', () => {
  const column = (name: string, type: string, family: TypeFamily) => {
    const t = parseType(type);
    return { name, type: t, family, encode: encoderFor(t, family, false), prefix: JSON.stringify(name) + ':', write: writer(type, family) };
  };
  const shape: TargetShape = {
    table: { db: 'd', tb: 't' }, id: 'd.t', sql: '`d`.`t`', keyColumns: ['id'], replacing: true, latin1: false, insertColumns: '', format: 'RowBinary',
    columns: [column('id', 'Int32', 'int'), column('s', 'Nullable(String)', 'string'), column('d', 'Date', 'date')],
    extras: { deleted: writer('UInt8', 'uint'), version: writer('Int64', 'int') },
  };

  it('a row: the written columns in order, then _ape_dts_is_deleted and _ape_dts_timestamp; absent columns get defaults', () => {
    const p = rowsPayload(shape, 1 << 10);
    p.add({ id: 7, s: 'é', d: '1970-01-03' } as Row, 0, 0);
    p.add({ id: 8 } as Row, 1, 1_700_000_000_000_123);
    const bytes = Buffer.concat(p.take()).toString('hex');
    assert.equal(bytes, '07000000' + '0002c3a9' + '0200' + '00' + le(0n, 8) + '08000000' + '01' + '0000' + '01' + le(1_700_000_000_000_123n, 8));
  });

  it('a value that does not fit: IN001 naming table, column and key', () => {
    const p = rowsPayload(shape, 1 << 10);
    p.add({ id: 1, s: null, d: '2000-01-01' } as Row, 0, 0);
    assert.throws(() => p.add({ id: 2, s: 'x', d: '1000-01-01' } as Row, 0, 0), (e: FerryError) => {
      assert.equal(e.code, 'IN001');
      assert.equal(e.message, 'target d.t: value does not fit column d (outside 1970-01-01..2149-06-06) at key (id=2)');
      assert.deepEqual(e.details, { table: 'd.t', column: 'd', key: '(id=2)' });
      return true;
    });
    assert.throws(() => p.add({ id: null, s: 'x', d: '2000-01-01' } as Row, 0, 0), /column id \(NULL in non-Nullable Int32\) at key \(id=NULL\)/);
  });
});

describe('sinker.clickhouse_format', () => {
  it('auto by default; rowbinary and json; anything else is CF001 naming the key', () => {
    assert.equal(clickhouseFormat({ raw: {} }), 'auto');
    assert.equal(clickhouseFormat({ raw: { clickhouse_format: ' RowBinary ' } }), 'rowbinary');
    assert.equal(clickhouseFormat({ raw: { clickhouse_format: 'json' } }), 'json');
    assert.throws(() => clickhouseFormat({ raw: { clickhouse_format: 'native' } }), (e: FerryError) => e.code === 'CF001' && /sinker\.clickhouse_format: expected auto\|rowbinary\|json/.test(e.message));
  });
});
