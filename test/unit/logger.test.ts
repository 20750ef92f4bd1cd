import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/core/logger.ts';

/** The JSON lines a logger wrote to `out`, raw text and parsed. */
async function lines(out: PassThrough): Promise<string[]> {
  await new Promise((r) => setImmediate(r));
  return String(out.read() ?? '').split('\n').filter(Boolean);
}

describe('logger', () => {
  it('a key bound on a child and given again on the line appears once, with the line value', async () => {
    const out = new PassThrough();
    const log = createLogger({ destination: out }).child({ taskId: 't1', address: 'a:1' }).child({ role: 'source' });
    log.info('hello', { address: 'b:2', n: 3 });
    const [text] = await lines(out);
    assert.equal(text.match(/"address"/g)?.length, 1, text);
    assert.equal(text.match(/"taskId"/g)?.length, 1, text);
    const o = JSON.parse(text);
    assert.deepEqual([o.msg, o.taskId, o.role, o.address, o.n], ['hello', 't1', 'source', 'b:2', 3]);
  });

  it('secrets in bindings and fields never reach the line', async () => {
    const out = new PassThrough();
    const log = createLogger({ destination: out }).child({ url: 'mysql://root:hunter2@h:3306' });
    log.warn('connect failed: password=hunter2', { error: new Error('cannot reach mysql://root:hunter2@h:3306/db'), token: 'hunter2' });
    const [text] = await lines(out);
    assert.ok(text.length > 0);
    assert.ok(!text.includes('hunter2'), text);
  });
});
