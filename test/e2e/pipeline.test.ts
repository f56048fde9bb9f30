import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { pipeline, tables } from '../helpers/pipeline.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * tap-convo | target-convo-duckdb, both real binaries, as a scheduler runs them: the tables must
 * hold exactly what the API has. Kills and resumes are in test/reliability/crash-resume.test.ts.
 */
let sandbox: RunningSandbox;
let dir: string;
let baseConfig: Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startAllSandboxes({ seed: 21, now: () => TEST_NOW, unlimited: true });
  dir = tempDir('tap-convo-pipeline-');
  baseConfig = sandbox.tapConfig({ start_date: '2026-04-01T00:00:00Z', end_date: TEST_NOW.toISO() });
  for (const block of Object.values(baseConfig)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 500 });
});

afterAll(() => sandbox?.close());

describe('tap-convo | target-convo-duckdb', () => {
  it('loads exactly the records the API has', async () => {
    const referenceConfig = writeJson(dir, 'reference.json', baseConfig);
    const database = join(dir, 'reference.duckdb');
    const run = await pipeline({ config: referenceConfig, database });
    expect([run.tapCode, run.targetCode]).toEqual([0, 0]);
    const reference = await tables(database);

    // Ground truth: the same sync in-process, one row per primary key, with the refresh token the tap rotated.
    const current = JSON.parse(readFileSync(referenceConfig, 'utf8')) as Record<string, unknown>;
    const expected = await collectSync(current, { now: TEST_NOW });
    const selected = PROVIDERS.flatMap((p) => p.streams).filter((s) => s.selectedByDefault !== false);
    for (const stream of selected) {
      const keys = new Set((expected.records[stream.name] ?? []).map((r) => JSON.stringify(stream.primaryKey.map((k) => r[k]))));
      expect(reference[stream.name]?.length ?? 0, stream.name).toBe(keys.size);
      expect(keys.size, stream.name).toBeGreaterThan(0);
    }
  }, 120_000);

  it('the target reports a bad line with its number and keeps what came before', async () => {
    const database = join(dir, 'bad.duckdb');
    const input = [
      JSON.stringify({ type: 'SCHEMA', stream: 'notes', schema: { type: 'object', properties: { id: { type: 'string' } } }, key_properties: ['id'] }),
      JSON.stringify({ type: 'RECORD', stream: 'notes', record: { id: 'a' } }),
      '{"type": "RECORD", "stream": ',
    ].join('\n');
    const run = await runBinary('target-convo-duckdb', ['--database', database], { input });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^CRITICAL line 3: /m);
    expect(existsSync(database)).toBe(true);
    expect((await tables(database)).notes).toEqual([{ id: 'a' }]);
  });
});

describe('tap-convo demo', () => {
  it('loads every stream into DuckDB, then loads incrementally from the saved state', async () => {
    const database = join(dir, 'demo.duckdb');
    const first = await runBinary('tap-convo', ['demo', '--database', database], { timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('first run: full history');
    const loaded = await tables(database);
    for (const stream of PROVIDERS.flatMap((p) => p.streams)) expect(loaded[stream.name]?.length ?? 0, stream.name).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(`${database}.state.json`, 'utf8')).bookmarks.gong_calls.replication_key).toBe('started');

    const second = await runBinary('tap-convo', ['demo', '--database', database], { timeoutMs: 90_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('incremental run from the saved state');
    const again = await tables(database);
    for (const stream of PROVIDERS.flatMap((p) => p.streams)) expect(again[stream.name]!.length, stream.name).toBeGreaterThanOrEqual(loaded[stream.name]!.length);
  }, 180_000);
});
