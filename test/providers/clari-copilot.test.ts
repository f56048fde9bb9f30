import { DateTime, Duration } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogEntry, loadSchema, type Catalog } from '../../src/core/catalog.js';
import { formatInstant } from '../../src/core/state.js';
import type { HttpRequest } from '../../src/http/client.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { callsRequests, clariPages, isWeeklyQuotaAnswer, markPrivate, shapeRequest, splitUnreachable } from '../../src/providers/clari-copilot/hooks.js';
import { clariCopilot, type ClariCopilotConfig } from '../../src/providers/clari-copilot/provider.js';
import { createClariCopilotSandbox, type ApiRecord, type ClariSandbox, type ClariSandboxSettings } from '../../src/sandbox/clari-copilot/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, secretsOf, tempDir, writeJson } from '../helpers/binary.js';
import { memoryLogger } from '../helpers/logger.js';
import { newestValue } from '../helpers/bookmarks.js';
import { asEmitted, collectSync, TEST_NOW, type CollectedSync } from '../helpers/sync.js';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const ms = (iso: unknown) => DateTime.fromISO(String(iso)).toMillis();
const config: ClariCopilotConfig = { api_key: 'key', api_password: 'password' };
const callsAt = (query: HttpRequest['query']): HttpRequest => ({ method: 'GET', url: 'https://rest-api.copilot.clari.com/calls', query: { skip: 0, limit: 100, ...query } });
const bounds = (request: HttpRequest) => {
  const { filterModifiedGt, filterModifiedLt, filterTimeGt, filterTimeLt } = request.query ?? {};
  return { filterModifiedGt, filterModifiedLt, filterTimeGt, filterTimeLt };
};

describe('Clari Copilot calls requests', () => {
  it('reads a whole history as the public calls modified before the window end', () => {
    expect(callsRequests({ config, window: { to: at('2026-06-15T12:00:00Z') }, parents: [], scratch: new Map() })).toEqual([
      { method: 'GET', path: '/calls', query: { includePrivate: 'false', includePagination: 'true', sortTime: 'asc', filterModifiedGt: undefined, filterModifiedLt: '2026-06-15T12:00:00Z' } },
    ]);
  });

  it('reads a window as calls modified in it, plus calls timed in it but modified before the run range, from its first millisecond', () => {
    const range = { from: at('2026-05-01T00:00:00Z'), to: at('2026-06-15T12:00:00Z') };
    const window = { from: at('2026-05-31T00:00:00Z'), to: range.to };
    expect(callsRequests({ config, window, range, parents: [], scratch: new Map() }).map((spec) => bounds({ method: 'GET', url: 'x', query: spec.query }))).toEqual([
      { filterModifiedGt: '2026-05-30T23:59:59.999Z', filterModifiedLt: '2026-06-15T12:00:00Z', filterTimeGt: undefined, filterTimeLt: undefined },
      { filterModifiedGt: undefined, filterModifiedLt: '2026-05-01T00:00:00Z', filterTimeGt: '2026-05-30T23:59:59.999Z', filterTimeLt: '2026-06-15T12:00:00Z' },
    ]);
  });

  it('with include_private runs every query for public calls first, then with includePrivate=true', () => {
    const window = { from: at('2026-06-01T00:00:00Z'), to: at('2026-06-15T12:00:00Z') };
    const specs = callsRequests({ config: { ...config, include_private: true }, window, range: window, parents: [], scratch: new Map() });
    expect(specs.map((s) => [s.query!.includePrivate, s.query!.filterTimeGt === undefined ? 'modified' : 'time'])).toEqual([
      ['false', 'modified'],
      ['false', 'time'],
      ['true', 'modified'],
      ['true', 'time'],
    ]);
  });

  it('tags public calls, keeps only the calls the includePrivate pass adds, and tags those private', () => {
    const ctx = { config: { ...config, include_private: true }, parents: [], scratch: new Map() };
    const pass = (includePrivate: string) => callsAt({ includePrivate });
    expect(markPrivate({ id: 'a' }, ctx, pass('false'))).toEqual({ id: 'a', is_private: false });
    expect(markPrivate({ id: 'a' }, ctx, pass('true'))).toBeUndefined();
    expect(markPrivate({ id: 'b' }, ctx, pass('true'))).toEqual({ id: 'b', is_private: true });
    // Another window's scratch: it has not seen the call.
    expect(markPrivate({ id: 'a' }, { ...ctx, scratch: new Map() }, pass('true'))).toEqual({ id: 'a', is_private: true });
  });
});

describe('Clari Copilot window splitting', () => {
  const page = (matched: number) => ({ calls: [], pagination: { matched, hasMore: true, nextPageSkip: 100 } });

  it.each([
    ['exactly 10,000 matches', page(10_000)],
    ['no pagination object', { calls: [] }],
  ])('keeps a request whose matches skip can reach: %s', (_, body) => {
    expect(splitUnreachable(callsAt({ filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-02T00:00:00Z' }), body)).toBeUndefined();
  });

  it.each([
    [
      'halves a bounded modified range',
      { filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-02T00:00:00Z' },
      [
        { filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-01T12:00:00Z' },
        { filterModifiedGt: '2026-01-01T11:59:59.999Z', filterModifiedLt: '2026-01-02T00:00:00Z' },
      ],
    ],
    [
      'steps a year back from an open start',
      { filterModifiedLt: '2026-06-15T12:00:00Z' },
      [
        { filterModifiedGt: undefined, filterModifiedLt: '2025-06-15T12:00:00Z' },
        { filterModifiedGt: '2025-06-15T11:59:59.999Z', filterModifiedLt: '2026-06-15T12:00:00Z' },
      ],
    ],
    [
      'cuts the call-time range of a lookback query, keeping its modified bound',
      { filterTimeGt: '2026-06-08T00:00:00Z', filterTimeLt: '2026-06-10T00:00:00Z', filterModifiedLt: '2026-06-01T00:00:00Z' },
      [
        { filterTimeGt: '2026-06-08T00:00:00Z', filterTimeLt: '2026-06-09T00:00:00Z', filterModifiedLt: '2026-06-01T00:00:00Z' },
        { filterTimeGt: '2026-06-08T23:59:59.999Z', filterTimeLt: '2026-06-10T00:00:00Z', filterModifiedLt: '2026-06-01T00:00:00Z' },
      ],
    ],
    [
      'falls back to call time when a modified range is one second wide',
      { filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-01T00:00:01Z', filterTimeLt: '2026-02-01T00:00:00Z' },
      [
        { filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-01T00:00:01Z', filterTimeGt: undefined, filterTimeLt: '2025-02-01T00:00:00Z' },
        { filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-01T00:00:01Z', filterTimeGt: '2025-01-31T23:59:59.999Z', filterTimeLt: '2026-02-01T00:00:00Z' },
      ],
    ],
  ])('%s when more than 10,000 match', (_, query, expected) => {
    const parts = splitUnreachable(callsAt(query), page(10_001))!;
    expect(parts.map(bounds)).toEqual(expected.map((e) => ({ ...bounds(callsAt({})), ...e })));
    for (const part of parts) expect(part.query).toMatchObject({ skip: 0, limit: 100 });
  });

  it('cuts an unbounded request (scorecards) on call time at now', () => {
    const [past, ahead] = splitUnreachable({ method: 'GET', url: 'https://x/scorecard', query: {} }, page(20_000))!;
    const cut = DateTime.fromISO(String(past!.query!.filterTimeLt));
    expect(Math.abs(cut.diffNow().toMillis())).toBeLessThan(5_000);
    expect(ahead!.query).toEqual({ filterTimeGt: DateTime.fromISO(String(past!.query!.filterTimeLt)).minus(1).toUTC().toISO(), filterTimeLt: undefined });
  });

  it('fails loudly instead of dropping matches when no range can be cut', () => {
    const request = callsAt({ filterModifiedGt: '2026-01-01T00:00:00Z', filterModifiedLt: '2026-01-01T00:00:01Z', filterTimeGt: '2026-01-01T00:00:00Z', filterTimeLt: '2026-01-01T00:00:01Z' });
    expect(() => splitUnreachable(request, page(12_000))).toThrow(/12000 records of \/calls .* cannot all be read/);
  });

  it('refuses to page past skip 10,000 rather than stop there', () => {
    const request = callsAt({ skip: 9_900 });
    expect(clariPages.next(request, { pagination: { hasMore: true, nextPageSkip: 10_000 } }, new Array(100))?.query?.skip).toBe(10_000);
    expect(() => clariPages.next({ ...request, query: { ...request.query, skip: 10_000 } }, { pagination: { hasMore: true, nextPageSkip: 10_100 } }, new Array(100))).toThrow(/skip can reach/);
    expect(clariPages.next(request, { pagination: { matched: 9_950, hasMore: false } }, new Array(50))).toBeUndefined();
  });
});

describe('Clari Copilot request shaping', () => {
  it.each([
    [0, 0, 100],
    [2, 0, 100],
    [3, 0, 50],
    [6, 0, 25],
    [40, 0, 25],
    [6, 6, 100],
  ])('after %i retries (%i of them rate limits) asks for pages of %i', (retried, rateLimited, limit) => {
    const shaped = shapeRequest(callsAt({}), { traffic: { sent: 50, retried, rateLimited }, logger: memoryLogger(), scratch: new Map() });
    expect(shaped.query?.limit).toBe(limit);
  });

  it('warns once per run when the page size shrinks, and leaves requests without a page size alone', () => {
    const logger = memoryLogger();
    const traffic = { sent: 10, retried: 3, rateLimited: 0 };
    const run = { traffic, logger, scratch: new Map() };
    shapeRequest(callsAt({}), run);
    shapeRequest(callsAt({}), run);
    expect(logger.lines.filter((l) => l.includes('pages of 50'))).toHaveLength(1);
    shapeRequest(callsAt({}), { ...run, scratch: new Map() });
    expect(logger.lines.filter((l) => l.includes('pages of 50'))).toHaveLength(2);
    const users: HttpRequest = { method: 'GET', url: 'https://x/users' };
    expect(shapeRequest(users, run)).toBe(users);
  });

  it.each([
    [429, { errorMessage: 'Weekly quota of 100000 requests used up; it resets on Sunday 00:00 GMT' }, true],
    [429, { errorMessage: 'Rate limit exceeded: at most 10 requests per second' }, false],
    [500, { errorMessage: 'quota service down' }, false],
    [429, 'quota', false],
  ])('tells the weekly quota answer (HTTP %s %j) from a retryable one', (status, body, quota) => {
    expect(isWeeklyQuotaAnswer(status, body)).toBe(quota);
  });
});

/** Against the simulated Clari Copilot API: the requests the tap sends, and exactly what it emits. */
interface Harness {
  sandbox: RunningSandbox;
  clari: ClariSandbox;
  clock: { now: DateTime };
  config(extra?: JsonRecord, block?: JsonRecord): JsonRecord;
  /** `/calls`, `/call-details`, … requests the sandbox answered, with their query parsed. */
  requests(path: string): URLSearchParams[];
}

async function harness(settings: ClariSandboxSettings = {}, options: { limited?: boolean } = {}): Promise<Harness> {
  const clock = { now: TEST_NOW };
  let clari: ClariSandbox | undefined;
  const sandbox = await startSandbox({ seed: 3, now: () => clock.now, unlimited: !options.limited, providers: (o) => [(clari = createClariCopilotSandbox(o, { flaky502Rate: 0, ...settings }))] });
  return {
    sandbox,
    clari: clari!,
    clock,
    config(extra = {}, block = {}) {
      const base = sandbox.tapConfig(extra);
      return { ...base, clari_copilot: { ...(base.clari_copilot as JsonRecord), ...(options.limited ? {} : { requests_per_second: 1000 }), ...block } };
    },
    requests: (path) => sandbox.traffic['clari-copilot']!.log.filter((entry) => entry.path === path).map((entry) => new URLSearchParams(entry.query)),
  };
}

/** A catalog as --discover writes it, with only these streams selected. */
const select = (...names: string[]): Catalog => ({
  streams: clariCopilot.streams.map((stream) => {
    const entry = catalogEntry(stream, loadSchema(clariCopilot, stream));
    entry.metadata[0]!.metadata.selected = names.includes(stream.name);
    return entry;
  }),
});
const ids = (records: Iterable<ApiRecord> | undefined) => [...(records ?? [])].map((record) => String(record.id)).sort();
const emittedCall = asEmitted('clari_copilot_calls');
const withPrivacy = (clari: ClariSandbox) => (call: ApiRecord) => emittedCall({ ...call, is_private: clari.dataset.isPrivate(String(call.id)) });
const byIdOrder = (a: { id?: unknown }, b: { id?: unknown }) => String(a.id).localeCompare(String(b.id));
const byId = (records: readonly ApiRecord[]) => [...records].sort(byIdOrder);
const inside = (value: unknown, from: DateTime, to: DateTime) => ms(value) >= from.toMillis() && ms(value) < to.toMillis();
/** CLARI-OAS CallStatus: a call has a transcript and summary from PROCESSED on. */
const isProcessed = (call: ApiRecord) => call.status === 'PROCESSED' || call.status === 'POST_PROCESSING_DONE';

describe('Clari Copilot against the sandbox', () => {
  let h: Harness;
  let full: CollectedSync;
  beforeAll(async () => {
    h = await harness();
    full = await collectSync(h.config(), { now: TEST_NOW });
  });
  afterAll(() => h.sandbox.close());

  it('emits every public call exactly once, as the API serves it, tagged not private', () => {
    const expected = [...h.clari.dataset.records('calls')].map(withPrivacy(h.clari));
    expect(expected.length).toBeGreaterThan(1000);
    expect(byId(full.records.clari_copilot_calls!)).toEqual(byId(expected));
    expect(expected.every((call) => call.is_private === false)).toBe(true);
  });

  it.each([
    ['clari_copilot_users', 'users'],
    ['clari_copilot_topics', 'topics'],
    ['clari_copilot_scorecards', 'scorecards'],
    ['clari_copilot_scorecard_templates', 'scorecard_templates'],
  ] as const)('emits %s exactly as the API serves it', (stream, object) => {
    const expected = [...h.clari.dataset.records(object)];
    expect(expected.length).toBeGreaterThan(0);
    expect(full.records[stream]).toEqual(expected.map(asEmitted(stream)));
  });

  it('emits each keyword topic name of GET /topics as a row keyed by the name, from one request without parameters', () => {
    const names = [...h.clari.dataset.records('keyword_topics')];
    expect(names.length).toBeGreaterThan(0);
    expect(full.records.clari_copilot_keyword_topics).toEqual(names.map((topic) => ({ topic })));
    expect(h.requests('/topics').map((query) => [...query])).toEqual([[]]);
  });

  it('reads the whole history as one query for public calls modified before the run started, in pages of 100', () => {
    const calls = h.requests('/calls');
    expect(calls.length).toBe(Math.ceil(full.records.clari_copilot_calls!.length / 100));
    for (const [page, query] of calls.entries()) {
      expect(Object.fromEntries(query)).toEqual({ includePrivate: 'false', includePagination: 'true', sortTime: 'asc', filterModifiedLt: '2026-06-15T12:00:00Z', skip: String(page * 100), limit: '100' });
    }
    expect(h.requests('/scorecard').every((query) => query.get('limit') === '100')).toBe(true);
    expect(h.requests('/call-details')).toHaveLength(0);
  });

  it('bookmarks the calls at the newest last_modified_time the API returned, and warns of no unknown field', () => {
    expect(full.finalState.bookmarks.clari_copilot_calls).toEqual({ replication_key: 'last_modified_time', replication_key_value: newestValue(full.records.clari_copilot_calls, 'last_modified_time') });
    expect(Object.keys(full.finalState.bookmarks)).toEqual(['clari_copilot_calls']);
    expect(full.logs.filter((line) => /WARNING/.test(line))).toEqual([]);
  });

  it('reads the details of every processed call it emits when selected, one request per call', async () => {
    const start = TEST_NOW.minus({ days: 3 });
    const run = await collectSync(h.config({ start_date: start.toISO() }), { now: TEST_NOW, catalog: select('clari_copilot_calls', 'clari_copilot_call_details') });
    const calls = run.records.clari_copilot_calls!;
    const processed = calls.filter(isProcessed);
    expect(processed.length).toBeGreaterThan(20);
    expect(processed.length).toBeLessThan(calls.length);
    expect(byId(run.records.clari_copilot_call_details!)).toEqual(byId(processed.map((call) => asEmitted('clari_copilot_call_details')(h.clari.dataset.callDetails(String(call.id))!))));
    expect(ids(h.requests('/call-details').map((query) => ({ id: query.get('id') })))).toEqual(ids(processed));
    expect(run.finalState.bookmarks.clari_copilot_call_details?.replication_key_value).toBe(newestValue(calls, 'last_modified_time'));
  });

  it.each([
    ['clari_copilot_accounts', '/get-account', 'account', (info: JsonRecord) => [info.account_id]],
    ['clari_copilot_contacts', '/get-contact', 'contact', (info: JsonRecord) => info.contact_ids as unknown[]],
    ['clari_copilot_deals', '/get-deal', 'deal', (info: JsonRecord) => [info.deal_id]],
  ] as const)('reads %s: each CRM id the synced calls name once, with GET %s?id=, leaving out with a debug line one deleted since (404)', async (stream, path, object, named) => {
    const run = await collectSync(h.config({ start_date: TEST_NOW.minus({ days: 20 }).toISO() }), { now: TEST_NOW, catalog: select('clari_copilot_calls', stream), logLevel: 'debug' });
    const calls = run.records.clari_copilot_calls!;
    const namedIds = [...new Set(calls.flatMap((call) => (call.crm_info ? named(call.crm_info as JsonRecord) : [])).map(String))];
    expect(namedIds.length).toBeGreaterThan(5);
    expect(h.requests(path).map((query) => Object.fromEntries(query)).sort(byIdOrder)).toEqual(namedIds.map((id) => ({ id })).sort(byIdOrder));
    const present = namedIds.map((id) => h.clari.dataset.crmRecord(object, id)).filter((record): record is ApiRecord => record !== undefined);
    const records = run.records[stream]!;
    // Each as the API serves it, with the last_modified_time of a call that named it: the stream follows the calls.
    const served = (record: JsonRecord): JsonRecord => ({ ...asEmitted(stream)(record), last_modified_time: null });
    expect(byId(records.map(served))).toEqual(byId(present.map(served)));
    const namers = (record: JsonRecord) => calls.filter((call) => call.crm_info && named(call.crm_info as JsonRecord).includes(String(record.crm_id))).map((call) => call.last_modified_time);
    for (const record of records) expect(namers(record)).toContain(record.last_modified_time);
    const gone = run.logs.filter((line) => line === `DEBUG ${stream}: HTTP 404 on GET /clari-copilot${path}, read as no records`);
    expect(gone).toHaveLength(namedIds.length - present.length);
    expect(run.logs.filter((line) => /WARNING/.test(line))).toEqual([]);
    expect(run.finalState.bookmarks[stream]?.replication_key_value).toBe(newestValue(calls, 'last_modified_time'));
  });

  it('finds CRM records deleted since the calls named them among the sandbox contacts', () => {
    const contactIds = new Set(full.records.clari_copilot_calls!.flatMap((call) => ((call.crm_info as JsonRecord | undefined)?.contact_ids as string[] | undefined) ?? []));
    const deleted = [...contactIds].filter((id) => !h.clari.dataset.crmRecord('contact', id));
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.length).toBeLessThan(contactIds.size / 10);
  });
});

describe('Clari Copilot private calls', () => {
  let h: Harness;
  let run: CollectedSync;
  const start = TEST_NOW.minus({ days: 20 });
  beforeAll(async () => {
    h = await harness();
    run = await collectSync(h.config({ start_date: start.toISO() }, { include_private: true }), { now: TEST_NOW, catalog: select('clari_copilot_calls', 'clari_copilot_call_details') });
  });
  afterAll(() => h.sandbox.close());

  it('with include_private emits public and private calls once each, tagged', () => {
    const all = [...h.clari.dataset.records('calls', { includePrivate: true })].filter((call) => ms(call.last_modified_time) >= start.toMillis() || ms(call.time) >= start.toMillis());
    expect(all.some((call) => h.clari.dataset.isPrivate(String(call.id)))).toBe(true);
    expect(byId(run.records.clari_copilot_calls!)).toEqual(byId(all.map(withPrivacy(h.clari))));
  });

  it('asks for public calls first, then includePrivate=true, and never for the details of a private call', () => {
    const passes = h.requests('/calls').map((query) => query.get('includePrivate'));
    expect(new Set(passes)).toEqual(new Set(['false', 'true']));
    expect(passes).toEqual([...passes].sort());
    const detailed = h.requests('/call-details').map((query) => query.get('id')!);
    expect(detailed.length).toBe(run.records.clari_copilot_calls!.filter((call) => !call.is_private && isProcessed(call)).length);
    expect(detailed.some((id) => h.clari.dataset.isPrivate(id))).toBe(false);
    expect(ids(run.records.clari_copilot_call_details)).toEqual(detailed.sort());
  });
});

describe('Clari Copilot incremental runs', () => {
  let h: Harness;
  let first: CollectedSync;
  let second: CollectedSync;
  const later = TEST_NOW.plus({ days: 2, hours: 5 });
  let lookbackStart: DateTime;
  beforeAll(async () => {
    h = await harness({ historicalCalls: 6000 });
    first = await collectSync(h.config({ start_date: '2026-04-01T00:00:00Z' }), { now: TEST_NOW });
    lookbackStart = at(first.finalState.bookmarks.clari_copilot_calls!.replication_key_value!).minus({ days: 7 });
    h.clock.now = later;
    h.sandbox.traffic['clari-copilot']!.log.length = 0;
    second = await collectSync(h.config({ start_date: '2026-04-01T00:00:00Z' }), { now: later, state: first.finalState });
  });
  afterAll(() => h.sandbox.close());

  const now = () => [...h.clari.dataset.records('calls', { visibleAt: later })];

  it('first walks 30-day windows from start_date, emitting each call once and a STATE after each window', () => {
    const start = at('2026-04-01T00:00:00Z');
    const expected = [...h.clari.dataset.records('calls', { visibleAt: TEST_NOW })].filter((call) => ms(call.last_modified_time) >= start.toMillis() || ms(call.time) >= start.toMillis());
    expect(ids(first.records.clari_copilot_calls)).toEqual(ids(expected));
    const bookmarks = first.events.flatMap((event) => (event.type === 'state' && event.streams.length ? [event.state.bookmarks.clari_copilot_calls!.replication_key_value] : []));
    const windowEnds = ['2026-05-01T00:00:00Z', '2026-05-31T00:00:00Z', '2026-06-15T12:00:00Z'];
    const emittedBefore = (end: string) => first.records.clari_copilot_calls!.filter((call) => ms(call.last_modified_time) < ms(end));
    expect(bookmarks).toEqual(windowEnds.map((end) => newestValue(emittedBefore(end), 'last_modified_time')));
  });

  it('re-reads exactly the calls modified or timed since the bookmark minus the lookback, not the history', () => {
    const expected = now().filter((call) => inside(call.last_modified_time, lookbackStart, later) || inside(call.time, lookbackStart, later));
    expect(byId(second.records.clari_copilot_calls!)).toEqual(byId(expected.map(withPrivacy(h.clari))));
    expect(second.records.clari_copilot_calls!.length).toBeLessThan(first.records.clari_copilot_calls!.length / 2);
    expect(second.finalState.bookmarks.clari_copilot_calls!.replication_key_value).toBe(newestValue(second.records.clari_copilot_calls, 'last_modified_time'));
  });

  it('sends one query on modified time and one on call time for what was modified before the lookback', () => {
    const queries = h.requests('/calls').filter((query) => query.get('skip') === '0').map((query) => Object.fromEntries(query));
    expect(queries).toEqual([
      expect.objectContaining({ filterModifiedGt: lookbackStart.minus(1).toISO(), filterModifiedLt: '2026-06-17T17:00:00Z' }),
      expect.objectContaining({ filterTimeGt: lookbackStart.minus(1).toISO(), filterTimeLt: '2026-06-17T17:00:00Z', filterModifiedLt: formatInstant(lookbackStart) }),
    ]);
  });

  it.each([
    ['a new call', (call: ApiRecord) => h.clari.dataset.callDetails(String(call.id), { visibleAt: TEST_NOW }) === undefined],
    ['a call whose status changed since the last run', (call: ApiRecord) => ms(call.time) < TEST_NOW.toMillis() && ms(call.last_modified_time) > TEST_NOW.toMillis()],
    ['a call timed inside the lookback but last modified before it', (call: ApiRecord) => inside(call.time, lookbackStart, later) && ms(call.last_modified_time) < lookbackStart.toMillis()],
  ])('catches %s', (_, isCase) => {
    const cases = now().filter(isCase);
    expect(cases.length).toBeGreaterThan(0);
    expect(ids(second.records.clari_copilot_calls!.filter(isCase))).toEqual(ids(cases));
  });

  /** Calls whose fields changed between the runs while their status, and so last_modified_time, did not. */
  const editedBetweenRuns = () => {
    const before = new Map([...h.clari.dataset.records('calls', { visibleAt: TEST_NOW })].map((call) => [call.id, call]));
    return now().filter((call) => before.has(call.id) && call.last_modified_time === before.get(call.id)!.last_modified_time && JSON.stringify(call) !== JSON.stringify(before.get(call.id)));
  };

  it('catches a non-status edit to a call inside the lookback, with its new fields', () => {
    const edited = editedBetweenRuns().filter((call) => ms(call.time) >= lookbackStart.toMillis());
    expect(edited.length).toBeGreaterThan(0);
    expect(edited.every((call) => h.clari.dataset.silentEdits(String(call.id)).some((edit) => edit > TEST_NOW && edit <= later))).toBe(true);
    const emitted = new Map(second.records.clari_copilot_calls!.map((call) => [call.id, call]));
    const before = new Map(first.records.clari_copilot_calls!.map((call) => [call.id, call]));
    for (const call of edited) {
      expect(emitted.get(call.id)).toEqual(withPrivacy(h.clari)(call));
      expect(before.get(call.id)).not.toEqual(emitted.get(call.id));
    }
  });

  it('misses, as the README says, a non-status edit to a call older than the lookback', () => {
    const missed = editedBetweenRuns().filter((call) => ms(call.time) < lookbackStart.toMillis() && ms(call.last_modified_time) < lookbackStart.toMillis());
    expect(missed.length).toBeGreaterThan(0);
    const emitted = new Set(second.records.clari_copilot_calls!.map((call) => call.id));
    expect(missed.filter((call) => emitted.has(call.id))).toEqual([]);
  });
});

describe('Clari Copilot call details on daily runs', () => {
  let h: Harness;
  let first: CollectedSync;
  let second: CollectedSync;
  const nextDay = TEST_NOW.plus({ days: 1 });
  const catalog = select('clari_copilot_calls', 'clari_copilot_call_details');
  beforeAll(async () => {
    h = await harness();
    first = await collectSync(h.config({ start_date: TEST_NOW.minus({ days: 20 }).toISO() }), { now: TEST_NOW, catalog });
    h.clock.now = nextDay;
    h.sandbox.traffic['clari-copilot']!.log.length = 0;
    second = await collectSync(h.config({ start_date: TEST_NOW.minus({ days: 20 }).toISO() }), { now: nextDay, state: first.finalState, catalog });
  });
  afterAll(() => h.sandbox.close());

  it('reads the next day only the details of processed calls new or changed since their details were read', () => {
    const read = new Map(first.records.clari_copilot_call_details!.map((details) => [details.id, details.last_modified_time]));
    const reread = second.records.clari_copilot_calls!;
    const needed = reread.filter((call) => isProcessed(call) && read.get(call.id) !== call.last_modified_time);
    expect(needed.length).toBeGreaterThan(0);
    // Most of what the 7-day lookback re-reads was detailed yesterday, and costs nothing today.
    expect(reread.filter(isProcessed).length).toBeGreaterThan(4 * needed.length);
    expect(ids(h.requests('/call-details').map((query) => ({ id: query.get('id') })))).toEqual(ids(needed));
    expect(byId(second.records.clari_copilot_call_details!)).toEqual(byId(needed.map((call) => asEmitted('clari_copilot_call_details')(h.clari.dataset.callDetails(String(call.id), { visibleAt: nextDay })!))));
  });

  it('keeps in the bookmark, per call, the last_modified_time whose details were read, only inside the next lookback', () => {
    const bookmark = second.finalState.bookmarks.clari_copilot_call_details!;
    // A child's bookmark follows the newest parent the server showed, as its parent's does.
    const newest = newestValue(second.records.clari_copilot_calls, 'last_modified_time')!;
    expect(bookmark.replication_key_value).toBe(newest);
    const versions = bookmark.parent_versions as Record<string, string>;
    const horizon = DateTime.fromISO(newest).minus({ days: 7 });
    const expected = [...first.records.clari_copilot_call_details!, ...second.records.clari_copilot_call_details!].filter((details) => ms(details.last_modified_time) >= horizon.toMillis());
    expect(versions).toEqual(Object.fromEntries(expected.map((details) => [details.id, details.last_modified_time])));
    expect(Object.keys(versions).length).toBeLessThan(first.records.clari_copilot_call_details!.length);
  });
});

describe('Clari Copilot at volume and under faults', () => {
  it('reads a window of more than 10,100 calls completely by splitting it, never paging past skip 10,000', async () => {
    const h = await harness({ historicalCalls: 60_000 });
    try {
      const start = TEST_NOW.minus({ days: 20 });
      const run = await collectSync(h.config({ start_date: start.toISO() }), { now: TEST_NOW, catalog: select('clari_copilot_calls') });
      const expected = [...h.clari.dataset.records('calls')].filter((call) => ms(call.last_modified_time) >= start.toMillis() || ms(call.time) >= start.toMillis());
      expect(expected.length).toBeGreaterThan(10_100);
      expect(ids(run.records.clari_copilot_calls)).toEqual(ids(expected));
      const calls = h.requests('/calls');
      expect(Math.max(...calls.map((query) => Number(query.get('skip'))))).toBeLessThanOrEqual(10_000);
      const modifiedStarts = new Set(calls.map((query) => query.get('filterModifiedGt')).filter(Boolean));
      expect(modifiedStarts.size).toBeGreaterThan(1);
    } finally {
      await h.sandbox.close();
    }
  });

  it('survives 502 bursts, asking for smaller pages once they repeat', async () => {
    const h = await harness({ flaky502Rate: 0.02 });
    try {
      const run = await collectSync(h.config(), { now: TEST_NOW, catalog: select('clari_copilot_calls', 'clari_copilot_scorecards') });
      expect(ids(run.records.clari_copilot_calls)).toEqual(ids(h.clari.dataset.records('calls')));
      expect(run.records.clari_copilot_scorecards).toEqual([...h.clari.dataset.records('scorecards')].map(asEmitted('clari_copilot_scorecards')));
      const log = h.sandbox.traffic['clari-copilot']!.log.filter((entry) => entry.path === '/calls');
      expect(log.some((entry) => entry.status === 502)).toBe(true);
      const limits = log.map((entry) => Number(new URLSearchParams(entry.query).get('limit')));
      expect(limits[0]).toBe(100);
      expect(limits.at(-1)).toBeLessThan(100);
      expect(run.logs.some((line) => /asking for pages of (50|25)/.test(line))).toBe(true);
    } finally {
      await h.sandbox.close();
    }
  });

  it('stays within 10 requests per second by default, details included', async () => {
    const h = await harness({}, { limited: true });
    try {
      const run = await collectSync(h.config({ start_date: TEST_NOW.minus({ days: 2 }).toISO() }), {
        now: TEST_NOW,
        catalog: select('clari_copilot_calls', 'clari_copilot_call_details', 'clari_copilot_users'),
      });
      expect(run.records.clari_copilot_call_details!.length).toBeGreaterThan(10);
      const traffic = h.sandbox.traffic['clari-copilot']!;
      expect(traffic.requests).toBeGreaterThan(run.records.clari_copilot_call_details!.length);
      expect(traffic.rateLimited).toBe(0);
      expect(traffic.peakPerSecond).toBeLessThanOrEqual(10);
    } finally {
      await h.sandbox.close();
    }
  });

  it.each([
    ['the documented key scoreCardTemplates', 'scoreCardTemplates'],
    ['the live key scorecardTemplates', 'scorecardTemplates'],
  ] as const)('reads scorecard templates under %s', async (_, key) => {
    const h = await harness({ scorecardTemplatesKey: key });
    try {
      const run = await collectSync(h.config(), { now: TEST_NOW, catalog: select('clari_copilot_scorecard_templates') });
      expect(run.records.clari_copilot_scorecard_templates).toEqual([...h.clari.dataset.records('scorecard_templates')].map(asEmitted('clari_copilot_scorecard_templates')));
    } finally {
      await h.sandbox.close();
    }
  });

  it('fails on refused credentials naming both settings, without printing them', async () => {
    const h = await harness();
    try {
      const sync = collectSync(h.config({}, { api_password: 'not-the-password' }), { now: TEST_NOW, catalog: select('clari_copilot_users') });
      await expect(sync).rejects.toThrow(/Clari Copilot refused the credentials \(HTTP 401 on GET \S*\/users\); check clari_copilot\.api_key and clari_copilot\.api_password/);
      await expect(sync).rejects.not.toThrow(/not-the-password/);
    } finally {
      await h.sandbox.close();
    }
  });
});

describe('Clari Copilot provider declaration', () => {
  it('selects every stream but the per-call details by default, and checks credentials cheaply', () => {
    expect(clariCopilot.streams.filter((s) => s.selectedByDefault !== false).map((s) => s.name)).toEqual([
      'clari_copilot_calls',
      'clari_copilot_users',
      'clari_copilot_topics',
      'clari_copilot_keyword_topics',
      'clari_copilot_scorecards',
      'clari_copilot_scorecard_templates',
    ]);
    expect(clariCopilot.check).toEqual({ method: 'GET', path: '/users' });
    expect(clariCopilot.defaultRequestsPerSecond).toBe(10);
  });

  it('marks both credentials secret and defaults the lookback to seven days', () => {
    const properties = clariCopilot.settings.properties as Record<string, JsonRecord>;
    expect(properties.api_key).toMatchObject({ airbyte_secret: true, sensitive: true });
    expect(properties.api_password).toMatchObject({ airbyte_secret: true, sensitive: true });
    expect(properties.include_private).toMatchObject({ type: 'boolean', default: false });
    expect(Duration.fromISO(String(properties.lookback!.default)).as('days')).toBe(7);
    expect(clariCopilot.settings.required).toEqual(['api_key', 'api_password']);
  });
});

describe('tap-convo with Clari Copilot, end to end', () => {
  it('discovers, syncs and resumes through the real binary', async () => {
    const h = await harness();
    try {
      const dir = tempDir();
      const start = TEST_NOW.minus({ days: 30 });
      const config = h.config({ start_date: start.toISO(), end_date: TEST_NOW.toISO() });
      const configPath = writeJson(dir, 'config.json', config);

      const discovery = await runBinary('tap-convo', ['--config', configPath, '--discover']);
      expect(discovery.code, discovery.stderr).toBe(0);
      const entries = (discovery.lines[0] as unknown as Catalog).streams;
      expect(Object.fromEntries(entries.map((entry) => [entry.tap_stream_id, entry.metadata[0]!.metadata['selected-by-default']]))).toEqual({
        clari_copilot_calls: true,
        clari_copilot_call_details: false,
        clari_copilot_accounts: false,
        clari_copilot_contacts: false,
        clari_copilot_deals: false,
        clari_copilot_users: true,
        clari_copilot_topics: true,
        clari_copilot_keyword_topics: true,
        clari_copilot_scorecards: true,
        clari_copilot_scorecard_templates: true,
      });

      const sync = await runBinary('tap-convo', ['--config', configPath]);
      expect(sync.code, sync.stderr).toBe(0);
      const records = (stream: string) => sync.lines.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record as ApiRecord);
      const expected = [...h.clari.dataset.records('calls')].filter((call) => ms(call.last_modified_time) >= start.toMillis() || ms(call.time) >= start.toMillis());
      expect(ids(records('clari_copilot_calls'))).toEqual(ids(expected));
      expect(records('clari_copilot_users')).toHaveLength(h.clari.dataset.count('users'));
      for (const secret of secretsOf(config)) expect(sync.stdout + sync.stderr).not.toContain(secret);
      const state = sync.lines.filter((m) => m.type === 'STATE').at(-1)!.value as JsonRecord;
      expect(state.bookmarks).toEqual({ clari_copilot_calls: { replication_key: 'last_modified_time', replication_key_value: newestValue(records('clari_copilot_calls'), 'last_modified_time') } });
      // The weekly quota's count travels in the state (the binary's clock is the real one).
      expect((state.quota as Record<string, { requests: number }>).clari_copilot!.requests).toBeGreaterThan(0);

      const later = TEST_NOW.plus({ days: 1 });
      h.clock.now = later;
      const resumed = await runBinary('tap-convo', ['--config', writeJson(dir, 'later.json', { ...config, end_date: later.toISO() }), '--state', writeJson(dir, 'state.json', state)]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const again = resumed.lines.filter((m) => m.type === 'RECORD' && m.stream === 'clari_copilot_calls').map((m) => m.record as ApiRecord);
      const since = TEST_NOW.minus({ days: 7 });
      expect(again.length).toBeGreaterThan(0);
      expect(again.length).toBeLessThan(expected.length);
      for (const call of again) expect(ms(call.last_modified_time) >= since.toMillis() || ms(call.time) >= since.toMillis()).toBe(true);
    } finally {
      await h.sandbox.close();
    }
  });
});
