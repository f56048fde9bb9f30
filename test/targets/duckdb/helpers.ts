import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DateTime } from 'luxon';
import { runDuckdbTarget, type TargetConfig, type TargetSummary } from '../../../src/targets/duckdb/index.js';
import { createLogger, type Logger } from '../../../src/util/log.js';

export const FIXTURES = new URL('../../fixtures/singer/', import.meta.url);

/** The lines of a canonical message file in test/fixtures/singer/. */
export function fixtureLines(name: string): string[] {
  return readFileSync(new URL(`${name}.jsonl`, FIXTURES), 'utf8').replace(/\n$/, '').split('\n');
}

/** A fixed clock: every `_sdc_*_at` the target writes is this instant. */
export const NOW = DateTime.fromISO('2024-06-01T12:00:00Z', { zone: 'utc' });

export type Row = Record<string, unknown>;

/** An in-memory database the target loads into and the test reads from, on its own connection. */
export interface TestDatabase {
  instance: DuckDBInstance;
  query(sql: string): Promise<Row[]>;
  close(): void;
}

export async function memoryDatabase(): Promise<TestDatabase> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // TIMESTAMPTZ values are read back as text; pin the zone so expectations hold on any machine.
  await connection.run(`SET TimeZone = 'UTC'`);
  return {
    instance,
    query: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Row[],
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export interface LoadResult {
  summary: TargetSummary;
  /** The `value` of each STATE line the target emitted, in order. */
  states: unknown[];
  logs: string[];
}

/**
 * Runs the target in process over `lines` into `db`. `onState` runs at the moment each STATE line
 * is emitted (the target waits for it), to look at what is committed then.
 */
export async function load(db: TestDatabase, lines: Iterable<string> | AsyncIterable<string>, config: Partial<TargetConfig> = {}, onState?: (value: unknown) => Promise<void>): Promise<LoadResult> {
  const states: unknown[] = [];
  const logs: string[] = [];
  const logger: Logger = createLogger('debug', (_level, line) => logs.push(line));
  const summary = await runDuckdbTarget(
    lines,
    async (line) => {
      const message = JSON.parse(line) as { type: string; value: unknown };
      states.push(message.value);
      await onState?.(message.value);
    },
    { database: ':memory:', ...config },
    { instance: db.instance, clock: () => NOW, logger },
  );
  return { summary, states, logs };
}

/** Runs the target expecting it to fail; returns the error and what it emitted before failing. */
export async function loadFailing(db: TestDatabase, lines: Iterable<string>, config: Partial<TargetConfig> = {}): Promise<{ error: Error & { exitCode?: number }; states: unknown[] }> {
  const states: unknown[] = [];
  try {
    await runDuckdbTarget(lines, (line) => states.push((JSON.parse(line) as { value: unknown }).value), { database: ':memory:', ...config }, { instance: db.instance, clock: () => NOW, logger: createLogger('critical') });
  } catch (error) {
    return { error: error as Error & { exitCode?: number }, states };
  }
  throw new Error('the target succeeded but was expected to fail');
}
