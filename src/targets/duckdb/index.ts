/** The DuckDB Singer target (README.md#the-duckdb-target): `runDuckdbTarget` is the in-process entry. */
export { runDuckdbTarget, BadLineError, type TargetOptions, type TargetSummary } from './target.js';
export { resolveTargetConfig, TARGET_CONFIG_SCHEMA, DEFAULT_BATCH_SIZE_ROWS, type TargetConfig, type ResolvedTargetConfig } from './config.js';
