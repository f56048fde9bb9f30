import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogEntry, loadSchema, planStreams, type StreamPlan } from '../../src/core/catalog.js';
import { isSecretSetting } from '../../src/core/config.js';
import type { ProviderDefinition } from '../../src/core/definitions.js';
import type { SyncEvent } from '../../src/core/events.js';
import { runSync } from '../../src/core/runner.js';
import { singlePage } from '../../src/pagination/index.js';
import { about } from '../../src/protocol/about.js';
import {
  AirbyteEncoder,
  catalogMessage,
  connectionStatusMessage,
  controlMessage,
  errorTrace,
  logMessage,
  specMessage,
  translateConfiguredCatalog,
  type AirbyteMessage,
} from '../../src/protocol/airbyte.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { InputError, SyncError } from '../../src/util/errors.js';
import { registerSecret } from '../../src/util/log.js';
import { memoryLogger } from '../helpers/logger.js';
import { allProblems, configuredCatalogProblems, statusProblems } from './airbyte-messages.js';

const clock = () => 1_781_524_800_000;
const settings = about(PROVIDERS).settings;
const allStreams = PROVIDERS.flatMap((provider) => provider.streams.map((stream) => ({ provider, stream })));
const incremental = allStreams.find(({ stream }) => stream.replicationKey)!;
const fullTable = allStreams.find(({ stream }) => !stream.replicationKey)!;

type Schema = { properties?: Record<string, Schema>; required?: string[]; dependencies?: unknown; additionalProperties?: unknown; [key: string]: unknown };

/** Every (name, schema) pair of a schema's properties, nested ones included. */
function walk(schema: Schema, path: string[] = []): Array<[string[], Schema]> {
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => [[[...path, name], property] as [string[], Schema], ...walk(property, [...path, name])]);
}

describe('spec', () => {
  const message = specMessage(settings) as Extract<AirbyteMessage, { type: 'SPEC' }>;
  const spec = message.spec.connectionSpecification as Schema;

  it('is a valid SPEC message declaring a protocol version and incremental support', () => {
    expect(allProblems([message])).toEqual([]);
    expect(message.spec).toMatchObject({ protocol_version: '0.2.0', supportsIncremental: true, documentationUrl: expect.stringMatching(/^https:\/\//) });
  });

  it('keeps every setting of --about, in order, with its title, description, default and examples', () => {
    const published = walk(settings as Schema);
    const airbyte = walk(spec);
    expect(airbyte.map(([path]) => path.join('.'))).toEqual(published.map(([path]) => path.join('.')));
    for (const [[path, property], [, original]] of airbyte.map((entry, i) => [entry, published[i]!] as const)) {
      for (const key of ['title', 'description', 'default', 'examples', 'type', 'format'] as const) expect(property[key], `${path.join('.')}.${key}`).toEqual(original[key]);
    }
  });

  it('numbers the fields in declaration order so the form shows them that way', () => {
    for (const [path, property] of walk(spec)) {
      const siblings = Object.keys((path.length === 1 ? spec : walk(spec).find(([p]) => p.join('.') === path.slice(0, -1).join('.'))![1]).properties!);
      expect(property.order, path.join('.')).toBe(siblings.indexOf(path.at(-1)!));
    }
  });

  it('marks every credential airbyte_secret and nothing else', () => {
    const secrets = walk(spec).filter(([, property]) => property.airbyte_secret === true).map(([path]) => path.at(-1));
    expect(secrets.length).toBeGreaterThan(0);
    for (const [path, property] of walk(spec)) expect(property.airbyte_secret === true, path.join('.')).toBe(isSecretSetting(path.at(-1)!));
  });

  it('leaves provider blocks optional and open, as the platform form needs', () => {
    for (const provider of PROVIDERS) {
      const block = spec.properties![provider.key]!;
      expect(block.required, provider.key).toBeUndefined();
      expect(block.dependencies, provider.key).toBeUndefined();
    }
    expect(walk(spec).filter(([, p]) => p.additionalProperties === false)).toEqual([]);
    expect(spec.additionalProperties).toBeUndefined();
  });
});

describe('catalog', () => {
  const catalog = { streams: allStreams.map(({ provider, stream }) => catalogEntry(stream, loadSchema(provider, stream))) };
  const message = catalogMessage(catalog, PROVIDERS) as Extract<AirbyteMessage, { type: 'CATALOG' }>;

  it('is a valid CATALOG with every stream of every provider', () => {
    expect(allProblems([message])).toEqual([]);
    expect(message.catalog.streams.map((s) => s.name)).toEqual(allStreams.map(({ stream }) => stream.name));
  });

  it('describes sync modes, cursor and key from the stream declaration', () => {
    const byName = new Map(message.catalog.streams.map((s) => [s.name, s]));
    expect(byName.get(incremental.stream.name)).toMatchObject({
      supported_sync_modes: ['full_refresh', 'incremental'],
      source_defined_cursor: true,
      default_cursor_field: [incremental.stream.replicationKey],
      source_defined_primary_key: incremental.stream.primaryKey.map((k) => [k]),
      is_resumable: true,
    });
    expect(byName.get(fullTable.stream.name)).toMatchObject({ supported_sync_modes: ['full_refresh'], source_defined_cursor: false, default_cursor_field: [], is_resumable: false });
  });
});

/** A configured stream the way the platform writes it, from the discovered stream. */
function configured(name: string, syncMode: 'full_refresh' | 'incremental', extra: JsonRecord = {}) {
  const { provider, stream } = allStreams.find((s) => s.stream.name === name)!;
  const json_schema = loadSchema(provider, stream);
  return {
    stream: { name, json_schema, supported_sync_modes: stream.replicationKey ? ['full_refresh', 'incremental'] : ['full_refresh'] },
    sync_mode: syncMode,
    destination_sync_mode: 'append',
    ...(syncMode === 'incremental' && stream.replicationKey ? { cursor_field: [stream.replicationKey] } : {}),
    ...extra,
  };
}

describe('configured catalog', () => {
  it('selects exactly the configured streams, incremental or full table as configured', () => {
    const document = { streams: [configured(incremental.stream.name, 'incremental'), configured(fullTable.stream.name, 'full_refresh')] };
    expect(configuredCatalogProblems(document)).toEqual([]);
    const { catalog, configured: names } = translateConfiguredCatalog(document, PROVIDERS, 'cc.json');
    expect(names).toEqual([incremental.stream.name, fullTable.stream.name]);
    const plans = planStreams(PROVIDERS, catalog);
    expect(plans.map((p) => [p.stream.name, p.incremental]).sort()).toEqual([[incremental.stream.name, true], [fullTable.stream.name, false]].sort());
  });

  it('reads an incremental-capable stream configured full_refresh as a full table', () => {
    const { catalog } = translateConfiguredCatalog({ streams: [configured(incremental.stream.name, 'full_refresh')] }, PROVIDERS, 'cc.json');
    expect(planStreams(PROVIDERS, catalog).map((p) => p.incremental)).toEqual([false]);
  });

  it('turns columns left out of json_schema into deselected fields, keeping key and cursor', () => {
    const entry = configured(incremental.stream.name, 'incremental');
    const all = Object.keys(entry.stream.json_schema.properties as object);
    const keep = new Set([...incremental.stream.primaryKey, incremental.stream.replicationKey!]);
    const dropped = all.filter((name) => !keep.has(name));
    expect(dropped.length).toBeGreaterThan(0);
    const json_schema = { ...entry.stream.json_schema, properties: Object.fromEntries(Object.entries(entry.stream.json_schema.properties as object).filter(([name]) => keep.has(name))) };
    const { catalog } = translateConfiguredCatalog({ streams: [{ ...entry, stream: { ...entry.stream, json_schema } }] }, PROVIDERS, 'cc.json');
    const [plan] = planStreams(PROVIDERS, catalog) as [StreamPlan];
    expect(Object.keys(plan.schema.properties as object).sort()).toEqual([...keep].sort());
    // The deselected fields stay known, so records carrying them are trimmed without a warning.
    expect([...plan.knownFields].sort()).toEqual(all.sort());
  });

  it('leaves unknown streams out of the engine catalog but names them', () => {
    const document = { streams: [configured(fullTable.stream.name, 'full_refresh'), { ...configured(fullTable.stream.name, 'full_refresh'), stream: { name: 'gong_retired', json_schema: {} } }] };
    const { catalog, configured: names } = translateConfiguredCatalog(document, PROVIDERS, 'cc.json');
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual([fullTable.stream.name]);
    expect(names).toEqual([fullTable.stream.name, 'gong_retired']);
  });

  it.each([
    ['incremental on a full-table stream', () => ({ streams: [configured(fullTable.stream.name, 'incremental')] }), /supports only full_refresh/],
    ['a cursor other than the source-defined one', () => ({ streams: [configured(incremental.stream.name, 'incremental', { cursor_field: ['somewhere_else'] })] }), /source-defined cursor/],
    ['a catalog without streams', () => ({ stream: [] }), /catalog cc.json: streams is required/],
    ['an unknown sync mode', () => ({ streams: [configured(fullTable.stream.name, 'full_refresh', { sync_mode: 'sometimes' })] }), /sync_mode must be one of full_refresh, incremental/],
  ])('refuses %s as a config error', (_name, document, message) => {
    const attempt = () => translateConfiguredCatalog(document(), PROVIDERS, 'cc.json');
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(message);
  });
});

describe('AirbyteEncoder', () => {
  const a = 'gong_calls';
  const b = 'gong_users';
  const bookmark = (value: string) => ({ replication_key: 'started', replication_key_value: value });
  const record = (stream: string, id: number): SyncEvent => ({ type: 'record', stream, record: { id }, timeExtracted: '2026-06-15T12:00:00Z' });
  const status = (stream: string, s: 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE'): SyncEvent => ({ type: 'stream-status', stream, status: s });
  const encodeAll = (encoder: AirbyteEncoder, events: SyncEvent[]) => events.flatMap((event) => encoder.encode(event));
  const states = (messages: AirbyteMessage[]) =>
    messages.flatMap((m) => (m.type === 'STATE' ? [[m.state.stream.stream_descriptor.name, m.state.stream.stream_state, m.state.sourceStats.recordCount] as const] : []));

  it('sends one STREAM state per advanced stream, counting records since its last state', () => {
    const encoder = new AirbyteEncoder({ bookmarks: {} }, {}, clock);
    const messages = encodeAll(encoder, [
      status(a, 'STARTED'),
      status(b, 'STARTED'),
      status(a, 'RUNNING'),
      record(a, 1),
      record(a, 2),
      { type: 'state', state: { bookmarks: { [a]: bookmark('2026-06-01T00:00:00Z') } }, streams: [a] },
      record(a, 3),
      { type: 'state', state: { bookmarks: { [a]: bookmark('2026-06-02T00:00:00Z') } }, streams: [a] },
      status(b, 'RUNNING'),
      record(b, 9),
      { type: 'state', state: { bookmarks: { [a]: bookmark('2026-06-02T00:00:00Z') } }, streams: [] },
      status(a, 'COMPLETE'),
      status(b, 'COMPLETE'),
    ]);
    expect(allProblems(messages)).toEqual([]);
    expect(statusProblems(messages)).toEqual([]);
    expect(states(messages)).toEqual([
      [a, bookmark('2026-06-01T00:00:00Z'), 2],
      [a, bookmark('2026-06-02T00:00:00Z'), 1],
      // b never advanced: its state is sent empty (but present) when it completes.
      [b, {}, 1],
    ]);
    const statesOfB = messages.findIndex((m) => m.type === 'STATE' && m.state.stream.stream_descriptor.name === b);
    const completeOfB = messages.findIndex((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.stream_descriptor.name === b && m.trace.stream_status.status === 'COMPLETE');
    expect(statesOfB).toBeLessThan(completeOfB);
  });

  it('never repeats a state, and keeps a bookmark the run did not move', () => {
    const held = bookmark('2026-05-01T00:00:00Z');
    const encoder = new AirbyteEncoder({ bookmarks: { [a]: held } }, {}, clock);
    const messages = encodeAll(encoder, [
      status(a, 'STARTED'),
      { type: 'state', state: { bookmarks: { [a]: bookmark('2026-06-01T00:00:00Z') } }, streams: [a] },
      { type: 'state', state: { bookmarks: { [a]: bookmark('2026-06-01T00:00:00Z') } }, streams: [a] },
      status(a, 'COMPLETE'),
    ]);
    expect(states(messages)).toEqual([[a, bookmark('2026-06-01T00:00:00Z'), 0]]);
    const untouched = encodeAll(new AirbyteEncoder({ bookmarks: { [a]: held } }, {}, clock), [status(a, 'STARTED'), status(a, 'COMPLETE')]);
    expect(states(untouched)).toEqual([[a, held, 0]]);
  });

  it('writes records with epoch-millisecond emitted_at and drops Singer-only events', () => {
    const encoder = new AirbyteEncoder({ bookmarks: {} }, {}, clock);
    expect(encoder.encode(record(a, 1))).toEqual([{ type: 'RECORD', record: { stream: a, data: { id: 1 }, emitted_at: clock() } }]);
    expect(encoder.encode({ type: 'schema', stream: a, schema: {}, keyProperties: ['id'], bookmarkProperties: [] })).toEqual([]);
    expect(encoder.encode({ type: 'activate-version', stream: a, version: 1 })).toEqual([]);
  });

  it('sends a changed config back as CONTROL over the config the platform passed', () => {
    const platform = { start_date: '2026-01-01T00:00:00Z', gong: { access_key: 'k', access_key_secret: 's' }, fourfour: { refresh_token: 'old', client_id: 'c', client_secret: 'x' } };
    const encoder = new AirbyteEncoder({ bookmarks: {} }, platform, clock);
    const messages = encoder.encode({ type: 'config-changed', config: { start_date: '2026-01-01T00:00:00Z', fourfour: { refresh_token: 'new', client_id: 'c', client_secret: 'x' } } });
    expect(allProblems(messages)).toEqual([]);
    expect(messages).toEqual([
      { type: 'CONTROL', control: { type: 'CONNECTOR_CONFIG', emitted_at: clock(), connectorConfig: { config: { ...platform, fourfour: { refresh_token: 'new', client_id: 'c', client_secret: 'x' } } } } },
    ]);
  });

  it('closes streams a failure left unfinished, and names the stream that failed', () => {
    const encoder = new AirbyteEncoder({ bookmarks: {} }, {}, clock);
    const messages = encodeAll(encoder, [status(a, 'STARTED'), status(b, 'STARTED'), status(a, 'COMPLETE'), status(b, 'INCOMPLETE')]);
    messages.push(...encoder.incomplete([a, b, 'gong_flows']));
    expect(allProblems(messages)).toEqual([]);
    expect(statusProblems(messages)).toEqual([]);
    expect(encoder.failedStream).toBe(b);
    const closing = messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.status === 'INCOMPLETE');
    expect(closing.map((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.stream_descriptor.name)).toEqual([b, 'gong_flows']);
    // An incomplete stream's bookmark is not sent: it must not pass data that was never delivered.
    expect(states(messages).map(([name]) => name)).toEqual([a]);
  });
});

describe('other messages', () => {
  it('maps every log level and keeps the text without its level prefix', () => {
    const messages = (['debug', 'info', 'warning', 'error', 'critical'] as const).map((level) => logMessage(level, `${level.toUpperCase()} something happened`));
    expect(allProblems(messages)).toEqual([]);
    expect(messages.map((m) => m.type === 'LOG' && [m.log.level, m.log.message])).toEqual([
      ['DEBUG', 'something happened'],
      ['INFO', 'something happened'],
      ['WARN', 'something happened'],
      ['ERROR', 'something happened'],
      ['FATAL', 'something happened'],
    ]);
  });

  it('reports a user-facing error with its failure type and no stack, a bug as system_error with one', () => {
    const config = errorTrace(new InputError('config: gong.access_key_secret is required'), undefined, clock);
    const transient = errorTrace(new SyncError('Gong: still failing; try again later', 'transient_error'), 'gong_calls', clock);
    const bug = errorTrace(new TypeError('undefined is not a function'), undefined, clock);
    expect(allProblems([config, transient, bug])).toEqual([]);
    expect(config).toMatchObject({ trace: { type: 'ERROR', error: { failure_type: 'config_error', message: 'config: gong.access_key_secret is required' } } });
    expect(transient).toMatchObject({ trace: { error: { failure_type: 'transient_error', stream_descriptor: { name: 'gong_calls' } } } });
    expect(bug).toMatchObject({ trace: { error: { failure_type: 'system_error', internal_message: 'TypeError: undefined is not a function', stack_trace: expect.stringContaining('TypeError') } } });
    expect(JSON.stringify(config)).not.toContain('stack_trace');
  });

  it('never carries a registered secret in an error or a connection status', () => {
    registerSecret('hunter2-the-secret');
    const trace = errorTrace(new Error('request with hunter2-the-secret failed'), undefined, clock);
    const status = connectionStatusMessage('FAILED', 'token hunter2-the-secret refused');
    expect(allProblems([trace, status])).toEqual([]);
    expect(JSON.stringify([trace, status])).not.toContain('hunter2-the-secret');
  });

  it('writes CONTROL with the whole config', () => {
    const message = controlMessage({ a: 1, gong: { access_token: 'old' } }, { gong: { access_token: 'new' } }, clock);
    expect(allProblems([message])).toEqual([]);
    expect(message).toMatchObject({ control: { connectorConfig: { config: { a: 1, gong: { access_token: 'new' } } } } });
  });
});

describe('a token rotated during a sync', () => {
  let server: Server;
  let baseUrl: string;
  let failAfterRotation = false;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(failAfterRotation ? 400 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(failAfterRotation ? { error: 'bad' } : { items: [{ id: 'r1' }, { id: 'r2' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A provider whose credentials rotate on first use, as single-use refresh tokens do. */
  function rotatingProvider(): ProviderDefinition {
    let rotated = false;
    return {
      key: 'rot',
      title: 'Rotating',
      defaultBaseUrl: baseUrl,
      defaultRequestsPerSecond: 100,
      settings: {},
      streams: [{ name: 'rot_items', primaryKey: ['id'], request: () => ({ method: 'GET', path: '/items' }), recordsAt: ['items'] }],
      paginator: singlePage,
      auth: (_config, context) => ({
        async headers() {
          if (!rotated) {
            rotated = true;
            await context.persistConfig({ refresh_token: 'rotated-token' });
          }
          return {};
        },
      }),
      credentialHint: () => 'check rot.refresh_token',
      check: { method: 'GET', path: '/items' },
    };
  }

  async function encodeSync(): Promise<{ messages: AirbyteMessage[]; error?: unknown }> {
    const provider = rotatingProvider();
    const platform = { rot: { refresh_token: 'first-token' }, other: { kept: true } };
    const config = { rot: { refresh_token: 'first-token', base_url: baseUrl, request_timeout: 60 } };
    const encoder = new AirbyteEncoder({ bookmarks: {} }, platform, clock);
    const plans: StreamPlan[] = [{ provider, stream: provider.streams[0]!, schema: { type: 'object', properties: { id: { type: 'string' } } }, knownFields: new Set(['id']), incremental: false }];
    const messages: AirbyteMessage[] = [];
    try {
      for await (const event of runSync({ config, plans, state: { bookmarks: {} }, logger: memoryLogger(), persistConfig: async () => undefined, retry: { attempts: 1 } })) {
        messages.push(...encoder.encode(event));
      }
    } catch (error) {
      return { messages, error };
    }
    return { messages };
  }

  it('reaches the platform as CONTROL before the records read with it', async () => {
    failAfterRotation = false;
    const { messages } = await encodeSync();
    expect(allProblems(messages)).toEqual([]);
    const control = messages.findIndex((m) => m.type === 'CONTROL');
    expect(control).toBeGreaterThanOrEqual(0);
    expect(control).toBeLessThan(messages.findIndex((m) => m.type === 'RECORD'));
    expect(messages[control]).toMatchObject({ control: { connectorConfig: { config: { rot: { refresh_token: 'rotated-token' }, other: { kept: true } } } } });
  });

  it('still reaches the platform when the sync then fails, since the old token is spent', async () => {
    failAfterRotation = true;
    const { messages, error } = await encodeSync();
    expect(error).toBeInstanceOf(SyncError);
    expect(messages.filter((m) => m.type === 'CONTROL')).toHaveLength(1);
  });
});
