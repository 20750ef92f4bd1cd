import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeValue, normalizeDecimal, normalizeTimestamp } from '../../lib/check/normalize.ts';

describe('normalizeValue', () => {
  it('equates the same datum across engines', () => {
    assert.equal(normalizeValue(1, 'int'), normalizeValue(true, 'int'));
    assert.equal(normalizeValue('1.50', 'decimal'), normalizeValue('1.5000', 'decimal'));
    assert.equal(normalizeValue('{"b":1,"a":[1,2]}', 'json'), normalizeValue('{"a": [1, 2], "b": 1}', 'json'));
    assert.equal(normalizeValue('2024-01-02 05:04:05.5+02', 'timestamptz'), normalizeValue('2024-01-02 03:04:05.500000', 'datetime'));
    assert.equal(normalizeValue(Buffer.from([0, 255]), 'binary'), 'x00ff');
  });

  it('keeps real differences apart', () => {
    assert.notEqual(normalizeValue('1.51', 'decimal'), normalizeValue('1.5', 'decimal'));
    assert.notEqual(normalizeValue(null, 'string'), normalizeValue('', 'string'));
    assert.notEqual(normalizeValue('2024-01-02 03:04:05.000001', 'datetime'), normalizeValue('2024-01-02 03:04:05', 'datetime'));
    assert.notEqual(normalizeValue(18446744073709551615n, 'uint'), normalizeValue(18446744073709551614n, 'uint'));
  });

  it('normalizes decimals digit by digit without rounding', () => {
    assert.equal(normalizeDecimal('-0.000000000000000000000000000001'), '-0.000000000000000000000000000001');
    assert.equal(normalizeDecimal('0012.3400'), '12.34');
    assert.equal(normalizeDecimal('-0.000'), '0');
    assert.equal(normalizeTimestamp('2024-01-01T00:00:00Z'), '2024-01-01 00:00:00');
  });
});
