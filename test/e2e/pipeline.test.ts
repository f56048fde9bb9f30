import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { ROOT, runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * tap-convo | target-convo-duckdb, both real binaries, as a scheduler runs them: the tables must
 * hold exactly what the API has, and a pipeline killed at any point and rerun from the target's
 * last STATE must end with the same tables as one that never stopped.
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

interface PipelineRun {
  lastState: string | undefined;
  tapCode: number | null;
  targetCode: number | null;
  /** The tap's stderr without metric lines, for failure messages. */
  tapErrors: string;
}

/** Pipes the tap into the target; with `killAfterLines`, SIGKILLs the tap once it has written that many. */
function pipeline(configPath: string, database: string, statePath?: string, killAfterLines?: number): Promise<PipelineRun> {
  return new Promise((resolve, reject) => {
    const tap = spawn(process.execPath, [join(ROOT, 'bin/tap-convo.js'), '--config', configPath, ...(statePath ? ['--state', statePath] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tapErrors = '';
    tap.stderr.on('data', (c: Buffer) => (tapErrors += c.toString('utf8')));
    const target = spawn(process.execPath, [join(ROOT, 'bin/target-convo-duckdb.js'), '--database', database], { stdio: ['pipe', 'pipe', 'ignore'] });
    let lines = 0;
    let killed = false;
    tap.stdout.on('data', (chunk: Buffer) => {
      if (killed) return;
      target.stdin.write(chunk);
      lines += chunk.toString('utf8').split('\n').length - 1;
      if (killAfterLines !== undefined && lines >= killAfterLines) {
        killed = true;
        tap.kill('SIGKILL');
      }
    });
    let tapCode: number | null = null;
    tap.on('close', (code) => {
      tapCode = code;
      target.stdin.end();
    });
    const states: string[] = [];
    let buffered = '';
    target.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      states.push(...parts.filter(Boolean));
    });
    target.on('error', reject);
    target.on('close', (code) => resolve({ lastState: states.at(-1), tapCode, targetCode: code, tapErrors: tapErrors.split('\n').filter((l) => !l.includes('METRIC')).join('\n') }));
  });
}

async function tables(database: string): Promise<Record<string, unknown[]>> {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  const out: Record<string, unknown[]> = {};
  try {
    const names = (await connection.runAndReadAll(`SELECT table_name FROM information_schema.tables ORDER BY 1`)).getRowObjectsJson().map((r) => String(r.table_name));
    for (const name of names) out[name] = (await connection.runAndReadAll(`SELECT * FROM "${name}" ORDER BY ALL`)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return out;
}

/** A fresh copy of the config, as each scheduled run would have (rotated tokens carried over). */
function configFile(name: string, from?: string): string {
  const path = join(dir, name);
  if (from) copyFileSync(from, path);
  else writeFileSync(path, JSON.stringify(baseConfig));
  return path;
}

describe('tap-convo | target-convo-duckdb', () => {
  let reference: Record<string, unknown[]>;
  let referenceConfig: string;
  let latestConfig: string;

  it('loads exactly the records the API has', async () => {
    referenceConfig = configFile('reference.json');
    latestConfig = referenceConfig;
    const database = join(dir, 'reference.duckdb');
    const run = await pipeline(referenceConfig, database);
    expect([run.tapCode, run.targetCode]).toEqual([0, 0]);
    reference = await tables(database);

    // Ground truth: the same sync in-process, one row per primary key.
    const current = JSON.parse(readFileSync(referenceConfig, 'utf8')) as Record<string, unknown>;
    const expected = await collectSync(current, { now: TEST_NOW });
    writeFileSync(referenceConfig, JSON.stringify(current)); // the rotated refresh token, as the CLI saves it
    const selected = PROVIDERS.flatMap((p) => p.streams).filter((s) => s.selectedByDefault !== false);
    for (const stream of selected) {
      const keys = new Set((expected.records[stream.name] ?? []).map((r) => JSON.stringify(stream.primaryKey.map((k) => r[k]))));
      expect(reference[stream.name]?.length ?? 0, stream.name).toBe(keys.size);
      expect(keys.size, stream.name).toBeGreaterThan(0);
    }
  }, 120_000);

  it.each([40, 700, 2500])('killed after %i lines and rerun from the last STATE, ends with identical tables', async (killAfter) => {
    // Each run starts from the config the previous run left: refresh tokens are single-use.
    const config = configFile(`kill-${killAfter}.json`, latestConfig);
    latestConfig = config;
    const database = join(dir, `kill-${killAfter}.duckdb`);
    const killed = await pipeline(config, database, undefined, killAfter);
    expect(killed.tapCode, killed.tapErrors).toBeNull();
    // The kill can cut the last line in half: the target then commits everything before it and exits 1.
    expect([0, 1]).toContain(killed.targetCode);
    let statePath: string | undefined;
    if (killed.lastState) {
      statePath = join(dir, `kill-${killAfter}.state.json`);
      writeFileSync(statePath, killed.lastState);
    }
    const resumed = await pipeline(config, database, statePath);
    expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
    expect(await tables(database)).toEqual(reference);
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
