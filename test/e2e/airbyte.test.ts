import { Duration } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecretSetting } from '../../src/core/config.js';
import type { ProviderConfig } from '../../src/core/definitions.js';
import { about } from '../../src/protocol/about.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { ajv } from '../../src/util/schema.js';
import { runBinary, secretsOf, tempDir, writeJson, type BinaryRun } from '../helpers/binary.js';
import { TEST_NOW } from '../helpers/sync.js';
import { allProblems, configuredCatalogProblems, statusProblems } from '../protocol/airbyte-messages.js';

const REREAD_BY_CALL_TIME = new Set(['clari_copilot_calls', 'clari_copilot_call_details']);

/**
 * The built binary speaking the Airbyte protocol against the sandbox, driven the way the platform
 * drives a source: spec, check, discover, then read with a configured catalog, then read again with
 * the per-stream states of the first read. Every stdout line must be a valid Airbyte message, and a
 * CONTROL message's config replaces the stored one, as the platform does (OAuth refresh tokens rotate).
 */
type Message = Record<string, any>;
type Config = Record<string, any>;

let sandbox: RunningSandbox;
let dir: string;
let config: Config;
let configPath: string;
const runs: BinaryRun[] = [];
/** Every credential the runs were given or were handed by CONTROL. */
const secrets = new Set<string>();

let spec: BinaryRun;
let check: BinaryRun;
let discover: BinaryRun;
let first: BinaryRun;
let second: BinaryRun;
let streams: Array<Record<string, any>>;
let fullRefreshStream: string;

async function airbyte(args: string[]): Promise<BinaryRun> {
  const run = await runBinary('tap-convo', args, { timeoutMs: 90_000 });
  runs.push(run);
  const controls = run.lines.filter((m) => m.type === 'CONTROL') as Message[];
  for (const control of controls) for (const secret of secretsOf(control.control.connectorConfig.config)) secrets.add(secret);
  if (controls.length && args.includes(configPath)) {
    config = controls.at(-1)!.control.connectorConfig.config;
    writeJson(dir, 'config.json', config);
  }
  return run;
}

const ofType = (run: BinaryRun, type: string) => run.lines.filter((m) => m.type === type) as Message[];
const records = (run: BinaryRun, stream: string) => ofType(run, 'RECORD').filter((m) => m.record.stream === stream).map((m) => m.record.data as Record<string, unknown>);
const lastStates = (run: BinaryRun) => {
  const last = new Map<string, Message>();
  for (const m of ofType(run, 'STATE')) last.set(m.state.stream.stream_descriptor.name, m.state);
  return last;
};

/** The configured catalog a user gets by accepting the defaults, plus `overrides` per stream. */
function configuredCatalog(overrides: Record<string, 'full_refresh'> = {}, extra: Message[] = []) {
  return {
    streams: [
      ...streams.map((stream) => {
        const mode = overrides[stream.name] ?? (stream.supported_sync_modes.includes('incremental') ? 'incremental' : 'full_refresh');
        return { stream, sync_mode: mode, destination_sync_mode: 'append', ...(mode === 'incremental' ? { cursor_field: stream.default_cursor_field } : {}) };
      }),
      ...extra,
    ],
  };
}

const retiredStream = { stream: { name: 'gong_retired_stream', json_schema: { type: 'object' }, supported_sync_modes: ['full_refresh'] }, sync_mode: 'full_refresh', destination_sync_mode: 'append' };

beforeAll(async () => {
  // Rate limits are the HTTP client's tests' business; here they would only add waiting.
  sandbox = await startAllSandboxes({ seed: 7, now: () => TEST_NOW, unlimited: true });
  dir = tempDir();
  config = sandbox.tapConfig({ start_date: '2026-05-01T00:00:00Z', end_date: TEST_NOW.toISO() });
  for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 500 });
  for (const secret of secretsOf(config)) secrets.add(secret);
  configPath = writeJson(dir, 'config.json', config);

  spec = await airbyte(['spec']);
  check = await airbyte(['check', '--config', configPath]);
  discover = await airbyte(['discover', '--config', configPath]);
  streams = (ofType(discover, 'CATALOG')[0]?.catalog.streams ?? []) as Array<Record<string, any>>;

  const firstCatalog = configuredCatalog({}, [retiredStream]);
  first = await airbyte(['read', '--config', configPath, '--catalog', writeJson(dir, 'first-catalog.json', firstCatalog)]);

  // An incremental-capable stream nobody depends on, read as a full refresh the second time.
  const parents = new Set(PROVIDERS.flatMap((p) => p.streams.flatMap((s) => (s.parent ? [s.parent.stream] : []))));
  const definitions = PROVIDERS.flatMap((p) => p.streams);
  fullRefreshStream = streams.find((s) => {
    const definition = definitions.find((d) => d.name === s.name);
    return definition?.replicationKey && !definition.parent && !parents.has(s.name) && records(first, s.name).length > 0;
  })!.name;
  const statePath = writeJson(dir, 'state.json', [...lastStates(first).values()]);
  const secondCatalog = writeJson(dir, 'second-catalog.json', configuredCatalog({ [fullRefreshStream]: 'full_refresh' }));
  second = await airbyte(['read', '--config', configPath, '--catalog', secondCatalog, '--state', statePath]);
}, 180_000);

afterAll(async () => {
  await sandbox?.close();
});

describe('tap-convo (Airbyte) end to end', () => {
  it('writes only valid Airbyte messages, each with the payload its type names', () => {
    for (const run of runs) {
      expect(run.lines.length, run.stderr).toBeGreaterThan(0);
      expect(allProblems(run.lines)).toEqual([]);
    }
  });

  it('spec: one SPEC generated from the settings --about publishes', () => {
    expect(spec.code).toBe(0);
    expect(spec.lines.map((m) => m.type)).toEqual(['SPEC']);
    const properties = (spec.lines[0] as Message).spec.connectionSpecification.properties;
    expect(Object.keys(properties)).toEqual(Object.keys(about(PROVIDERS).settings.properties as object));
  });

  it('check: SUCCEEDED for the sandbox credentials', () => {
    expect(check.code, check.stderr).toBe(0);
    expect(ofType(check, 'CONNECTION_STATUS').map((m) => m.connectionStatus.status)).toEqual(['SUCCEEDED']);
  });

  it('discover: every stream of the configured providers, with modes, cursor and key', () => {
    expect(discover.code, discover.stderr).toBe(0);
    const configured = PROVIDERS.filter((p) => config[p.key] !== undefined);
    expect(streams.map((s) => s.name)).toEqual(configured.flatMap((p) => p.streams.map((s) => s.name)));
    for (const stream of streams) {
      expect(stream.supported_sync_modes.length).toBeGreaterThan(0);
      expect(stream.source_defined_primary_key.length).toBeGreaterThan(0);
      expect(stream.is_resumable).toBe(stream.supported_sync_modes.includes('incremental'));
      expect(stream.default_cursor_field.length).toBe(stream.supported_sync_modes.includes('incremental') ? 1 : 0);
      // Destinations get the same Draft 4 schema Singer targets do.
      expect(stream.json_schema).not.toHaveProperty('$schema');
    }
    expect(configuredCatalogProblems(configuredCatalog())).toEqual([]);
  });

  it('read: records of every configured provider, each valid against its stream schema', () => {
    expect(first.code, first.stderr).toBe(0);
    const validators = new Map(streams.map((s) => [s.name as string, ajv.compile(s.json_schema)]));
    for (const message of ofType(first, 'RECORD')) {
      expect(Number.isInteger(message.record.emitted_at)).toBe(true);
      const validate = validators.get(message.record.stream)!;
      expect(validate(message.record.data), `${message.record.stream}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    for (const provider of PROVIDERS.filter((p) => config[p.key] !== undefined)) {
      expect(provider.streams.reduce((n, s) => n + records(first, s.name).length, 0), provider.key).toBeGreaterThan(0);
    }
  });

  it('read: statuses STARTED → RUNNING → COMPLETE per stream, INCOMPLETE for a stream the source lacks', () => {
    for (const run of [first, second]) expect(statusProblems(run.lines)).toEqual([]);
    const final = (run: BinaryRun, name: string) =>
      ofType(run, 'TRACE')
        .filter((m) => m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.stream_descriptor.name === name)
        .at(-1)?.trace.stream_status.status;
    for (const stream of streams) expect(final(first, stream.name), stream.name).toBe('COMPLETE');
    expect(final(first, retiredStream.stream.name)).toBe('INCOMPLETE');
    expect(ofType(first, 'LOG').some((m) => m.log.level === 'WARN' && m.log.message.includes(retiredStream.stream.name))).toBe(true);
  });

  it('read: a STREAM state for every stream, counted, never repeated back to back', () => {
    for (const run of [first, second]) {
      const last = lastStates(run);
      expect([...last.keys()].sort()).toEqual(streams.map((s) => s.name).sort());
      let previous = new Map<string, string>();
      for (const m of ofType(run, 'STATE')) {
        expect(m.state.type).toBe('STREAM');
        expect(typeof m.state.sourceStats.recordCount).toBe('number');
        const name = m.state.stream.stream_descriptor.name;
        const text = JSON.stringify(m.state.stream.stream_state);
        expect(previous.get(name), name).not.toBe(text);
        previous = new Map(previous).set(name, text);
      }
      const counted = ofType(run, 'STATE').reduce((n, m) => n + m.state.sourceStats.recordCount, 0);
      expect(counted).toBe(ofType(run, 'RECORD').length);
    }
  });

  it('read again with those states: incremental streams resume at their bookmark less the lookback', () => {
    expect(second.code, second.stderr).toBe(0);
    const bookmarks = lastStates(first);
    for (const provider of PROVIDERS.filter((p) => config[p.key] !== undefined)) {
      for (const stream of provider.streams.filter((s) => s.replicationKey && s.name !== fullRefreshStream)) {
        const bookmark = bookmarks.get(stream.name)!.stream.stream_state.replication_key_value as string;
        // A child is read in its parent's windows, so the parent's lookback is the one that applies.
        const windowed = stream.parent ? provider.streams.find((s) => s.name === stream.parent!.stream)! : stream;
        const lookback = Duration.fromISO(windowed.incremental?.lookback?.(config[provider.key] as ProviderConfig) ?? 'PT0S');
        const floor = Date.parse(bookmark) - lookback.toMillis();
        const resumed = records(second, stream.name);
        expect(resumed.length, stream.name).toBeLessThanOrEqual(records(first, stream.name).length);
        // Clari also re-reads calls by call `time` inside the lookback, since edits leave last_modified_time alone (README).
        const times = (record: Record<string, unknown>) => [stream.replicationKey!, ...(REREAD_BY_CALL_TIME.has(stream.name) ? ['time'] : [])].map((f) => Date.parse(String(record[f])));
        for (const record of resumed) expect(Math.max(...times(record)), stream.name).toBeGreaterThanOrEqual(floor);
        expect(lastStates(second).get(stream.name)!.stream.stream_state.replication_key_value >= bookmark, stream.name).toBe(true);
      }
    }
  });

  it('read again: a stream switched to full_refresh reads everything and keeps an empty state', () => {
    expect(records(second, fullRefreshStream).length).toBe(records(first, fullRefreshStream).length);
    expect(lastStates(second).get(fullRefreshStream)!.stream.stream_state).toEqual({});
  });

  it('sends each rotated refresh token back as CONTROL, and the next command works with it', () => {
    const rotating = PROVIDERS.filter((p) => typeof config[p.key]?.refresh_token === 'string');
    expect(rotating.length).toBeGreaterThan(0);
    for (const run of [check, first, second]) {
      const controls = ofType(run, 'CONTROL');
      expect(controls.length).toBeGreaterThan(0);
      for (const control of controls) expect(Object.keys(control.control.connectorConfig.config)).toEqual(expect.arrayContaining(Object.keys(config)));
    }
    const tokens = [check, first, second].map((run) => ofType(run, 'CONTROL').at(-1)!.control.connectorConfig.config[rotating[0]!.key].refresh_token);
    expect(new Set(tokens).size).toBe(3);
  });

  it('check: FAILED naming the settings to fix when every credential is wrong', async () => {
    const wrong = structuredClone(config);
    for (const block of Object.values(wrong)) {
      if (block && typeof block === 'object') for (const key of Object.keys(block)) if (isSecretSetting(key)) block[key] = `wrong-${key}-value`;
    }
    const run = await airbyte(['check', '--config', writeJson(dir, 'wrong.json', wrong)]);
    expect(run.code).toBe(0);
    const [status] = ofType(run, 'CONNECTION_STATUS');
    expect(status!.connectionStatus.status).toBe('FAILED');
    for (const provider of PROVIDERS.filter((p) => wrong[p.key] !== undefined)) expect(status!.connectionStatus.message).toContain(`check ${provider.key}.`);
    expect(run.stdout + run.stderr).not.toMatch(/wrong-\w+-value/);
  });

  it('check: FAILED with the config problem when the config is incomplete', async () => {
    const provider = PROVIDERS.find((p) => config[p.key] !== undefined)!;
    const secretKey = Object.keys(config[provider.key]).find(isSecretSetting)!;
    const broken = { ...config, [provider.key]: { ...config[provider.key], [secretKey]: undefined }, start_date: 'last tuesday' };
    const run = await airbyte(['check', '--config', writeJson(dir, 'broken.json', broken)]);
    expect(run.code).toBe(0);
    expect(ofType(run, 'CONNECTION_STATUS')[0]).toMatchObject({ connectionStatus: { status: 'FAILED', message: expect.stringMatching(/^config: start_date must be a valid date-time/) } });
  });

  it('read: a TRACE config_error, every stream INCOMPLETE and a non-zero exit when the API refuses the credentials', async () => {
    const wrong = structuredClone(config);
    for (const block of Object.values(wrong)) {
      if (block && typeof block === 'object') for (const key of Object.keys(block)) if (isSecretSetting(key)) block[key] = `wrong-${key}-value`;
    }
    const run = await airbyte(['read', '--config', writeJson(dir, 'wrong-read.json', wrong), '--catalog', writeJson(dir, 'catalog.json', configuredCatalog())]);
    expect(run.code).toBe(1);
    expect(allProblems(run.lines)).toEqual([]);
    expect(statusProblems(run.lines)).toEqual([]);
    const errors = ofType(run, 'TRACE').filter((m) => m.trace.type === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.trace.error).toMatchObject({ failure_type: 'config_error', stream_descriptor: { name: streams[0]!.name } });
    const incomplete = ofType(run, 'TRACE').filter((m) => m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.status === 'INCOMPLETE');
    expect(incomplete.map((m) => m.trace.stream_status.stream_descriptor.name).sort()).toEqual(streams.map((s) => s.name).sort());
    expect(run.stderr).toMatch(/^CRITICAL /m);
    expect(run.stdout + run.stderr).not.toMatch(/wrong-\w+-value/);
  });

  it('read: a TRACE config_error and exit 2 for a cursor the source does not define', async () => {
    const catalog = configuredCatalog();
    const incremental = catalog.streams.find((s) => s.sync_mode === 'incremental')!;
    const run = await airbyte(['read', '--config', configPath, '--catalog', writeJson(dir, 'bad-cursor.json', { streams: [{ ...incremental, cursor_field: ['not_the_cursor'] }] })]);
    expect(run.code).toBe(2);
    expect(ofType(run, 'TRACE').map((m) => [m.trace.type, m.trace.error?.failure_type])).toEqual([['ERROR', 'config_error']]);
    expect(ofType(run, 'TRACE')[0]!.trace.error.message).toContain('source-defined cursor');
  });

  it.each([
    ['read without --catalog', ['read'], 'Missing required argument: catalog'],
    ['check with an unknown flag', ['check', '--confg'], 'Unknown argument: confg'],
  ])('%s: a TRACE config_error on stdout, one CRITICAL line on stderr, exit 2', async (_name, args, problem) => {
    const run = await airbyte([...args, '--config', configPath]);
    expect(run.code).toBe(2);
    expect(run.lines.map((m) => [m.type, (m as Message).trace?.error?.failure_type])).toEqual([['TRACE', 'config_error']]);
    expect(allProblems(run.lines)).toEqual([]);
    expect((run.lines[0] as Message).trace.error.message).toBe(`${problem}; see tap-convo --help`);
    expect(run.stderr).toBe(`CRITICAL ${problem}; see tap-convo --help\n`);
  });

  it('ignores a provider block holding only the defaults the platform form fills in', async () => {
    const configured = PROVIDERS.filter((p) => config[p.key] !== undefined);
    const unused = PROVIDERS.find((p) => config[p.key] === undefined) ?? configured.at(-1)!;
    const defaults = Object.fromEntries(Object.entries((unused.settings.properties ?? {}) as Record<string, { default?: unknown }>).flatMap(([name, s]) => (s.default === undefined ? [] : [[name, s.default]])));
    const withDefaults = { ...config, [unused.key]: defaults };
    // This check rotates the stored refresh token, so it runs last.
    const run = await airbyte(['check', '--config', writeJson(dir, 'defaults.json', withDefaults)]);
    expect(ofType(run, 'LOG').some((m) => m.log.message.startsWith(`${unused.key}: no credentials in the config`))).toBe(true);
    const status = ofType(run, 'CONNECTION_STATUS')[0]!.connectionStatus;
    expect(status.message).not.toContain(unused.title);
    if (configured.some((p) => p !== unused)) expect(status.status).toBe('SUCCEEDED');
  });

  it('never prints a credential outside the CONTROL messages that must carry it', () => {
    expect(secrets.size).toBeGreaterThan(0);
    for (const run of runs) {
      const text = run.lines.filter((m) => m.type !== 'CONTROL').map((m) => JSON.stringify(m)).join('\n') + run.stderr;
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
