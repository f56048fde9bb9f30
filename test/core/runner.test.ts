import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_DIR, planStreams, type Catalog } from '../../src/core/catalog.js';
import type { ProviderDefinition, StreamDefinition } from '../../src/core/definitions.js';
import type { SyncEvent } from '../../src/core/events.js';
import { runSync } from '../../src/core/runner.js';
import { formatInstant, type SingerState } from '../../src/core/state.js';
import { bearerAuth } from '../../src/http/auth.js';
import { cursorInQuery } from '../../src/pagination/index.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { memoryLogger } from '../helpers/logger.js';

/**
 * A toy API: 30 items, one every 6 hours from 2026-01-01, 4 per page, each with 2 notes; items
 * can be filtered by [from, to) and notes are fetched for several item ids at once.
 */
const EPOCH = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const NOW = EPOCH.plus({ days: 10 });
let items = Array.from({ length: 30 }, (_, i) => ({ id: `i${i}`, at: formatInstant(EPOCH.plus({ hours: 6 * i })), owner: `o${i % 3}`, extra: 'x' }));
let requests: URL[] = [];
/** Cursor requests answered before one is refused as expired; undefined: none expires. */
let expireCursorAfter: number | undefined;
/** Holds the notes answer for `item` until a notes request for `until` arrives (or a second passes); `log` records the order. */
let holdNotes: { item: string; until: string; log: string[]; release?: () => void } | undefined;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://toy');
    requests.push(url);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/items') {
      const from = url.searchParams.get('from');
      const to = url.searchParams.get('to');
      const match = items.filter((it) => (!from || it.at >= from) && (!to || it.at < to));
      const offset = Number(url.searchParams.get('cursor') ?? 0);
      if (url.searchParams.get('cursor') && expireCursorAfter !== undefined && expireCursorAfter-- === 0) {
        expireCursorAfter = undefined;
        return json(400, { error: 'cursor expired' });
      }
      if (!match.length) return json(404, { error: 'nothing' });
      const next = offset + 4 < match.length ? String(offset + 4) : undefined;
      return json(200, { items: match.slice(offset, offset + 4), next });
    }
    if (url.pathname === '/notes') {
      const ids = url.searchParams.getAll('item');
      const answer = () => json(200, { notes: ids.flatMap((id) => [{ id: `${id}-a`, item: id }, { id: `${id}-b`, item: id }]) });
      if (!holdNotes) return answer();
      const hold = holdNotes;
      hold.log.push(`start ${ids.join()}`);
      if (ids.includes(hold.until)) hold.release?.();
      if (!ids.includes(hold.item)) return answer();
      const timer = setTimeout(() => hold.release?.(), 1_000);
      hold.release = () => {
        clearTimeout(timer);
        hold.release = undefined;
        hold.log.push(`end ${hold.item}`);
        answer();
      };
      return;
    }
    if (url.pathname === '/owners') return json(200, { owners: items.map((it) => ({ id: it.owner })) });
    json(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mkdirSync(`${CATALOG_DIR}toy`, { recursive: true });
  const schema = (properties: JsonRecord) => JSON.stringify({ type: 'object', properties });
  writeFileSync(`${CATALOG_DIR}toy/items.json`, schema({ id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, owner: { type: 'string' }, extra: { type: 'string' } }));
  writeFileSync(`${CATALOG_DIR}toy/notes.json`, schema({ id: { type: 'string' }, item: { type: 'string' } }));
  writeFileSync(`${CATALOG_DIR}toy/comments.json`, schema({ id: { type: 'string' }, item: { type: 'string' } }));
  writeFileSync(`${CATALOG_DIR}toy/remarks.json`, schema({ id: { type: 'string' }, item: { type: 'string' }, at: { type: 'string', format: 'date-time' } }));
  writeFileSync(`${CATALOG_DIR}toy/reviews.json`, schema({ id: { type: 'string' }, item: { type: 'string' }, at: { type: 'string', format: 'date-time' } }));
  writeFileSync(`${CATALOG_DIR}toy/owners.json`, schema({ id: { type: 'string' } }));
  writeFileSync(`${CATALOG_DIR}toy/owner_notes.json`, schema({ id: { type: 'string' }, item: { type: 'string' } }));
});

afterAll(async () => {
  rmSync(`${CATALOG_DIR}toy`, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const streams: StreamDefinition[] = [
  {
    name: 'toy_items',
    primaryKey: ['id'],
    replicationKey: 'at',
    request: ({ window }) => ({ method: 'GET', path: '/items', query: { from: window?.from && formatInstant(window.from), to: window && formatInstant(window.to) } }),
    recordsAt: ['items'],
    incremental: { lookback: () => 'PT12H', windowSize: 'P3D' },
  },
  {
    name: 'toy_notes',
    primaryKey: ['id'],
    parent: { stream: 'toy_items', batchSize: 5 },
    request: ({ parents }) => ({ method: 'GET', path: '/notes', query: { item: parents.map((p) => String(p.id)) } }),
    recordsAt: ['notes'],
    selectedByDefault: false,
  },
  {
    name: 'toy_comments',
    primaryKey: ['id'],
    parent: { stream: 'toy_items', batchSize: 1, concurrency: 2 },
    request: ({ parents }) => ({ method: 'GET', path: '/notes', query: { item: String(parents[0]!.id) } }),
    recordsAt: ['notes'],
    selectedByDefault: false,
  },
  {
    name: 'toy_remarks',
    primaryKey: ['id'],
    replicationKey: 'at',
    parent: { stream: 'toy_items', batchSize: 5 },
    request: ({ parents }) => ({ method: 'GET', path: '/notes', query: { item: parents.map((p) => String(p.id)) } }),
    recordsAt: ['notes'],
    incremental: {},
    transform: (note, { parents }) => ({ ...note, at: parents.find((p) => p.id === note.item)?.at }),
    selectedByDefault: false,
  },
  {
    name: 'toy_reviews',
    primaryKey: ['id'],
    replicationKey: 'at',
    parent: { stream: 'toy_items', batchSize: 1, oncePerVersion: true },
    request: ({ parents }) => ({ method: 'GET', path: '/notes', query: { item: String(parents[0]!.id) } }),
    recordsAt: ['notes'],
    incremental: {},
    selectedByDefault: false,
  },
  { name: 'toy_owners', primaryKey: ['id'], request: () => ({ method: 'GET', path: '/owners' }), recordsAt: ['owners'], distinct: true },
  {
    name: 'toy_owner_notes',
    primaryKey: ['id'],
    parent: { stream: 'toy_items', batchSize: 5, references: (item) => [{ id: item.owner }] },
    request: ({ parents }) => ({ method: 'GET', path: '/notes', query: { item: parents.map((p) => String(p.id)) } }),
    recordsAt: ['notes'],
    selectedByDefault: false,
  },
];

const toy: ProviderDefinition = {
  key: 'toy',
  title: 'Toy',
  defaultBaseUrl: 'http://unused',
  defaultRequestsPerSecond: 1000,
  settings: {},
  streams,
  paginator: cursorInQuery('next', 'cursor'),
  auth: () => bearerAuth('t0ken-value'),
  credentialHint: () => 'check toy.token',
  interpretError: (error) => (error.status === 404 ? 'empty' : error.status === 400 ? 'restart-window' : undefined),
  check: { method: 'GET', path: '/owners' },
};

async function sync(options: { state?: SingerState; catalog?: Catalog; endDate?: string; startDate?: string; recordLimit?: number; activateVersion?: boolean; logger?: ReturnType<typeof memoryLogger> } = {}) {
  requests = [];
  const events: SyncEvent[] = [];
  for await (const event of runSync({
    config: { start_date: options.startDate, end_date: options.endDate, toy: { base_url: baseUrl, request_timeout: 60 } },
    plans: planStreams([toy], options.catalog),
    state: options.state ?? { bookmarks: {} },
    logger: options.logger ?? memoryLogger(),
    now: () => NOW,
    persistConfig: async () => undefined,
    recordLimit: options.recordLimit,
    activateVersion: options.activateVersion,
  })) {
    events.push(event);
  }
  const records = (stream: string) => events.filter((e): e is Extract<SyncEvent, { type: 'record' }> => e.type === 'record' && e.stream === stream).map((e) => e.record);
  const states = events.filter((e): e is Extract<SyncEvent, { type: 'state' }> => e.type === 'state');
  return { events, records, states, final: states.at(-1)!.state };
}

const select = (...names: string[]): Catalog => ({ streams: names.map((n) => ({ tap_stream_id: n, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) as never });

describe('runSync', () => {
  it('walks windows from start_date to the sync start, bookmarking each at the newest record it returned', async () => {
    const run = await sync({ startDate: '2026-01-02T00:00:00Z' });
    expect(run.records('toy_items').map((r) => r.id)).toEqual(items.filter((it) => it.at >= '2026-01-02T00:00:00Z').map((it) => it.id));
    const windows = requests.filter((u) => u.pathname === '/items' && !u.searchParams.has('cursor')).map((u) => [u.searchParams.get('from'), u.searchParams.get('to')]);
    expect(windows).toEqual([
      ['2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z'],
      ['2026-01-05T00:00:00Z', '2026-01-08T00:00:00Z'],
      ['2026-01-08T00:00:00Z', '2026-01-11T00:00:00Z'],
    ]);
    expect(run.states.filter((s) => s.streams.includes('toy_items')).map((s) => s.state.bookmarks.toy_items!.replication_key_value)).toEqual([
      '2026-01-04T18:00:00Z',
      '2026-01-07T18:00:00Z',
      '2026-01-08T06:00:00Z',
    ]);
  });

  it('resumes from the bookmark minus the lookback, and stops at end_date', async () => {
    const run = await sync({ state: { bookmarks: { toy_items: { replication_key: 'at', replication_key_value: '2026-01-06T00:00:00Z' } } }, endDate: '2026-01-07T00:00:00Z' });
    expect(run.records('toy_items').map((r) => r.at)).toEqual(['2026-01-05T12:00:00Z', '2026-01-05T18:00:00Z', '2026-01-06T00:00:00Z', '2026-01-06T06:00:00Z', '2026-01-06T12:00:00Z', '2026-01-06T18:00:00Z']);
    expect(run.final.bookmarks.toy_items!.replication_key_value).toBe('2026-01-06T18:00:00Z');
  });

  it('keeps the bookmark where it was when a window returns nothing, rather than moving it to the clock', async () => {
    const run = await sync({ state: { bookmarks: { toy_items: { replication_key: 'at', replication_key_value: '2026-01-10T00:00:00Z' } } } });
    expect(run.records('toy_items')).toEqual([]);
    expect(run.final.bookmarks.toy_items!.replication_key_value).toBe('2026-01-10T00:00:00Z');
  });

  it('clamps a bookmark in the future to the sync start with a warning, and reads the lookback before it', async () => {
    const logger = memoryLogger();
    const run = await sync({ state: { bookmarks: { toy_items: { replication_key: 'at', replication_key_value: '2099-01-01T00:00:00Z' } } }, logger });
    expect(logger.lines.some((line) => line.includes('toy_items: the state\'s bookmark 2099-01-01T00:00:00Z lies in the future; reading from 2026-01-11T00:00:00Z instead'))).toBe(true);
    const windows = requests.filter((u) => u.pathname === '/items').map((u) => [u.searchParams.get('from'), u.searchParams.get('to')]);
    expect(windows).toEqual([['2026-01-10T12:00:00Z', '2026-01-11T00:00:00Z']]);
    expect(run.final.bookmarks.toy_items!.replication_key_value).toBe('2026-01-11T00:00:00Z');
  });

  it('keeps bookmarks of streams it did not sync', async () => {
    const other = { replication_key: 'x', replication_key_value: '2025-01-01T00:00:00Z' };
    const run = await sync({ state: { bookmarks: { elsewhere: other } }, catalog: select('toy_owners') });
    expect(run.final.bookmarks.elsewhere).toEqual(other);
  });

  it('reads children in batches right after their parents, even when the parent is not selected', async () => {
    const run = await sync({ catalog: select('toy_notes') });
    expect(run.records('toy_items')).toEqual([]);
    expect(run.records('toy_notes')).toHaveLength(60);
    const batches = requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.getAll('item').length);
    expect(batches).toEqual([5, 5, 5, 5, 5, 5]);
    expect(run.final.bookmarks.toy_notes).toBeUndefined();
  });

  it('fills child batches across windows: ceil(N / batch) requests for N parents', async () => {
    const run = await sync({ catalog: select('toy_notes'), startDate: '2026-01-01T00:00:00Z' });
    expect(requests.filter((u) => u.pathname === '/items' && !u.searchParams.has('cursor'))).toHaveLength(4);
    expect(run.records('toy_notes')).toHaveLength(60);
    expect(requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.getAll('item').length)).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it("holds a child's window STATE until the children of that window's parents are emitted", async () => {
    const run = await sync({ catalog: select('toy_items', 'toy_remarks'), startDate: '2026-01-01T00:00:00Z' });
    expect(run.records('toy_remarks')).toHaveLength(60);
    const emitted: string[] = [];
    const remarkBookmarks: string[] = [];
    for (const event of run.events) {
      if (event.type === 'record' && event.stream === 'toy_remarks') emitted.push(String(event.record.at));
      if (event.type !== 'state' || !event.streams.includes('toy_remarks')) continue;
      const bookmark = event.state.bookmarks.toy_remarks!.replication_key_value!;
      remarkBookmarks.push(bookmark);
      // Every parent before the bookmark has had its children emitted.
      const due = items.filter((it) => it.at < bookmark).map((it) => it.at);
      expect(emitted.filter((at) => at < bookmark)).toEqual(due.flatMap((at) => [at, at]));
    }
    expect(remarkBookmarks.at(-1)).toBe('2026-01-10T00:00:00Z');
    // The items' own bookmark still follows every window: its newest item, or the start of a window without one.
    expect(run.states.filter((s) => s.streams.includes('toy_items')).map((s) => s.state.bookmarks.toy_items!.replication_key_value)).toEqual([
      '2026-01-03T18:00:00Z',
      '2026-01-06T18:00:00Z',
      '2026-01-08T06:00:00Z',
      '2026-01-10T00:00:00Z',
    ]);
  });

  it('reads the children of a once-per-version child only for parents new or changed since they were read, keeping the versions inside the lookback', async () => {
    const first = await sync({ catalog: select('toy_reviews'), startDate: '2026-01-01T00:00:00Z', endDate: '2026-01-05T00:00:00Z' });
    expect(requests.filter((u) => u.pathname === '/notes')).toHaveLength(16);
    // The next run starts 12 hours before the bookmark: only what it reads again is kept.
    expect(first.final.bookmarks.toy_reviews).toEqual({ replication_key: 'at', replication_key_value: '2026-01-04T18:00:00Z', parent_versions: { i13: '2026-01-04T06:00:00Z', i14: '2026-01-04T12:00:00Z', i15: '2026-01-04T18:00:00Z' } });
    const original = items;
    items = items.map((it) => (it.id === 'i15' ? { ...it, at: '2026-01-04T19:00:00Z' } : it));
    try {
      const second = await sync({ catalog: select('toy_reviews'), state: first.final });
      const read = requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.get('item'));
      expect(read).toEqual(['i15', ...items.slice(16).map((it) => it.id)]);
      expect(second.records('toy_reviews').map((r) => r.item)).toEqual(read.flatMap((id) => [id, id]));
      expect(second.final.bookmarks.toy_reviews).toEqual({ replication_key: 'at', replication_key_value: '2026-01-10T06:00:00Z', parent_versions: {} });
    } finally {
      items = original;
    }
  });

  it('starts the next child request as soon as the oldest is emitted, not when its whole group is done, keeping parent order', async () => {
    holdNotes = { item: 'i1', until: 'i2', log: [] };
    try {
      const run = await sync({ catalog: select('toy_comments'), endDate: '2026-01-02T00:00:00Z' });
      expect(holdNotes.log.slice(0, 4)).toEqual(['start i0', 'start i1', 'start i2', 'end i1']);
      expect(run.records('toy_comments').map((r) => r.item)).toEqual(['i0', 'i0', 'i1', 'i1', 'i2', 'i2', 'i3', 'i3']);
    } finally {
      holdNotes = undefined;
    }
  });

  it('emits each primary key once for distinct streams', async () => {
    const run = await sync({ catalog: select('toy_owners') });
    expect(run.records('toy_owners')).toEqual([{ id: 'o0' }, { id: 'o1' }, { id: 'o2' }]);
  });

  it('reads each record the parents name once per run, batching the references', async () => {
    const run = await sync({ catalog: select('toy_owner_notes'), startDate: '2026-01-01T00:00:00Z' });
    expect(requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.getAll('item'))).toEqual([['o0', 'o1', 'o2']]);
    expect(run.records('toy_owner_notes').map((r) => r.id)).toEqual(['o0-a', 'o0-b', 'o1-a', 'o1-b', 'o2-a', 'o2-b']);
  });

  it('queues again the references still waiting when their window starts over, so none is lost', async () => {
    // The first window's second page expires while o0, o1, o2 (named on its first page) wait for a batch.
    expireCursorAfter = 0;
    const run = await sync({ catalog: select('toy_owner_notes'), startDate: '2026-01-01T00:00:00Z' });
    expect(requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.getAll('item'))).toEqual([['o0', 'o1', 'o2']]);
    expect(run.records('toy_owner_notes')).toHaveLength(6);
  });

  it('starts a window over when its cursor expires', async () => {
    expireCursorAfter = 0;
    const run = await sync({ catalog: select('toy_items') });
    const ids = run.records('toy_items').map((r) => r.id);
    expect(new Set(ids).size).toBe(30);
    expect(ids.length).toBe(34); // the first page of the restarted window came twice: at least once, never lost
  });

  it("keeps an earlier window's waiting parents when a window starts over, and reads the restarted window's parents once more only if already sent", async () => {
    // Window 1 (12 items) sends two batches and leaves i10, i11 waiting; window 2's second page expires
    // after a batch of i10–i14 went out, with i15 waiting.
    expireCursorAfter = 2;
    const run = await sync({ catalog: select('toy_notes'), startDate: '2026-01-01T00:00:00Z' });
    const batches = requests.filter((u) => u.pathname === '/notes').map((u) => u.searchParams.getAll('item'));
    expect(batches.flat().sort()).toEqual([...items.map((it) => it.id), 'i12', 'i13', 'i14'].sort());
    expect(new Set(run.records('toy_notes').map((r) => r.id)).size).toBe(60);
  });

  it('leaves out fields deselected in the catalog but never keys or replication keys', async () => {
    const catalog: Catalog = {
      streams: [
        {
          tap_stream_id: 'toy_items',
          metadata: [
            { breadcrumb: [], metadata: { selected: true } },
            { breadcrumb: ['properties', 'extra'], metadata: { selected: false } },
            { breadcrumb: ['properties', 'at'], metadata: { selected: false } },
          ],
        },
      ],
    } as never;
    const run = await sync({ catalog });
    expect(Object.keys(run.records('toy_items')[0]!)).toEqual(['id', 'at', 'owner']);
    const schema = run.events.find((e) => e.type === 'schema') as Extract<SyncEvent, { type: 'schema' }>;
    expect(Object.keys(schema.schema.properties as object)).toEqual(['id', 'at', 'owner']);
  });

  it('honours a FULL_TABLE replication method from the catalog', async () => {
    const catalog = { streams: [{ tap_stream_id: 'toy_items', metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': 'FULL_TABLE' } }] }] } as never;
    const run = await sync({ catalog, state: { bookmarks: { toy_items: { replication_key: 'at', replication_key_value: '2026-01-09T00:00:00Z' } } } });
    expect(run.records('toy_items')).toHaveLength(30);
  });

  it('stops each stream after the record limit (--test)', async () => {
    const run = await sync({ catalog: select('toy_items', 'toy_owners'), recordLimit: 1 });
    expect(run.records('toy_items')).toHaveLength(1);
    expect(run.records('toy_owners')).toHaveLength(1);
  });

  it('versions full-table streams and, on their first sync, activates the version before and after', async () => {
    const run = await sync({ catalog: select('toy_owners'), activateVersion: true });
    const kinds = run.events.filter((e) => e.type === 'activate-version' || e.type === 'record').map((e) => e.type);
    expect(kinds).toEqual(['activate-version', 'record', 'record', 'record', 'activate-version']);
    expect(run.events.filter((e) => e.type === 'record').every((e) => (e as { version?: number }).version === NOW.toMillis())).toBe(true);
    expect(run.final.bookmarks.toy_owners).toEqual({ version: NOW.toMillis() });
  });

  it('activates the version of a later full-table sync only once the table is complete, so an interrupted one deletes nothing', async () => {
    const run = await sync({ catalog: select('toy_owners'), activateVersion: true, state: { bookmarks: { toy_owners: { version: 1 } } } });
    const kinds = run.events.filter((e) => e.type === 'activate-version' || e.type === 'record').map((e) => e.type);
    expect(kinds).toEqual(['record', 'record', 'record', 'activate-version']);
    // The new version is in the state before any record, so a kill mid-table still counts as a later sync.
    const firstRecord = run.events.findIndex((e) => e.type === 'record');
    const versionState = run.events.findIndex((e) => e.type === 'state' && e.state.bookmarks.toy_owners?.version === NOW.toMillis());
    expect(versionState).toBeGreaterThanOrEqual(0);
    expect(versionState).toBeLessThan(firstRecord);
  });

  it('does not activate a table cut short by the record limit', async () => {
    const run = await sync({ catalog: select('toy_owners'), activateVersion: true, recordLimit: 1 });
    expect(run.events.filter((e) => e.type === 'activate-version' || e.type === 'record').map((e) => e.type)).toEqual(['activate-version', 'record']);
  });

  it('reports stream status STARTED, RUNNING, COMPLETE in order', async () => {
    const run = await sync({ catalog: select('toy_owners') });
    expect(run.events.filter((e) => e.type === 'stream-status').map((e) => (e as { status: string }).status)).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
  });
});
