/**
 * Stream Load pieces without a network: answer classification (every row of the table in response.ts),
 * JSON number tokens, UTC conversion, labels, and CDC folding per key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TargetChange, WriteTarget } from '../../lib/core/sinker.ts';
import { foldChanges } from '../../lib/connectors/olap/applier.ts';
import { jsonToken, numberToken, utcText } from '../../lib/connectors/olap/json-body.ts';
import { cdcLabel, snapshotLabel } from '../../lib/connectors/olap/label.ts';
import { classifyAnswer } from '../../lib/connectors/olap/response.ts';
import type { LoadTarget } from '../../lib/connectors/olap/target.ts';

const answer = (body: unknown, status = 200) => ({ status, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body), url: 'http://be:8040/api/d/t/_stream_load' });
const code = (o: ReturnType<typeof classifyAnswer>) => (o.kind === 'error' ? `${o.error.code}${o.error.retryable ? '/retry' : ''}` : o.kind === 'done' ? `done${o.note ? `:${o.note}` : ''}` : 'rejected');

describe('stream load answers', () => {
  it('maps every outcome to done / rejected / a code', () => {
    const cases: Array<[ReturnType<typeof answer>, string]> = [
      [answer({ Status: 'Success', Label: 'l' }), 'done'],
      [answer({ Status: 'Publish Timeout' }), 'done:publish_timeout'],
      [answer({ Status: 'Label Already Exists', ExistingJobStatus: 'FINISHED' }), 'done:label_exists'],
      [answer({ Status: 'Label Already Exists', ExistingJobStatus: 'VISIBLE' }), 'done:label_exists'],
      [answer({ Status: 'Label Already Exists', ExistingJobStatus: 'RUNNING' }), 'ST001/retry'],
      [answer({ Status: 'Fail', Message: 'too many filtered rows', ErrorURL: 'http://be/err' }), 'rejected'],
      [answer({ Status: 'Fail', Message: 'Access denied; you need (at least one of) the INSERT privilege' }), 'PR001'],
      [answer({ Status: 'Fail', Message: 'Access denied for user root' }), 'AU001'],
      [answer({ Status: 'Fail', Message: 'unknown table, tableName=t' }), 'MD001'],
      [answer({ Status: 'Fail', Message: 'too many filtered rows', NumberFilteredRows: 2 }), 'IN001'],
      [answer({ Status: 'Fail', Message: 'too many tablet versions' }), 'ST001/retry'],
      [answer('', 401), 'AU001'],
      [answer('<html>Bad Gateway</html>', 502), 'ST001/retry'],
    ];
    for (const [a, want] of cases) assert.equal(code(classifyAnswer(a, 'd.t')), want, a.body);
  });
});

describe('values on the wire', () => {
  it('number tokens keep every digit', () => {
    assert.equal(numberToken('0012.5000'), '12.5000');
    assert.equal(numberToken('-.5'), '-0.5');
    assert.equal(numberToken('1.'), '1');
    assert.equal(numberToken('-0'), '-0');
    assert.equal(numberToken('123456789012345678901234567890.123456789'), '123456789012345678901234567890.123456789');
    const c = { name: 'a', column: 'a', from: 'decimal' as const, targetType: 'decimal' };
    assert.throws(() => jsonToken(c, 'NaN'), /cannot be stored as a number/);
    assert.equal(jsonToken({ ...c, from: 'bit' }, '1111111111111111111111111111111111111111111111111111111111111111'), '18446744073709551615');
    assert.equal(jsonToken({ ...c, from: 'json', targetType: 'varchar' }, '{"a":1}'), '"{\\"a\\":1}"');
  });

  it('timestamptz -> UTC text, fractional digits kept', () => {
    assert.equal(utcText('c', '2024-03-01 01:30:00.5-02:30'), '2024-03-01 04:00:00.5');
    assert.equal(utcText('c', '2024-01-01 00:00:00+01'), '2023-12-31 23:00:00');
    assert.equal(utcText('c', '2024-01-01T00:00:00.000001Z'), '2024-01-01 00:00:00.000001');
    assert.throws(() => utcText('c', 'yesterday'), /not a timestamp/);
  });

  it('labels: snapshot labels depend on content only; CDC labels on applier, sequence and part too', () => {
    const b = Buffer.from('[{"id":1}]');
    assert.equal(snapshotLabel('ferry', 'd', 't', ['id'], b), snapshotLabel('ferry', 'd', 't', ['id'], Buffer.from('[{"id":1}]')));
    assert.notEqual(snapshotLabel('ferry', 'd', 't', ['id'], b), snapshotLabel('ferry', 'd', 't2', ['id'], b));
    assert.match(snapshotLabel('ferry', 'd', 't', ['id'], b), /^ferry_s_[0-9a-f]{48}$/);
    const l = cdcLabel('p', 'app', 1, 0, 'd', 't', b);
    assert.equal(l, cdcLabel('p', 'app', 1, 0, 'd', 't', b));
    assert.notEqual(l, cdcLabel('p', 'app', 2, 0, 'd', 't', b));
    assert.notEqual(l, cdcLabel('p', 'other', 1, 0, 'd', 't', b));
    assert.ok(l.length <= 128);
  });
});

describe('CDC folding per key', () => {
  const wt = {} as WriteTarget;
  const t: LoadTarget = {
    table: { db: 'd', tb: 't' },
    id: 'd.t',
    keyColumns: ['k'],
    model: 'PRIMARY',
    columns: ['k', 'a', 'b'].map((n) => ({ name: n, column: n, from: 'int' as const, targetType: 'int' })),
  };
  const ch = (op: TargetChange['op'], beforeKey: Record<string, unknown> | null, after: Record<string, unknown> | null): TargetChange => ({ op, target: wt, beforeKey: beforeKey as never, after: after as never });

  it('keeps the last change per key; a key move deletes the old key; partial rows merge into a full one', () => {
    const f = foldChanges(t, [
      ch('insert', null, { k: 1, a: 1, b: 1 }),
      ch('update', { k: 1 }, { k: 1, a: 2 }),
      ch('update', { k: 1 }, { k: 5, a: 3, b: 3 }),
      ch('insert', null, { k: 1, a: 9, b: 9 }),
      ch('delete', { k: 7 }, null),
      ch('update', { k: 8 }, { k: 8, b: 4 }),
      ch('insert', null, { k: 10n, a: 1, b: 1 }),
    ]);
    assert.deepEqual([...f.values()].map((x) => [x.op, x.row]), [
      [0, { k: 1, a: 9, b: 9 }],
      [0, { k: 5, a: 3, b: 3 }],
      [1, { k: 7 }],
      [0, { k: 8, b: 4 }],
      [0, { k: 10n, a: 1, b: 1 }],
    ]);
    const merged = foldChanges(t, [ch('insert', null, { k: 1, a: 1, b: 1 }), ch('update', { k: 1 }, { k: 1, a: 2 })]);
    assert.deepEqual([...merged.values()][0].row, { k: 1, a: 2, b: 1 });
  });
});
