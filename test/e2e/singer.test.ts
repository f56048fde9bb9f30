import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { ajv } from '../../src/util/schema.js';
import { ROOT, runBinary, secretsOf, tempDir, writeJson, type BinaryRun } from '../helpers/binary.js';
import { TEST_NOW } from '../helpers/sync.js';

/** The real binary against the sandbox, as a user runs it: discover, sync, resume, and bad input. */
let sandbox: RunningSandbox;
let dir: string;
let config: Record<string, unknown>;
let configPath: string;
let full: BinaryRun;
const runs: BinaryRun[] = [];

async function tap(args: string[], options: Parameters<typeof runBinary>[2] = {}): Promise<BinaryRun> {
  const run = await runBinary('tap-convo', args, options);
  runs.push(run);
  return run;
}

beforeAll(async () => {
  // Rate limits have their own test; here the sandbox answers as fast as the tap asks.
  sandbox = await startAllSandboxes({ seed: 5, now: () => TEST_NOW, unlimited: true });
  dir = tempDir();
  config = sandbox.tapConfig({ start_date: '2026-03-01T00:00:00Z', end_date: TEST_NOW.toISO() });
  for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 50 });
  configPath = writeJson(dir, 'config.json', config);
  full = await tap(['--config', configPath]);
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

describe('tap-convo (Singer) end to end', () => {
  it('discovers a catalog with every stream of the configured providers', async () => {
    const run = await tap(['--config', configPath, '--discover']);
    expect(run.code).toBe(0);
    const catalog = run.lines[0] as { streams: Array<{ tap_stream_id: string; metadata: unknown[] }> };
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual(expect.arrayContaining(['gong_calls', 'gong_transcripts', 'gong_users', 'gong_workspaces', 'gong_flows']));
    for (const stream of catalog.streams) expect(stream.metadata.length).toBeGreaterThan(1);
  });

  it('syncs a complete, valid Singer stream', () => {
    expect(full.code, full.stderr).toBe(0);
    const schemas = new Map<string, (r: unknown) => boolean>();
    for (const message of full.lines) {
      expect(['SCHEMA', 'RECORD', 'STATE']).toContain(message.type);
      if (message.type === 'SCHEMA') {
        expect(Array.isArray(message.key_properties)).toBe(true);
        schemas.set(String(message.stream), ajv.compile(message.schema as object));
      }
      if (message.type === 'RECORD') {
        const validate = schemas.get(String(message.stream));
        expect(validate, `RECORD before SCHEMA for ${String(message.stream)}`).toBeDefined();
        expect(validate!(message.record)).toBe(true);
        expect(typeof message.time_extracted).toBe('string');
      }
    }
    expect(full.lines.at(-1)!.type).toBe('STATE');
    const counts = (stream: string) => full.lines.filter((m) => m.type === 'RECORD' && m.stream === stream).length;
    for (const stream of ['gong_calls', 'gong_transcripts', 'gong_users', 'gong_workspaces', 'gong_flows']) expect(counts(stream)).toBeGreaterThan(0);
    expect(full.stderr).toMatch(/INFO METRIC: \{"type":"counter","metric":"record_count"/);
  });

  it('resumes from the last STATE with only the lookback window and what is new', async () => {
    const last = full.lines.filter((m) => m.type === 'STATE').at(-1)!.value;
    const statePath = writeJson(dir, 'state.json', last);
    // The first run saved rotated OAuth refresh tokens into config.json; the old ones are spent.
    const saved = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    expect(saved.fourfour).not.toEqual(config.fourfour);
    const later = writeJson(dir, 'later.json', { ...saved, end_date: TEST_NOW.plus({ hours: 2 }).toISO() });
    const run = await tap(['--config', later, '--state', statePath]);
    expect(run.code, run.stderr.split('\n').filter((l) => !l.includes('METRIC')).join('\n')).toBe(0);
    const calls = run.lines.filter((m) => m.type === 'RECORD' && m.stream === 'gong_calls').map((m) => m.record as { started: string });
    const allCalls = full.lines.filter((m) => m.type === 'RECORD' && m.stream === 'gong_calls');
    expect(calls.length).toBeLessThan(allCalls.length);
    // The bookmark is the newest call start the first run read; the one-day lookback reaches back from it.
    const bookmark = (last as { bookmarks: Record<string, { replication_key_value: string }> }).bookmarks.gong_calls!.replication_key_value;
    const floor = Date.parse(bookmark) - 86_400_000;
    for (const call of calls) expect(Date.parse(call.started)).toBeGreaterThanOrEqual(floor);
  });

  it.each([
    ['a config missing a partner setting', () => ['--config', writeJson(dir, 'bad1.json', { gong: { access_key: 'only-the-key' } })], /^CRITICAL config: gong\.access_key_secret is required when gong\.access_key is set\n$/],
    ['an unreadable state', () => ['--config', configPath, '--state', writeJson(dir, 'bad-state.json', '{"bookmarks": ')], /^CRITICAL state .* is not valid JSON/],
    ['a catalog selecting an unknown stream', () => ['--config', configPath, '--catalog', writeJson(dir, 'bad-cat.json', { streams: [{ tap_stream_id: 'gong_nope', metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] })], /^CRITICAL catalog .* selects unknown stream gong_nope/],
    ['no --config', () => [], /^CRITICAL --config is required/],
    ['an unknown flag', () => ['--config', configPath, '--frobnicate'], /^CRITICAL Unknown argument: frobnicate/],
  ])('exits 2 on %s with one CRITICAL line', async (_name, args, message) => {
    const run = await tap(args());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('exits 1 naming the settings to check when the API refuses the credentials', async () => {
    const wrong = structuredClone(config) as Record<string, Record<string, unknown>>;
    wrong.gong!.access_key_secret = 'definitely-wrong-secret';
    const run = await tap(['--config', writeJson(dir, 'wrong.json', { start_date: config.start_date, gong: wrong.gong })]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/CRITICAL gong_calls: Gong refused the credentials \(HTTP 401 on POST \/gong\/v2\/calls\/extensive\); check gong\.access_key and gong\.access_key_secret/);
    expect(run.stderr).not.toContain('definitely-wrong-secret');
  });

  it('--about --format json describes the settings with secrets marked', async () => {
    const run = await tap(['--about', '--format', 'json']);
    const info = JSON.parse(run.stdout) as { name: string; capabilities: string[]; settings: { properties: { gong: { properties: Record<string, { airbyte_secret?: boolean }> } } } };
    expect(info.name).toBe('tap-convo');
    expect(info.capabilities).toEqual(expect.arrayContaining(['catalog', 'discover', 'state', 'about']));
    expect(info.settings.properties.gong.properties.access_key_secret!.airbyte_secret).toBe(true);
  });

  it('never prints a credential, in any run above', () => {
    const secrets = secretsOf(config);
    expect(secrets.length).toBeGreaterThan(0);
    for (const run of runs) for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
  });
});

describe('tap-convo sandbox', () => {
  it('serves every provider on loopback and writes a config the tap syncs with', async () => {
    const out = join(tempDir(), 'sandbox.json');
    const server = spawn(process.execPath, [join(ROOT, 'bin/tap-convo.js'), 'sandbox', '--seed', '2', '--config-out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
    try {
      for (let i = 0; i < 100 && !log.includes('Ctrl-C stops'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(out)).toBe(true);
      const written = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { base_url: string }>;
      expect(Object.keys(written)).toEqual(expect.arrayContaining(['gong', 'clari_copilot', 'fourfour']));
      for (const key of ['gong', 'clari_copilot', 'fourfour']) expect(written[key]!.base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const catalog = await tap(['--config', out, '--discover']);
      expect(catalog.code).toBe(0);
      const run = await tap(['--config', out, '--catalog', writeJson(dir, 'one.json', { streams: [{ tap_stream_id: 'gong_workspaces', metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] })]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.lines.filter((m) => m.type === 'RECORD').length).toBeGreaterThan(0);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('close', resolve));
    }
    expect(log).toMatch(/sandbox: gong at http:\/\/127\.0\.0\.1:\d+\/gong/);
  });
});
