import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { build } from '../fixtures/config/sections.ts';

test('unknown keys come back as warnings naming section.key; extractor/sinker keep them in raw', () => {
  const { config, warnings } = build({
    filter: { do_dbz: 'x' },
    extractor: { battch_size: '10' },
    pipeline: { buffer_sise: '1' },
  });
  assert.deepEqual(warnings, [
    'extractor.battch_size: unknown key; kept in raw for the connector',
    'filter.do_dbz: unknown key; ignored',
    'pipeline.buffer_sise: unknown key; ignored',
  ]);
  assert.equal(config.extractor.raw.battch_size, '10');
});

test('engine-specific keys of extractor/sinker are the connector\'s: in raw, no warning', () => {
  const { config, warnings } = build({
    extractor: { extract_type: 'cdc', server_id: '2000', slot_name: 's', heartbeat_tb: 'hb.t' },
    sinker: { conflict_policy: 'interrupt', transaction_isolation: 'read_committed' },
    global: { task_id: 't1' },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual([config.extractor.raw.server_id, config.sinker.raw.transaction_isolation], ['2000', 'read_committed']);
});

test('ape-dts keys ferry does not implement yet warn when set, stay quiet when empty (as in ape-dts templates)', () => {
  const { warnings } = build({
    filter: { do_structures: '', ignore_cmds: 'flushall', do_dcls: '' },
    pipeline: { max_rps: '1000', counter_time_window_secs: '' },
    extractor: { max_rps: '5' },
    resumer: { resume_type: 'from_target' },
    runtime: { log4rs_file: './log4rs.yaml' },
  });
  assert.deepEqual(warnings, [
    'extractor.max_rps: ape-dts key not implemented by ferry yet; ignored',
    'filter.ignore_cmds: ape-dts key not implemented by ferry yet; ignored',
    'pipeline.max_rps: ape-dts key not implemented by ferry yet; ignored',
    'resumer.resume_type: ape-dts key not implemented by ferry yet; ignored (ferry resumes from its [checkpoint] store)',
    'runtime.log4rs_file: ape-dts key not implemented by ferry yet; ignored (ferry logs JSON lines; see runtime.log_dir)',
  ]);
});

test('whole sections: ape-dts ones ferry lacks, unknown ones, and keys before the first header', async () => {
  const text = 'stray=1\n[extractor]\ndb_type=mysql\nextract_type=snapshot\nurl=mysql://h:1\n[sinker]\ndb_type=mysql\nurl=mysql://h:2\n[processor]\nlua_code_file=./x.lua\n[checker]\n[extra]\na=1\nb=2\n';
  const { warnings } = await loadTaskConfig({ text, format: 'ini' }, { env: {} });
  assert.deepEqual(warnings, [
    '[default]: keys before the first [section]; ignored (default.stray)',
    '[processor]: ape-dts section not implemented by ferry yet; ignored',
    '[extra]: unknown section; ignored (extra.a, extra.b)',
  ]);
});

test('parallel_type=rdb_check (older ape-dts tutorials) is read as snapshot, with a warning', () => {
  const { config, warnings } = build({ sinker: { sink_type: 'check' }, parallelizer: { parallel_type: 'rdb_check', parallel_size: '8' } });
  assert.deepEqual(config.parallelizer, { parallelType: 'snapshot', parallelSize: 8 });
  assert.deepEqual(warnings, ['parallelizer.parallel_type: rdb_check is read as snapshot by ferry']);
});

test('warnings never carry values', () => {
  const { warnings } = build({ extractor: { sekret_password: 'hunter2' }, metrics: { token: 'hunter2' } });
  assert.ok(warnings.length === 2 && warnings.every((w) => !w.includes('hunter2')), warnings.join('\n'));
});
