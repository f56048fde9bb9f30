import { DateTime, Duration } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { discover, loadSchema, planStreams, publishedSchema, type Catalog } from '../../src/core/catalog.js';
import { fillDefaults } from '../../src/core/config.js';
import type { ProviderDefinition } from '../../src/core/definitions.js';
import type { SyncEvent } from '../../src/core/events.js';
import { absoluteRequest, createProviderClient } from '../../src/core/provider-client.js';
import { runSync } from '../../src/core/runner.js';
import { formatInstant, type SingerState } from '../../src/core/state.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { fourfour, type FourfourConfig } from '../../src/providers/fourfour/provider.js';
import { ENTITY_SETS } from '../../src/providers/fourfour/streams.js';
import { streamNameOf } from '../../src/providers/fourfour/hooks.js';
import {
  createFourfourSandbox,
  FOURFOUR_SANDBOX_PERSONAL_TOKEN,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
  type EntitySetName,
  type FourfourSandbox,
  type FourfourSandboxSettings,
} from '../../src/sandbox/fourfour/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import type { SandboxRequest, SandboxResponse } from '../../src/sandbox/types.js';
import { ajv } from '../../src/util/schema.js';
import { newestValue } from '../helpers/bookmarks.js';
import { memoryLogger } from '../helpers/logger.js';
import { TEST_NOW } from '../helpers/sync.js';

const T0 = TEST_NOW;
const provider = fourfour as ProviderDefinition;
const instant = (value: unknown) => DateTime.fromISO(String(value), { zone: 'utc' });

interface Fixture {
  sandbox: RunningSandbox;
  api: FourfourSandbox;
  /** The tap config; rotated refresh tokens are written back into it, as into a config file. */
  config: JsonRecord & { fourfour: FourfourConfig };
  /** The sandbox's clock, movable by tests. */
  clock: { now: DateTime };
  /** Called before the sandbox answers each request. */
  onRequest?: (request: SandboxRequest) => void;
  /** May replace the sandbox's answer. */
  onAnswer?: (request: SandboxRequest, answer: SandboxResponse) => SandboxResponse;
  log(): RunningSandbox['traffic'][string]['log'];
}

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function startFourfour(settings: FourfourSandboxSettings = {}, credentials?: Partial<FourfourConfig>): Promise<Fixture> {
  const clock = { now: T0 };
  let api!: FourfourSandbox;
  const fixture = { clock } as Fixture;
  const sandbox = await startSandbox({
    seed: 5,
    unlimited: true,
    now: () => clock.now,
    providers: (options) => {
      api = createFourfourSandbox(options, settings);
      const handle = async (request: SandboxRequest) => {
        fixture.onRequest?.(request);
        const answer = await api.handle(request);
        return fixture.onAnswer?.(request, answer) ?? answer;
      };
      return [{ ...api, handle }];
    },
  });
  open.push(sandbox);
  const block = credentials ? { base_url: sandbox.baseUrls.fourfour, ...credentials } : (sandbox.tapConfig().fourfour as FourfourConfig);
  return Object.assign(fixture, {
    sandbox,
    api,
    config: fillDefaults({ fourfour: { ...block, requests_per_second: 1000 } }, [fourfour]),
    log: () => sandbox.traffic.fourfour!.log,
  });
}

const select = (...names: string[]): Catalog => ({ streams: names.map((n) => ({ tap_stream_id: n, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) as never });

async function sync(fixture: Fixture, options: { now: DateTime; state?: SingerState; catalog?: Catalog; activateVersion?: boolean }) {
  const logger = memoryLogger('debug');
  const persisted: JsonRecord[] = [];
  const events: SyncEvent[] = [];
  for await (const event of runSync({
    config: fixture.config,
    plans: planStreams([fourfour], options.catalog),
    state: options.state ?? { bookmarks: {} },
    logger,
    now: () => options.now,
    persistConfig: async (_key, patch) => void persisted.push(patch),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    activateVersion: options.activateVersion,
  })) {
    events.push(event);
  }
  const states = events.filter((e): e is Extract<SyncEvent, { type: 'state' }> => e.type === 'state');
  const records = (stream: string) => events.filter((e): e is Extract<SyncEvent, { type: 'record' }> => e.type === 'record' && e.stream === stream).map((e) => e.record);
  return { events, records, states, final: states.at(-1)!.state, persisted, logs: logger.lines };
}

/** What the sandbox holds for a set at `visibleAt`, in the order the tap reads it: by filter field (then id), or by id. */
function expected(api: FourfourSandbox, entitySet: string, since: string | undefined, visibleAt: DateTime, range: { from?: DateTime; to: DateTime }) {
  // As served: through JSON, where a generated -0 arrives as 0.
  const all = JSON.parse(JSON.stringify([...api.dataset.records(entitySet as EntitySetName, { visibleAt })])) as JsonRecord[];
  if (!since) return all;
  return all
    .filter((r) => (!range.from || instant(r[since]) >= range.from) && instant(r[since]) < range.to)
    .sort((a, b) => instant(a[since]).toMillis() - instant(b[since]).toMillis() || (String(a.id) < String(b.id) ? -1 : 1));
}

/** The query of the first request for each entity set, decoded. */
function firstQueries(fixture: Fixture, since = 0): Map<string, URLSearchParams> {
  const firsts = new Map<string, URLSearchParams>();
  for (const entry of fixture.log().slice(since)) {
    const set = /^\/odata\/([A-Za-z]+)$/.exec(entry.path)?.[1];
    const query = new URLSearchParams(entry.query);
    if (set && !query.has('$skip') && !firsts.has(set)) firsts.set(set, query);
  }
  return firsts;
}

describe('Four/Four against the sandbox', () => {
  it('reads exactly the sandbox records of all 21 sets across an access-token expiry, refreshing once on the 401', async () => {
    const fixture = await startFourfour({ accessTokenLifetime: Duration.fromObject({ minutes: 10 }) });
    const T1 = T0.plus({ minutes: 11 });
    // Premise: nothing is created or updated while the clock jumps, so one view is the truth for every set.
    for (const { entitySet } of ENTITY_SETS) {
      expect([...fixture.api.dataset.records(entitySet as EntitySetName, { visibleAt: T1 })]).toEqual([...fixture.api.dataset.records(entitySet as EntitySetName, { visibleAt: T0 })]);
    }
    // The access token lapses on the sandbox's clock while the tap is half-way through the sets.
    fixture.onRequest = (request) => {
      if (request.path === '/odata/Contacts') fixture.clock.now = T1;
    };

    const run = await sync(fixture, { now: T0 });

    for (const { entitySet, since } of ENTITY_SETS) {
      const records = run.records(streamNameOf(entitySet));
      expect(records.length, entitySet).toBeGreaterThan(0);
      expect(records, entitySet).toEqual(expected(fixture.api, entitySet, since, T1, { to: T0 }));
      const validate = ajv.compile(loadSchema(fourfour, fourfour.streams.find((s) => s.name === streamNameOf(entitySet))!));
      for (const record of records) expect(validate(record), `${entitySet}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    const log = fixture.log();
    const refused = log.findIndex((e) => e.status === 401);
    expect(log.filter((e) => e.status === 401)).toEqual([expect.objectContaining({ path: '/odata/Contacts' })]);
    expect(log[refused + 1]).toMatchObject({ method: 'POST', path: '/oauth/token', status: 200 });
    expect(log[refused + 2]).toMatchObject({ path: '/odata/Contacts', query: log[refused]!.query, status: 200 });
    expect(log.filter((e) => e.path === '/oauth/token')).toHaveLength(2);
    // docs/sources.md#fourfour-authentication: the refresh grant with the client credentials in the form (AMP).
    const form = new URLSearchParams(String(log[refused + 1]!.body));
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'refresh_token', refresh_token: run.persisted[0]!.refresh_token, client_id: 'ff-sandbox-client', client_secret: 'ff-sandbox-client-secret' });
    // Each rotated refresh token was handed over to be saved, and none reached the log.
    expect(run.persisted).toHaveLength(2);
    expect(fixture.config.fourfour.refresh_token).toBe(run.persisted[1]!.refresh_token);
    for (const { refresh_token } of run.persisted) expect(run.logs.join('\n')).not.toContain(String(refresh_token));
    expect(run.logs.join('\n')).not.toMatch(/Bearer|ffat_/);
  });

  it('asks each set for pages of 1000 with Prefer, never $top, filtering and ordering the 16 incremental sets on their field up to the sync start', async () => {
    const fixture = await startFourfour();
    const preferences: Array<string | string[] | undefined> = [];
    fixture.onRequest = (request) => {
      if (request.path.startsWith('/odata/')) preferences.push(request.headers.prefer);
    };
    await sync(fixture, { now: T0 });
    const queries = firstQueries(fixture);
    expect(queries.size).toBe(21);
    for (const { entitySet, since } of ENTITY_SETS) {
      const query = Object.fromEntries(queries.get(entitySet)!);
      expect(query, entitySet).toEqual(since ? { $filter: `${since} lt 2026-06-15T12:00:00Z`, $orderby: since } : {});
    }
    // Next links included: every page is asked for with the preference.
    expect(preferences.length).toBeGreaterThan(21);
    expect(new Set(preferences)).toEqual(new Set(['odata.maxpagesize=1000']));
  });

  it('reads every record of the sets larger than 1000 from a sandbox where $top caps the whole result', async () => {
    const fixture = await startFourfour();
    const sets = [
      { entitySet: 'Fragments', stream: 'fourfour_fragments' },
      { entitySet: 'Participants', stream: 'fourfour_participants' },
      { entitySet: 'ChatMessages', stream: 'fourfour_chat_messages', since: 'created_at' },
    ];
    const run = await sync(fixture, { now: T0, catalog: select(...sets.map((s) => s.stream)) });
    for (const { entitySet, stream, since } of sets) {
      const records = run.records(stream);
      expect(records.length, entitySet).toBeGreaterThan(1000);
      expect(records, entitySet).toEqual(expected(fixture.api, entitySet, since, T0, { to: T0 }));
      // The sandbox pages by its maximum of 100, below the 1000 asked for.
      expect(fixture.log().filter((e) => e.path === `/odata/${entitySet}`), entitySet).toHaveLength(Math.ceil(records.length / 100));
    }
  });

  it('reads only what changed on a second run with the last STATE, and every full-table set again', async () => {
    const fixture = await startFourfour();
    const first = await sync(fixture, { now: T0 });
    const T2 = T0.plus({ days: 3 });
    fixture.clock.now = T2;
    const sent = fixture.log().length;
    const second = await sync(fixture, { now: T2, state: first.final });

    const queries = firstQueries(fixture, sent);
    let updatedAgain = 0;
    for (const { entitySet, since } of ENTITY_SETS) {
      const name = streamNameOf(entitySet);
      const records = second.records(name);
      if (!since) {
        expect(records, entitySet).toEqual(expected(fixture.api, entitySet, since, T2, { to: T2 }));
        continue;
      }
      // The bookmark is the newest value the server returned; the next run starts the five-minute lookback before it.
      const bookmark = newestValue(first.records(name), since)!;
      expect(first.final.bookmarks[name]).toEqual({ replication_key: since, replication_key_value: bookmark });
      expect(second.final.bookmarks[name]).toEqual({ replication_key: since, replication_key_value: newestValue([...first.records(name), ...records], since) });
      const from = instant(bookmark).minus({ minutes: 5 });
      expect(queries.get(entitySet)!.get('$filter')).toBe(`${since} ge ${formatInstant(from)} and ${since} lt 2026-06-18T12:00:00Z`);
      expect(records, entitySet).toEqual(expected(fixture.api, entitySet, since, T2, { from, to: T2 }));
      expect(records.length, entitySet).toBeLessThan(first.records(name).length);
      const before = new Set(first.records(name).map((r) => r.id));
      updatedAgain += records.filter((r) => before.has(r.id)).length;
    }
    // Records updated after the first run come again with their new values; new ones come too.
    expect(updatedAgain).toBeGreaterThan(0);
  });

  it('bookmarks a sorted set after every page, so a killed sync resumes where it stopped', async () => {
    const fixture = await startFourfour({ maxPageSize: 50 });
    const stream = 'fourfour_chat_messages';
    const run = await sync(fixture, { now: T0, catalog: select(stream) });
    const records = run.records(stream);
    const pages = fixture.log().filter((e) => e.path === '/odata/ChatMessages');
    expect(pages.length).toBe(Math.ceil(records.length / 50));

    const values = run.states.map((s) => s.state.bookmarks[stream]!.replication_key_value);
    expect(values).toHaveLength(pages.length + 2); // one per page, the window's end, and the final state
    expect(values.slice(0, pages.length)).toEqual(pages.map((_, i) => records[Math.min(records.length, (i + 1) * 50) - 1]!.created_at));
    expect(values.at(-1)).toBe(records.at(-1)!.created_at);

    // Stopped after page 10: the next run starts the lookback before that page's last record and loses nothing.
    const resumed = await sync(fixture, { now: T0, state: run.states[9]!.state, catalog: select(stream) });
    const from = instant(values[9]).minus({ minutes: 5 });
    expect(resumed.records(stream)).toEqual(records.filter((r) => instant(r.created_at) >= from));
    expect(resumed.records(stream)).toContainEqual(records[499]);
  });

  it.each([
    { annotations: 'odata', nextLinks: 'absolute' },
    { annotations: 'odata', nextLinks: 'relative' },
    { annotations: 'short', nextLinks: 'absolute' },
    { annotations: 'short', nextLinks: 'relative' },
  ] as const)('follows $nextLinks next links spelled the $annotations way', async (settings) => {
    const fixture = await startFourfour({ ...settings, maxPageSize: 100 });
    const run = await sync(fixture, { now: T0, catalog: select('fourfour_fragments', 'fourfour_chat_messages') });
    expect(run.records('fourfour_fragments')).toEqual(expected(fixture.api, 'Fragments', undefined, T0, { to: T0 }));
    expect(run.records('fourfour_chat_messages')).toEqual(expected(fixture.api, 'ChatMessages', 'created_at', T0, { to: T0 }));
    const skips = fixture.log().filter((e) => e.path === '/odata/Fragments').map((e) => new URLSearchParams(e.query).get('$skip'));
    expect(skips).toEqual([null, ...skips.slice(1).map((_, i) => String((i + 1) * 100))]);
    expect(skips.length).toBeGreaterThan(10);
  });

  it('renews the access token shortly before it expires, without waiting for a 401', async () => {
    // 61 s tokens: the tap renews a minute early, so one second later the token counts as expiring.
    const fixture = await startFourfour({ accessTokenLifetime: Duration.fromObject({ seconds: 61 }) });
    const persisted: JsonRecord[] = [];
    const auth = fourfour.auth(fixture.config.fourfour, { persistConfig: async (patch) => void persisted.push(patch), scratch: new Map() });
    const first = await auth.headers();
    expect(await auth.headers()).toEqual(first);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await auth.headers();
    expect(second.authorization).toMatch(/^Bearer ffat_/);
    expect(second).not.toEqual(first);
    expect(fixture.log().map((e) => `${e.path} ${e.status}`)).toEqual(['/oauth/token 200', '/oauth/token 200']);
    expect(persisted.map((p) => p.refresh_token)).toEqual([expect.stringMatching(/^ffrt_/), expect.stringMatching(/^ffrt_/)]);
  });

  it('refuses to go on with a refresh token the server already rotated away, naming the settings to fix', async () => {
    const fixture = await startFourfour();
    await sync(fixture, { now: T0, catalog: select('fourfour_labels') });
    fixture.config.fourfour.refresh_token = FOURFOUR_SANDBOX_REFRESH_TOKEN;
    const failure = sync(fixture, { now: T0, catalog: select('fourfour_labels') });
    await expect(failure).rejects.toThrow(
      'Four/Four: the token endpoint refused the refresh token (invalid_grant); check fourfour.client_id, fourfour.client_secret and fourfour.refresh_token',
    );
    await expect(failure).rejects.not.toThrow(FOURFOUR_SANDBOX_REFRESH_TOKEN);
  });

  it('syncs with an access token alone, never calling the token endpoint', async () => {
    const fixture = await startFourfour({}, { access_token: FOURFOUR_SANDBOX_PERSONAL_TOKEN });
    const run = await sync(fixture, { now: T0, catalog: select('fourfour_labels') });
    expect(run.records('fourfour_labels')).toEqual(expected(fixture.api, 'Labels', undefined, T0, { to: T0 }));
    expect(fixture.log().map((e) => e.path)).toEqual(['/odata/Labels']);
    expect(run.persisted).toEqual([]);
  });

  it('stops on a refused access token with a hint instead of retrying', async () => {
    const fixture = await startFourfour({}, { access_token: 'not-a-valid-token' });
    await expect(sync(fixture, { now: T0, catalog: select('fourfour_labels') })).rejects.toThrow(
      'Four/Four refused the credentials (HTTP 401 on GET /fourfour/odata/Labels); check fourfour.access_token',
    );
    expect(fixture.log()).toHaveLength(1);
  });

  it('wraps the five full-table sets in ACTIVATE_VERSION when asked, and only them', async () => {
    const fixture = await startFourfour();
    const run = await sync(fixture, { now: T0, activateVersion: true, catalog: select('fourfour_labels', 'fourfour_topics') });
    const activations = run.events.filter((e) => e.type === 'activate-version').map((e) => (e as { stream: string }).stream);
    expect(activations).toEqual(['fourfour_labels', 'fourfour_labels']);
    const labels = run.events.filter((e): e is Extract<SyncEvent, { type: 'record' }> => e.type === 'record' && e.stream === 'fourfour_labels');
    expect(labels.every((e) => e.version === T0.toMillis())).toBe(true);
  });

  it('reports a field the schema lacks once, and leaves it out of the records', async () => {
    const fixture = await startFourfour();
    const schema = loadSchema(fourfour, fourfour.streams.find((s) => s.name === 'fourfour_labels')!);
    const { color: _, ...properties } = schema.properties as Record<string, unknown>;
    const catalog = { streams: [{ tap_stream_id: 'fourfour_labels', schema: { ...schema, properties }, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] } as never;
    const run = await sync(fixture, { now: T0, catalog });
    expect(run.records('fourfour_labels').length).toBeGreaterThan(1);
    expect(run.records('fourfour_labels').every((r) => !('color' in r))).toBe(true);
    expect(run.logs.filter((line) => line.includes('"color"'))).toEqual([
      'WARNING fourfour_labels: the API sent field "color", which the schema lacks; it is left out (run --discover after upgrading)',
    ]);
  });

  it('checks credentials with GET /odata/me', async () => {
    const fixture = await startFourfour();
    const client = createProviderClient(provider, fixture.config.fourfour, { logger: memoryLogger() });
    try {
      const answer = await client.send(absoluteRequest(provider, fixture.config.fourfour, fourfour.check));
      expect(answer.body).toMatchObject({ scope: 'api:read', workspace: { id: expect.any(String) } });
    } finally {
      await client.close();
    }
  });
});

describe('Four/Four discovery', () => {
  it('builds schemas from $metadata without spending a token, matching the built-in catalogs', async () => {
    const fixture = await startFourfour();
    const logger = memoryLogger();
    const catalog = await discover([provider], fixture.config, logger);
    expect(catalog.streams).toHaveLength(21);
    for (const entry of catalog.streams) {
      expect(entry.schema, entry.stream).toEqual(publishedSchema(loadSchema(fourfour, fourfour.streams.find((s) => s.name === entry.stream)!)));
    }
    expect(fixture.log().map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(['GET /odata/$metadata 200']);
    expect(logger.lines.filter((l) => l.startsWith('WARNING'))).toEqual([]);
  });

  it('takes fields from the live $metadata over the built-in ones, and says when a filter field is missing', async () => {
    const fixture = await startFourfour();
    fixture.onAnswer = (request, answer) => {
      if (request.path !== '/odata/$metadata') return answer;
      const insight = /<EntityType Name="Insight">[\s\S]*?<\/EntityType>/.exec(String(answer.body))![0];
      const changed = insight.replace('Name="created_at"', 'Name="created"').replace('</EntityType>', '<Property Name="score" Type="Edm.Decimal"/></EntityType>');
      return { ...answer, body: String(answer.body).replace(insight, changed) };
    };
    const logger = memoryLogger();
    const catalog = await discover([provider], fixture.config, logger);
    const insights = catalog.streams.find((s) => s.stream === 'fourfour_insights')!;
    expect((insights.schema.properties as Record<string, unknown>).score).toEqual({ type: ['number', 'null'] });
    expect((insights.schema.properties as Record<string, unknown>).created).toEqual({ type: 'string', format: 'date-time' });
    expect(logger.lines).toContain('WARNING Four/Four: $metadata declares no field created_at on Insights, which fourfour_insights is filtered and bookmarked on');
  });

  it('retries a $metadata answer that fails for a moment, still without a token', async () => {
    const fixture = await startFourfour();
    let failures = 1;
    fixture.onAnswer = (request, answer) => (request.path === '/odata/$metadata' && failures-- > 0 ? { status: 503, headers: { 'retry-after': '0' }, body: { error: { message: 'warming up' } } } : answer);
    const logger = memoryLogger();
    const catalog = await discover([provider], fixture.config, logger);
    expect(catalog.streams).toHaveLength(21);
    expect(fixture.log().map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(['GET /odata/$metadata 503', 'GET /odata/$metadata 200']);
    expect(logger.lines.filter((l) => l.startsWith('WARNING'))).toEqual([expect.stringMatching(/^WARNING Four\/Four: GET \/fourfour\/odata\/\$metadata HTTP 503; retry 1 in 0\.0 s$/)]);
  });

  it('falls back to the built-in schemas with a warning when $metadata cannot be reached', async () => {
    const fixture = await startFourfour();
    await fixture.sandbox.close();
    open.splice(open.indexOf(fixture.sandbox), 1);
    const logger = memoryLogger();
    const catalog = await discover([provider], fixture.config, logger);
    for (const entry of catalog.streams) {
      expect(entry.schema).toEqual(publishedSchema(loadSchema(fourfour, fourfour.streams.find((s) => s.name === entry.stream)!)));
    }
    // Discovery retries once (a second attempt, not the sync's eight), then falls back.
    expect(logger.lines.filter((l) => l.startsWith('WARNING'))).toEqual([
      expect.stringMatching(/^WARNING Four\/Four: GET \/fourfour\/odata\/\$metadata ECONNREFUSED; retry 1 in \d\.\d s$/),
      expect.stringMatching(/^WARNING Four\/Four: live schema discovery failed \(.+ still failing after 2 attempts \(ECONNREFUSED\); try again later\); using the built-in schemas$/),
    ]);
  });
});
