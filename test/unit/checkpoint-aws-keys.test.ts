import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionOf, DynamoLayout } from '../../lib/checkpoint/dynamodb-keys.ts';
import { encodeKeyPath, MAX_SEGMENT_BYTES, S3Layout } from '../../lib/checkpoint/s3-keys.ts';
import { build, errorLine } from '../fixtures/config/sections.ts';

/** Deterministic pseudo-random keys over an alphabet full of the characters the encoding treats specially. */
function randomKeys(count: number, seed = 7): string[] {
  const alphabet = ['a', 'b', 'Z', '0', '-', '_', '/', '/', '.', '=', '~', '%', ' ', 'é', '😀', '表', 'x'.repeat(90)];
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: count }, () => Array.from({ length: 1 + (next() % 12) }, () => alphabet[next() % alphabet.length]).join(''));
}

describe('S3 object names (s3-keys.ts)', () => {
  it('keeps plain keys readable', () => {
    assert.equal(encodeKeyPath('tasks/t1/chunks/0000-00001'), 'tasks/t1/chunks/0000-00001');
    assert.equal(new S3Layout('ferry/').item('tasks/t.1/plan'), 'ferry/items/tasks/t%2E1/plan.json');
  });

  it('never yields empty, "." or ".." segments, nor segments over the byte limit', () => {
    for (const k of [...randomKeys(500), '/leading', 'a//b', 'trailing/', './..', 'x'.repeat(700), '😀'.repeat(200)]) {
      const segs = new S3Layout('').item(k).split('/');
      for (const seg of segs) {
        assert.ok(seg !== '' && seg !== '.' && seg !== '..', `segment ${JSON.stringify(seg)} of ${JSON.stringify(k)}`);
        assert.ok(Buffer.byteLength(seg) <= MAX_SEGMENT_BYTES + '.json'.length, `long segment in ${JSON.stringify(k)}`);
      }
    }
  });

  it('is injective and prefix-preserving both ways', () => {
    const keys = [...new Set(randomKeys(400))];
    const enc = new Map(keys.map((k) => [k, encodeKeyPath(k)]));
    assert.equal(new Set(enc.values()).size, keys.length, 'two keys share an encoding');
    for (const p of keys.slice(0, 120)) {
      for (const k of keys) {
        const objectName = new S3Layout('').item(k);
        assert.equal(objectName.startsWith(new S3Layout('').listPrefix(p)), k.startsWith(p), `prefix ${JSON.stringify(p)} vs key ${JSON.stringify(k)}`);
      }
    }
  });

  it('refuses keys whose object name would pass 1024 bytes (RT002)', () => {
    assert.throws(() => new S3Layout('').item('%'.repeat(400)), (e: Error & { code?: string }) => e.code === 'RT002' && /1024/.test(e.message));
  });
});

describe('DynamoDB layout (dynamodb-keys.ts)', () => {
  it('partitions by the first two segments; shorter keys share the root', () => {
    assert.equal(partitionOf('tasks/t1/chunks/0001'), 'tasks/t1/');
    assert.equal(partitionOf('tasks/t1/'), 'tasks/t1/');
    assert.equal(partitionOf('tasks/t1'), '');
    assert.equal(partitionOf('/leading'), '');
    assert.equal(partitionOf('a//b'), 'a//');
    const l = new DynamoLayout('env1/');
    assert.deepEqual(l.item('tasks/t1/plan'), { pk: 'env1/i|tasks/t1/', sk: 'tasks/t1/plan' });
    assert.deepEqual(l.lease('tasks/t1/leases/cdc'), { pk: 'env1/l|tasks/t1/leases/cdc', sk: 'lease' });
  });

  it('refuses keys over the 1024-byte sort key limit (RT002 naming the limit)', () => {
    assert.throws(() => new DynamoLayout('').item('k'.repeat(1025)), (e: Error & { code?: string }) => e.code === 'RT002' && /1024/.test(e.message));
  });
});

describe('[checkpoint] keys for the AWS stores', () => {
  it('force_path_style is a boolean for store=s3 only', () => {
    assert.equal(build({ checkpoint: { store: 's3', bucket: 'b', force_path_style: 'true' } }).config.checkpoint.forcePathStyle, true);
    assert.equal(build({ checkpoint: { store: 's3', bucket: 'b' } }).config.checkpoint.forcePathStyle, undefined);
    assert.equal(errorLine(() => build({ checkpoint: { store: 's3', bucket: 'b', force_path_style: 'maybe' } })), 'CF001 checkpoint.force_path_style: expected true or false, got "maybe"');
    assert.equal(
      errorLine(() => build({ checkpoint: { store: 'dynamodb', table: 't', force_path_style: 'true' } })),
      'CF003 checkpoint.force_path_style: expected checkpoint.store=s3 when force_path_style is set, got store=dynamodb',
    );
  });
});
