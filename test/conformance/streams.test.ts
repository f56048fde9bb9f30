import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, loadSchema } from '../../src/core/catalog.js';
import type { SyncEvent } from '../../src/core/events.js';
import { parseInstant } from '../../src/core/state.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { ajv } from '../../src/util/schema.js';
import type { JsonSchema } from '../../src/protocol/messages.js';
import type { Catalog } from '../../src/core/catalog.js';
import { memoryLogger } from '../helpers/logger.js';
import { collectSync, TEST_NOW, type CollectedSync } from '../helpers/sync.js';

/**
 * The Meltano-style standard tests, run over every stream of every provider against the sandbox:
 * a new stream or provider is covered by declaring it, with nothing to add here.
 */
let sandbox: RunningSandbox;
let first: CollectedSync;
let second: CollectedSync;
let discovered: Catalog;

beforeAll(async () => {
  sandbox = await startAllSandboxes({ seed: 11, scale: 1, now: () => TEST_NOW, unlimited: true });
  const config = sandbox.tapConfig({ start_date: '2026-01-01T00:00:00Z' });
  // The sandbox is unlimited here; rate limits have their own tests.
  for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 500 });
  const catalog = {
    streams: PROVIDERS.flatMap((p) => p.streams.map((s) => ({ tap_stream_id: s.name, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }))),
  };
  first = await collectSync(config, { now: TEST_NOW, catalog: catalog as never });
  second = await collectSync(config, { now: TEST_NOW.plus({ hours: 1 }), state: first.finalState, catalog: catalog as never });
  discovered = await discover(PROVIDERS, config, memoryLogger('info'));
}, 120_000);

afterAll(() => sandbox?.close());

/**
 * The schema with `additionalProperties: false` on every object that declares properties, at every
 * depth: a field the API sends and the schema lacks fails here instead of reaching targets undeclared.
 */
function strict(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, sub]) => [name, strict(sub)]));
    out.additionalProperties = false;
  }
  if (schema.items && typeof schema.items === 'object') out.items = strict(schema.items as JsonSchema);
  return out;
}

/** Every keyword used anywhere in a schema, nested property names excluded. */
function keywordsOf(schema: JsonSchema): string[] {
  return Object.entries(schema).flatMap(([keyword, value]) => [
    keyword,
    ...(keyword === 'properties' ? Object.values(value as Record<string, JsonSchema>).flatMap(keywordsOf) : []),
    ...(keyword === 'items' && typeof value === 'object' ? keywordsOf(value as JsonSchema) : []),
  ]);
}
/** Paths of sub-schemas without a type: targets that flatten nested data drop their values. */
function untyped(schema: JsonSchema, path = ''): string[] {
  const nested = [
    ...Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).flatMap(([name, sub]) => untyped(sub, `${path}.${name}`)),
    ...(schema.items && typeof schema.items === 'object' ? untyped(schema.items as JsonSchema, `${path}[]`) : []),
  ];
  return schema.type === undefined ? [path || '(root)', ...nested] : nested;
}
const DRAFT_4_KEYWORDS_WE_USE = ['type', 'properties', 'items', 'required', 'format', 'description'];

const streams = PROVIDERS.flatMap((provider) => provider.streams.map((stream) => ({ provider, stream, name: stream.name })));

describe.each(streams)('$name', ({ provider, stream, name }) => {
  const schema = loadSchema(provider, stream);

  it('has a valid JSON Schema file with its keys and replication key declared', () => {
    expect(ajv.validateSchema(schema)).toBe(true);
    const properties = Object.keys(schema.properties as object);
    for (const key of [...stream.primaryKey, ...(stream.replicationKey ? [stream.replicationKey] : [])]) expect(properties).toContain(key);
  });

  it('gives every field a type, at every depth', () => {
    expect(untyped(schema)).toEqual([]);
  });

  it('sends SCHEMA before its first RECORD', () => {
    const index = (predicate: (e: SyncEvent) => boolean) => first.events.findIndex(predicate);
    const schemaAt = index((e) => e.type === 'schema' && e.stream === name);
    const recordAt = index((e) => e.type === 'record' && e.stream === name);
    expect(schemaAt).toBeGreaterThanOrEqual(0);
    if (recordAt >= 0) expect(schemaAt).toBeLessThan(recordAt);
  });

  it('publishes its schema without $schema and with Draft 4 keywords only, in SCHEMA and in discover', () => {
    const event = first.events.find((e): e is Extract<SyncEvent, { type: 'schema' }> => e.type === 'schema' && e.stream === name)!;
    const entry = discovered.streams.find((e) => e.tap_stream_id === name)!;
    for (const published of [event.schema, entry.schema]) {
      expect(published).not.toHaveProperty('$schema');
      expect(DRAFT_4_KEYWORDS_WE_USE).toEqual(expect.arrayContaining([...new Set(keywordsOf(published))]));
    }
  });

  it('returns records that match its SCHEMA with no undeclared field at any depth', () => {
    const records = first.records[name] ?? [];
    expect(records.length).toBeGreaterThan(0);
    const event = first.events.find((e): e is Extract<SyncEvent, { type: 'schema' }> => e.type === 'schema' && e.stream === name)!;
    const validate = ajv.compile(strict(event.schema));
    for (const record of records) {
      if (!validate(record)) throw new Error(`${name} record ${JSON.stringify(record).slice(0, 300)} fails: ${ajv.errorsText(validate.errors)}`);
    }
    // Top-level fields the schema lacks are dropped before they reach a record, with a warning.
    expect(first.logs.filter((line) => line.includes(`${name}: the API sent field`))).toEqual([]);
  });

  it('writes every declared top-level field in every record, null where the API left it out', () => {
    const declared = Object.keys(schema.properties as object);
    for (const record of first.records[name] ?? []) expect(Object.keys(record)).toEqual(declared);
  });

  it('has non-null, unique primary keys', () => {
    const keys = (first.records[name] ?? []).map((r) => JSON.stringify(stream.primaryKey.map((k) => r[k])));
    for (const key of keys) expect(key).not.toContain('null');
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.runIf(Boolean(stream.replicationKey))('bookmarks no later than the sync start, and a resumed run does not repeat the history', () => {
    const bookmark = parseInstant(first.finalState.bookmarks[name]?.replication_key_value);
    expect(bookmark).toBeDefined();
    expect(bookmark!.toMillis()).toBeLessThanOrEqual(TEST_NOW.toMillis());
    // Each provider's own tests pin the exact window; here: a resumed run never repeats the history.
    // A stream of what its parents name (references) may see all of it named again by the lookback's
    // parents (Clari's 11 accounts, on a week of calls): it never reads more than the first run did.
    const resumed = (second.records[name] ?? []).length;
    if (stream.parent?.references) expect(resumed).toBeLessThanOrEqual((first.records[name] ?? []).length);
    else expect(resumed).toBeLessThan((first.records[name] ?? []).length);
  });

  it.runIf(!stream.replicationKey)('reads the whole table again on the next run', () => {
    expect((second.records[name] ?? []).length).toBe((first.records[name] ?? []).length);
  });
});
