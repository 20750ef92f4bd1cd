import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSegment, encodeSegment, keyPaths, MAX_ENCODED, prefixWalk } from '../../lib/checkpoint/file-paths.ts';
import { cdcPositionKey, chunkKey, chunkPrefix, compareKeys, leaseName, planKey, taskPrefix } from '../../lib/checkpoint/keys.ts';
import { rejectsWith } from '../contract/checkpoint-store.contract.ts';

describe('checkpoint key layout', () => {
  it('builds the documented keys', () => {
    assert.equal(taskPrefix('t1'), 'tasks/t1/');
    assert.equal(planKey('t1'), 'tasks/t1/plan');
    assert.equal(chunkPrefix('t1'), 'tasks/t1/chunks/');
    assert.equal(chunkKey('t1', 'db.tb/0003'), 'tasks/t1/chunks/db.tb/0003');
    assert.equal(cdcPositionKey('t1'), 'tasks/t1/cdc/position');
    assert.equal(leaseName('t1', 'cdc'), 'tasks/t1/leases/cdc');
    for (const k of [planKey('t1'), chunkKey('t1', 'c'), cdcPositionKey('t1'), leaseName('t1', 'r')]) {
      assert.ok(k.startsWith(taskPrefix('t1')));
      assert.ok(!k.startsWith(taskPrefix('t')));
    }
  });

  it('refuses task ids and roles that could overlap another task', async () => {
    await rejectsWith(Promise.resolve().then(() => planKey('a/chunks')), 'RT002');
    await rejectsWith(Promise.resolve().then(() => taskPrefix('')), 'RT002');
    await rejectsWith(Promise.resolve().then(() => leaseName('t', 'a/b')), 'RT002');
    await rejectsWith(Promise.resolve().then(() => chunkKey('t', '')), 'RT002');
  });

  it('compareKeys is UTF-8 byte order (as DynamoDB and S3 list)', () => {
    // U+FFFF sorts before U+1F600 in UTF-8 but after it in UTF-16 code units.
    assert.deepEqual(['😀', '\uffff', 'a', 'Z', 'a/1', 'a/10', 'a/1/x'].sort(compareKeys), ['Z', 'a', 'a/1', 'a/1/x', 'a/10', '\uffff', '😀']);
  });
});

describe('file store key encoding', () => {
  const samples = ['', 'plain', 'Case', 'db."q"', "it's a `t`", '库表', 'é', 'e\u0301', '.', '..', '%41', '~x', '=', 'a.json'];

  it('round-trips, never yields ".", and keeps distinct keys distinct even case-folded', () => {
    const seen = new Set<string>();
    for (const s of samples) {
      const enc = encodeSegment(s);
      assert.equal(decodeSegment(enc), s);
      assert.ok(!enc.includes('.') && !enc.includes('/'), enc);
      assert.ok(!seen.has(enc.toLowerCase()), `collision for ${s}`);
      seen.add(enc.toLowerCase());
    }
  });

  it('hashes segments too long for a file name; the hash is stable and distinct', () => {
    const long = 'ü'.repeat(100);
    const enc = encodeSegment(long);
    assert.match(enc, /^~[0-9a-f]{64}$/);
    assert.equal(encodeSegment(long), enc);
    assert.notEqual(encodeSegment(long + 'x'), enc);
    assert.equal(decodeSegment(enc), undefined);
    assert.ok(encodeSegment('a'.repeat(MAX_ENCODED)).length === MAX_ENCODED);
  });

  it('maps keys to directories per segment, with the last segment as <name>.json', () => {
    const p = keyPaths('/root', 'tasks/T1/chunks/db.tb');
    assert.equal(p.file, '/root/tasks/%541/chunks/db%2Etb.json');
    assert.equal(p.lock, '/root/tasks/%541/chunks/db%2Etb.lock');
    assert.equal(keyPaths('/root', 'a//b/').file, '/root/a/=/b/=.json');
  });

  it('prefix walk: starts at the deepest complete segment and filters by the encoded partial one', () => {
    const w = prefixWalk('/root', 'tasks/t1/chunks/db.t');
    assert.equal(w.dir, '/root/tasks/t1/chunks');
    assert.ok(w.matches(encodeSegment('db.tb')));
    assert.ok(!w.matches(encodeSegment('db2')));
    assert.ok(w.matches('~abc'), 'hashed names are always read');
    assert.ok(prefixWalk('/root', 'tasks/').matches('anything'));
    assert.equal(prefixWalk('/root', '').dir, '/root');
  });
});
