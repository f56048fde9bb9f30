import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_SIZE_ROWS, resolveTargetConfig } from '../../../src/targets/duckdb/config.js';
import { InputError } from '../../../src/util/errors.js';

describe('resolveTargetConfig', () => {
  it('fills in the defaults', () => {
    expect(resolveTargetConfig({ database: 'x.duckdb' })).toEqual({ database: 'x.duckdb', schema: 'main', batch_size_rows: DEFAULT_BATCH_SIZE_ROWS, hard_delete: false, add_record_metadata: false });
  });

  it.each([
    [{}, 'bad target config: config.database is required'],
    [{ database: '' }, 'bad target config: config.database must NOT have fewer than 1 characters'],
    [{ database: 'x', batch_size_rows: 2.5 }, 'bad target config: config.batch_size_rows must be integer'],
    [{ database: 'x', hard_delete: 'yes' }, 'bad target config: config.hard_delete must be boolean'],
    [{ database: 'x', batch_size: 10 }, 'bad target config: config.batch_size is not a known setting'],
    [[], 'bad target config: config must be object'],
  ])('refuses %j as bad input (exit 2)', (config, message) => {
    let thrown: unknown;
    try {
      resolveTargetConfig(config);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).message).toBe(message);
    expect((thrown as InputError).exitCode).toBe(2);
  });
});
