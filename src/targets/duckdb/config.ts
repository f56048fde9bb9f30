import { InputError } from '../../util/errors.js';
import { validator } from '../../util/schema.js';

/** The target's settings (README.md#the-duckdb-target). Only `database` is required. */
export interface TargetConfig {
  /** DuckDB database file, created if missing; `:memory:` for a throw-away load. */
  database: string;
  /** Schema the tables go into, created if missing. Default `main`. */
  schema?: string;
  /** Records buffered per stream before everything pending is committed. Default 10,000. */
  batch_size_rows?: number;
  /** ACTIVATE_VERSION deletes rows of older versions instead of marking them `_sdc_deleted_at`. */
  hard_delete?: boolean;
  /** Add the `_sdc_*` metadata columns to every table. */
  add_record_metadata?: boolean;
}

export type ResolvedTargetConfig = Required<TargetConfig>;

/**
 * 10,000 is the Meltano SDK's batch size (meltano/sdk, `Sink.MAX_SIZE_DEFAULT`); each commit costs a few milliseconds, so
 * larger batches gain little speed and cost memory inside DuckDB.
 */
export const DEFAULT_BATCH_SIZE_ROWS = 10_000;

export const TARGET_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'target-convo-duckdb',
  type: 'object',
  additionalProperties: false,
  required: ['database'],
  properties: {
    database: { type: 'string', minLength: 1, title: 'Database', description: 'DuckDB database file (created if missing), or :memory:.' },
    schema: { type: 'string', minLength: 1, default: 'main', title: 'Schema', description: 'Schema for the tables, created if missing.' },
    batch_size_rows: { type: 'integer', minimum: 1, default: DEFAULT_BATCH_SIZE_ROWS, title: 'Batch size', description: 'Records buffered per stream before a commit.' },
    hard_delete: { type: 'boolean', default: false, title: 'Hard delete', description: 'ACTIVATE_VERSION deletes rows of older versions instead of setting _sdc_deleted_at.' },
    add_record_metadata: { type: 'boolean', default: false, title: 'Add record metadata', description: 'Add _sdc_extracted_at, _sdc_received_at, _sdc_batched_at, _sdc_sequence, _sdc_table_version and _sdc_deleted_at columns.' },
  },
} as const;

const checkConfig = validator(TARGET_CONFIG_SCHEMA, 'config');

/** The config with defaults filled in; a bad one is an InputError (exit 2) listing every problem. */
export function resolveTargetConfig(config: unknown): ResolvedTargetConfig {
  const problem = checkConfig(config);
  if (problem) throw new InputError(`bad target config: ${problem}`);
  const given = config as TargetConfig;
  return {
    database: given.database,
    schema: given.schema ?? 'main',
    batch_size_rows: given.batch_size_rows ?? DEFAULT_BATCH_SIZE_ROWS,
    hard_delete: given.hard_delete ?? false,
    add_record_metadata: given.add_record_metadata ?? false,
  };
}
