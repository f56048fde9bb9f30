import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRecord, JsonSchema, SingerMessage } from '../../src/protocol/messages.js';
import { toSinger } from '../../src/protocol/singer.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { allSandboxProviders } from '../../src/sandbox/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import type { SandboxProvider } from '../../src/sandbox/types.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * A typed target (Postgres `timestamp without time zone`) keeps a date-time's digits and drops its
 * offset, so every date-time the tap emits must be a UTC instant (`…Z`), and the instant the API sent.
 * The sync is the demo's: every stream of every provider, 120 days of history, seed 1.
 */
const DATE_TIME_TEXT = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d/;

/** An instant as comparable text: epoch seconds and the sub-second digits as sent. */
function instantOf(text: string): string | undefined {
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  const parsed = DateTime.fromISO(text.replace(/\.\d+/, ''), { zone: 'utc' });
  return parsed.isValid ? `${parsed.toSeconds()}.${fraction.replace(/0+$/, '')}` : undefined;
}

/** Every date-time-like string of a body, by the name of the field it sits in. */
function collectInstants(value: unknown, into: Map<string, Set<string>>, field = ''): void {
  if (typeof value === 'string') {
    const instant = DATE_TIME_TEXT.test(value) ? instantOf(value) : undefined;
    if (!instant) return;
    (into.get(field) ?? into.set(field, new Set()).get(field)!).add(instant);
    if (!/Z$/i.test(value)) sentWithOffset++;
  } else if (Array.isArray(value)) {
    for (const item of value) collectInstants(item, into, field);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) collectInstants(item, into, key);
  }
}

/** The values of a record that its schema declares `format: date-time`, with their field names and paths. */
function* declaredDateTimes(value: unknown, schema: JsonSchema, field: string, path: string): Generator<{ field: string; path: string; value: string }> {
  if (value === null || value === undefined) return;
  if (schema.format === 'date-time' && typeof value === 'string') yield { field, path, value };
  if (Array.isArray(value) && schema.items) for (const item of value) yield* declaredDateTimes(item, schema.items as JsonSchema, field, `${path}[]`);
  if (typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties as Record<string, JsonSchema>)) yield* declaredDateTimes((value as JsonRecord)[key], sub, key, `${path}.${key}`);
  }
}

let sandbox: RunningSandbox;
const sent = new Map<string, Set<string>>();
let sentWithOffset = 0;
let messages: SingerMessage[];

beforeAll(async () => {
  /** Every answer the simulated APIs give, read as the tap receives it. */
  const recording = (provider: SandboxProvider): SandboxProvider =>
    Object.assign(Object.create(provider) as SandboxProvider, {
      async handle(request: Parameters<SandboxProvider['handle']>[0]) {
        const response = await provider.handle(request);
        const body = typeof response.body === 'string' && /json/.test(response.headers?.['content-type'] ?? 'json') ? safeParse(response.body) : response.body;
        collectInstants(body, sent);
        return response;
      },
    });
  sandbox = await startSandbox({ seed: 1, scale: 1, now: () => TEST_NOW, unlimited: true, providers: (options) => allSandboxProviders(options).map(recording) });
  const config = sandbox.tapConfig({ start_date: TEST_NOW.minus({ days: 120 }).startOf('day').toISO() });
  for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 500 });
  const catalog = { streams: PROVIDERS.flatMap((p) => p.streams.map((s) => ({ tap_stream_id: s.name, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }))) };
  const run = await collectSync(config, { now: TEST_NOW, catalog: catalog as never });
  // As the CLI writes them: the wire form is what a target reads.
  messages = run.events.flatMap((event) => [toSinger(event)].filter((m): m is SingerMessage => m !== undefined)).map((m) => JSON.parse(JSON.stringify(m)) as SingerMessage);
}, 120_000);

afterAll(() => sandbox?.close());

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe('date-times in the Singer output', () => {
  it('are UTC instants naming the instant the API sent, in every stream', () => {
    const schemas = new Map<string, JsonSchema>();
    const checked = new Map<string, number>();
    // The case targets store wrongly is there to meet: the APIs sent offsets other than Z.
    expect(sentWithOffset).toBeGreaterThan(100);
    for (const message of messages) {
      if (message.type === 'SCHEMA') schemas.set(message.stream, message.schema);
      if (message.type !== 'RECORD') continue;
      for (const { field, path, value } of declaredDateTimes(message.record, schemas.get(message.stream)!, '', '')) {
        const where = `${message.stream}${path} = ${value}`;
        expect(value, where).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        expect(sent.get(field)?.has(instantOf(value)!), `${where}: no ${field} the API sent names this instant`).toBe(true);
        checked.set(message.stream, (checked.get(message.stream) ?? 0) + 1);
      }
    }
    // Every stream that declares a date-time emitted some: nothing was skipped for want of data.
    const declaring = [...schemas].filter(([, schema]) => JSON.stringify(schema).includes('"date-time"')).map(([stream]) => stream);
    expect(declaring.filter((stream) => !checked.has(stream))).toEqual([]);
  });
});
