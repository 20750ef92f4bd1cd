/**
 * LSN helpers and pg positions (no server needed): 64-bit LSNs beyond 2^53 compare exactly, `order` strings
 * sort like LSNs, and change positions sort between the commits around them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import { positionBefore } from '../../lib/core/change.ts';
import { compareLsn, formatLsn, lsnOfPosition, lsnOrder, parseLsn, pgChangePosition, pgPosition, tryParseLsn, txPositionBase } from '../../lib/connectors/pg/position.ts';

describe('pg LSN positions', () => {
  it('parses and prints X/Y as PostgreSQL does, exactly beyond 2^53', () => {
    assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
    assert.equal(parseLsn('0/0'), 0n);
    assert.equal(parseLsn('FFFFFFFF/FFFFFFFF'), (1n << 64n) - 1n);
    assert.equal(formatLsn(0x16b374d848n), '16/B374D848');
    assert.equal(formatLsn(parseLsn('00000002/0000A0B0')), '2/A0B0');
    const big = parseLsn('300000/00000001'); // > 2^53: a JS number would round it
    assert.ok(big > BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(compareLsn(big, big + 1n), -1);
    assert.equal(formatLsn(big + 1n), '300000/2');
    for (const bad of ['', '1', '1/', 'x/1', '1/2/3', '123456789/0']) assert.equal(tryParseLsn(bad), null, bad);
    assert.throws(() => parseLsn('nope'), (e: FerryError) => e.code === 'RT002');
  });

  it('order strings sort like LSNs', () => {
    const lsns = [0n, 1n, 0xffn, 0x100n, 0xffffffffn, 0x100000000n, (1n << 60n) + 5n, (1n << 64n) - 1n];
    const orders = lsns.map(lsnOrder);
    assert.deepEqual([...orders].sort(), orders);
    assert.ok(orders.every((o) => o.length === 16));
    const p = pgPosition(0x1a2b3c4dn, { xid: 7 });
    assert.deepEqual(p, { kind: 'pg', order: '000000001A2B3C4D', data: { xid: 7, lsn: '0/1A2B3C4D' } });
    assert.equal(lsnOfPosition(JSON.parse(JSON.stringify(p))), 0x1a2b3c4dn);
    assert.throws(() => lsnOfPosition({ kind: 'mysql', order: '1', data: { file: 'b.1', pos: 4 } }), (e: FerryError) => e.code === 'RT002');
  });

  it('change positions sort after the previous commit end and before their own commit end', () => {
    const prevEnd = pgPosition(0x1000n);
    const tx = txPositionBase(0x1000n, 9); // commit record starting right where the previous one ended
    const c0 = pgChangePosition(tx, 0, '0/F00');
    const c1 = pgChangePosition(tx, 1, '0/E00'); // interleaved: an earlier WAL record, later in the stream
    const end = pgPosition(0x1030n);
    assert.ok(positionBefore(prevEnd, c0) && positionBefore(c0, c1) && positionBefore(c1, end));
    assert.equal(c1.data.lsn, '0/1000'); // resuming there replays the transaction
    assert.equal(c1.data.changeLsn, '0/E00');
  });
});
