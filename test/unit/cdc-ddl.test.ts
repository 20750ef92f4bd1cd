import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ddlType, namesDatabase } from '../../lib/task/cdc-ddl.ts';

describe('CDC DDL helpers', () => {
  it('ddlType gives ape-dts DDL type names', () => {
    assert.equal(ddlType('ALTER TABLE t ADD c INT'), 'alter_table');
    assert.equal(ddlType('/* x */ create table if not exists t (a int)'), 'create_table');
    assert.equal(ddlType('CREATE UNIQUE INDEX i ON t (a)'), 'create_index');
    assert.equal(ddlType('DROP TABLE IF EXISTS a, b'), 'drop_table');
    assert.equal(ddlType('TRUNCATE TABLE t'), 'truncate_table');
    assert.equal(ddlType('CREATE SCHEMA s'), 'create_database');
  });

  it('namesDatabase tells qualified statements from unqualified ones', () => {
    assert.equal(namesDatabase('ALTER TABLE t ADD c INT', 'src'), false);
    assert.equal(namesDatabase('ALTER TABLE src.t ADD c INT', 'src'), true);
    assert.equal(namesDatabase('ALTER TABLE `src`.`t` ADD c INT', 'src'), true);
    assert.equal(namesDatabase('ALTER TABLE "src" . t ADD c INT', 'src'), true);
    assert.equal(namesDatabase('ALTER TABLE mysrc.t ADD c INT', 'src'), false);
    assert.equal(namesDatabase('ALTER TABLE t COMMENT "src.x"', 'src'), true, 'conservative: text that looks qualified is not rewritten');
  });
});
