import { DateTime, Duration } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonRecord } from '../../src/protocol/messages.js';
import {
  createGongSandbox,
  GONG_SANDBOX_CLIENT_ID,
  GONG_SANDBOX_CLIENT_SECRET,
  GONG_SANDBOX_REFRESH_TOKEN,
  GONG_TOKEN_PATH,
  type GongSandbox,
  type GongSandboxSettings,
} from '../../src/sandbox/gong/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import type { SandboxOptions, SandboxRequest, SandboxResponse } from '../../src/sandbox/types.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * Gong, table by table: each case syncs against the simulated API and checks what the tap asked
 * (path, query, body) as well as what it emitted, with the sandbox's own dataset as ground truth.
 */
let running: RunningSandbox | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const START = '2026-05-01T00:00:00Z';

async function gongSandbox(options: { settings?: GongSandboxSettings; now?: () => DateTime; unlimited?: boolean; answer?: (request: SandboxRequest, response: SandboxResponse) => SandboxResponse } = {}) {
  const simulated = (o: SandboxOptions): GongSandbox => {
    const gong = createGongSandbox(o, options.settings);
    const answer = options.answer;
    return answer ? { ...gong, handle: async (request) => answer(request, await gong.handle(request)) } : gong;
  };
  running = await startSandbox({ seed: 3, now: options.now ?? (() => TEST_NOW), unlimited: options.unlimited ?? true, providers: (o) => [simulated(o)] });
  const sandbox = running.providers[0] as GongSandbox;
  const config = running.tapConfig({ start_date: START }) as Record<string, JsonRecord>;
  const requests = () => running!.traffic.gong!.log;
  return { sandbox, config, requests, traffic: running.traffic.gong! };
}

/** Flows the API can show: those visible to some active user (an inactive owner cannot be asked). */
function reachableFlowIds(sandbox: GongSandbox): Set<unknown> {
  const active = [...sandbox.dataset.records('users')].filter((u) => u.active !== false);
  return new Set(active.flatMap((u) => sandbox.dataset.flowsFor(String(u.emailAddress)) ?? []).map((f) => f.id));
}

/** Calls the tap syncs by default: private calls are left out unless `include_private`. */
const isPublic = (call: JsonRecord) => (call.metaData as JsonRecord).isPrivate !== true;
const callIds = (calls: Iterable<JsonRecord>) => [...calls].map((c) => String((c.metaData as JsonRecord).id));

const catalogOf = (...streams: string[]) => ({ streams: streams.map((s) => ({ tap_stream_id: s, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) }) as never;

describe('gong_calls', () => {
  it('asks POST /v2/calls/extensive per window with the content selector, and pages with the body cursor', async () => {
    const { config, requests, sandbox } = await gongSandbox({ settings: { callsPerScaleUnit: 1500 } });
    const run = await collectSync({ ...config, gong: { ...config.gong, requests_per_second: 100 } }, { now: TEST_NOW, catalog: catalogOf('gong_calls') });
    const calls = requests().filter((r) => r.path === '/v2/calls/extensive');
    const first = calls[0]!.body as JsonRecord;
    expect(first).toEqual({
      filter: { fromDateTime: '2026-05-01T00:00:00Z', toDateTime: '2026-05-31T00:00:00Z' },
      contentSelector: {
        context: 'Extended',
        contextTiming: ['Now', 'TimeOfCall'],
        exposedFields: {
          parties: true,
          media: false,
          content: { structure: true, topics: true, trackers: true, trackerOccurrences: true, pointsOfInterest: true, brief: true, outline: true, highlights: true, callOutcome: true, keyPoints: true },
          interaction: { speakers: true, video: true, personInteractionStats: true, questions: true },
          collaboration: { publicComments: true },
        },
      },
    });
    const paged = calls.find((r) => (r.body as JsonRecord).cursor);
    expect(paged, 'a window of more than 100 calls needs a second page').toBeDefined();
    expect((paged!.body as JsonRecord).filter).toBeDefined();
    expect(calls.map((r) => (r.body as { filter: { toDateTime: string } }).filter.toDateTime).at(-1)).toBe(TEST_NOW.toUTC().toISO({ suppressMilliseconds: true }));

    const expected = [...sandbox.dataset.records('calls', { visibleAt: TEST_NOW, from: DateTime.fromISO(START), to: TEST_NOW })].filter(isPublic);
    const got = run.records.gong_calls!;
    expect(got.map((c) => c.id).sort()).toEqual(callIds(expected).sort());
    for (const call of got) {
      expect(call.id).toBe((call.metaData as JsonRecord).id);
      expect(call.started).toBe((call.metaData as JsonRecord).started);
      expect(typeof call.id).toBe('string');
    }
    // The sandbox sends offsets of the users' zones; the records carry the same instants in UTC.
    expect(expected.some((c) => !String((c.metaData as JsonRecord).started).endsWith('Z'))).toBe(true);
    expect(got.every((c) => String(c.started).endsWith('Z'))).toBe(true);
  });

  it('keeps the CRM context of both timings, now and at the time of the call', async () => {
    const { config } = await gongSandbox();
    const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_calls') });
    type CrmObject = { objectType: string; objectId: string; timing: string; fields: Array<{ name: string; value: unknown }> };
    const objects = run.records.gong_calls!.flatMap((call) => ((call.context ?? []) as Array<{ objects: CrmObject[] }>).flatMap((c) => c.objects));
    const callParties = run.records.gong_calls!.flatMap((call) => (call.parties ?? []) as Array<{ context?: Array<{ objects: CrmObject[] }> }>);
    const partyObjects = callParties.flatMap((party) => (party.context ?? []).flatMap((c) => c.objects));
    for (const list of [objects, partyObjects]) {
      expect(new Set(list.map((o) => o.timing))).toEqual(new Set(['Now', 'TimeOfCall']));
      // Each object comes once per timing.
      const timings = (id: string) => list.filter((o) => o.objectId === id).map((o) => o.timing).sort();
      for (const object of list) expect(timings(object.objectId)).toEqual(['Now', 'TimeOfCall']);
    }
    // A deal that moved on since the call shows its stage then and now.
    const stage = (o: CrmObject) => o.fields.find((f) => f.name === 'StageName')?.value;
    const opportunities = objects.filter((o) => o.objectType === 'Opportunity');
    expect(opportunities.some((now) => now.timing === 'Now' && opportunities.some((then) => then.objectId === now.objectId && then.timing === 'TimeOfCall' && stage(then) !== stage(now)))).toBe(true);
  });

  it('keeps every digit of int64 numbers inside calls', async () => {
    const { config } = await gongSandbox();
    const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_calls') });
    const text = JSON.stringify(run.records.gong_calls);
    const longIds = text.match(/"\d{17,19}"/g) ?? [];
    expect(longIds.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/\d{16,}e\+?\d|\d\.\d+e\+1[6-9]/i);
  });

  it('treats the 404 of an empty window as no calls, not an error', async () => {
    const { config, requests } = await gongSandbox();
    const future = TEST_NOW.plus({ days: 1 });
    const run = await collectSync({ ...config, start_date: future.toISO() }, { now: future.plus({ hours: 1 }), catalog: catalogOf('gong_calls', 'gong_transcripts') });
    expect(requests().filter((r) => r.path === '/v2/calls/extensive').map((r) => r.status)).toEqual([404]);
    expect(run.records.gong_calls ?? []).toEqual([]);
    // Nothing returned: the bookmark moves only to the start of the window read, not to the clock.
    expect(run.finalState.bookmarks.gong_calls!.replication_key_value).toBe(future.toUTC().toISO({ suppressMilliseconds: true }));
  });

  it('reads a window again when its cursor expires, losing nothing', async () => {
    // The clock jumps ten minutes once the first page is answered, past the cursor's five-minute life.
    const now = () => ((running?.traffic.gong?.log.length ?? 0) >= 1 ? TEST_NOW.plus({ minutes: 10 }) : TEST_NOW);
    const { config, requests, sandbox } = await gongSandbox({ now, settings: { callsPerScaleUnit: 1500, cursorLifetime: Duration.fromObject({ minutes: 5 }) } });
    const run = await collectSync({ ...config, start_date: '2026-06-01T00:00:00Z' }, { now: TEST_NOW, catalog: catalogOf('gong_calls') });
    expect(requests().some((r) => r.status === 400)).toBe(true);
    expect(run.logs.some((l) => /reading the window again from its first page/.test(l))).toBe(true);
    const expected = callIds([...sandbox.dataset.records('calls', { visibleAt: TEST_NOW, from: DateTime.fromISO('2026-06-01T00:00:00Z'), to: TEST_NOW })].filter(isPublic));
    expect(new Set(run.records.gong_calls!.map((c) => c.id))).toEqual(new Set(expected));
  });

  it('resumes from the bookmark minus the one-day lookback', async () => {
    const { config, requests } = await gongSandbox();
    const state = { bookmarks: { gong_calls: { replication_key: 'started', replication_key_value: '2026-06-10T00:00:00Z' } } };
    const run = await collectSync(config, { now: TEST_NOW, state, catalog: catalogOf('gong_calls') });
    expect((requests()[0]!.body as { filter: unknown }).filter).toEqual({ fromDateTime: '2026-06-09T00:00:00Z', toDateTime: '2026-06-15T12:00:00Z' });
    for (const call of run.records.gong_calls ?? []) expect(DateTime.fromISO(String(call.started)) >= DateTime.fromISO('2026-06-09T00:00:00Z')).toBe(true);
  });

  it('picks up a call that became visible late, inside the lookback', async () => {
    let clock = TEST_NOW;
    const { config, sandbox } = await gongSandbox({ now: () => clock, settings: { callsPerScaleUnit: 1500 } });
    const first = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_calls') });
    const later = TEST_NOW.plus({ hours: 20 });
    clock = later;
    const late = callIds([...sandbox.dataset.records('calls', { visibleAt: later, from: DateTime.fromISO(START), to: TEST_NOW })].filter(isPublic))
      .filter((id) => !first.records.gong_calls!.some((c) => c.id === id));
    expect(late.length, 'the sandbox has calls still processing at the first sync').toBeGreaterThan(0);
    const second = await collectSync(config, { now: later, state: first.finalState, catalog: catalogOf('gong_calls') });
    for (const id of late) expect(second.records.gong_calls!.map((c) => c.id)).toContain(id);
  });
});

describe('gong_transcripts', () => {
  it('asks for 100 call ids at a time: ceil(N/100) requests for N calls', async () => {
    const { config, requests, sandbox } = await gongSandbox({ settings: { callsPerScaleUnit: 1500 } });
    const run = await collectSync({ ...config, start_date: '2026-06-01T00:00:00Z' }, { now: TEST_NOW, catalog: catalogOf('gong_transcripts') });
    const calls = run.records.gong_transcripts!.length;
    const transcriptRequests = requests().filter((r) => r.path === '/v2/calls/transcript');
    const visible = [...sandbox.dataset.records('calls', { visibleAt: TEST_NOW, from: DateTime.fromISO('2026-06-01T00:00:00Z'), to: TEST_NOW, contentSelector: {} })].filter(isPublic).length;
    expect(calls).toBe(visible);
    expect(transcriptRequests.length).toBe(Math.ceil(visible / 100));
    for (const r of transcriptRequests) {
      const ids = (r.body as { filter: { callIds: string[] } }).filter.callIds;
      expect(ids.length).toBeLessThanOrEqual(100);
    }
    for (const t of run.records.gong_transcripts!) expect(t.started).toEqual(expect.any(String));
    expect(run.records.gong_calls ?? []).toEqual([]);
  });
});

describe('gong_calls with gong_transcripts over many windows', () => {
  it('fills transcript batches across 30-day windows: 1,250 calls over 120 days cost ⌈N/100⌉ transcript requests', async () => {
    const history = Duration.fromObject({ days: 120 });
    const { config, requests, sandbox } = await gongSandbox({ settings: { callsPerScaleUnit: 1250, history } });
    const start = TEST_NOW.startOf('day').minus(history);
    const run = await collectSync({ ...config, start_date: start.toISO() }, { now: TEST_NOW, catalog: catalogOf('gong_calls', 'gong_transcripts') });
    const visible = sandbox.dataset.count('calls', { visibleAt: TEST_NOW, from: start, to: TEST_NOW });
    expect(visible).toBeGreaterThanOrEqual(1250);
    // Private calls (about 4 %) are left out, with their transcripts, while gong.include_private is off.
    const open = run.records.gong_calls!.length;
    expect(open).toBeGreaterThan(visible * 0.9);
    expect(run.records.gong_transcripts).toHaveLength(open);
    const transcriptRequests = requests().filter((r) => r.path === '/v2/calls/transcript');
    expect(transcriptRequests.map((r) => (r.body as { filter: { callIds: string[] } }).filter.callIds.length)).toEqual(
      Array.from({ length: Math.ceil(open / 100) }, (_, i) => Math.min(100, open - i * 100)),
    );
    // The calls themselves: five windows, each ending on a partial page, cost at most one request more each than one range.
    const windows = requests().filter((r) => r.path === '/v2/calls/extensive' && !(r.body as { cursor?: string }).cursor);
    expect(windows).toHaveLength(5);
    expect(requests().filter((r) => r.path === '/v2/calls/extensive').length).toBeLessThanOrEqual(Math.ceil(visible / 100) + windows.length - 1);
  });
});

describe('gong_users, gong_workspaces, gong_flows', () => {
  it('pages users with the query cursor and lists workspaces in one request', async () => {
    const { config, requests, sandbox } = await gongSandbox({ settings: { usersPerScaleUnit: 230 } });
    const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_users', 'gong_workspaces') });
    const users = requests().filter((r) => r.path === '/v2/users');
    expect(users.map((r) => new URLSearchParams(r.query).has('cursor'))).toEqual([false, true, true]);
    expect(run.records.gong_users!.map((u) => u.id)).toEqual([...sandbox.dataset.records('users')].map((u) => u.id));
    expect(requests().filter((r) => r.path === '/v2/workspaces')).toHaveLength(1);
    expect(run.records.gong_workspaces!.length).toBe(sandbox.dataset.count('workspaces'));
  });

  it('walks the active users for flows and emits each flow once', async () => {
    const { config, requests, sandbox } = await gongSandbox();
    const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_flows') });
    const owners = requests()
      .filter((r) => r.path === '/v2/flows')
      .map((r) => new URLSearchParams(r.query).get('flowOwnerEmail'));
    const active = [...sandbox.dataset.records('users')].filter((u) => u.active !== false).map((u) => u.emailAddress);
    expect(owners.sort()).toEqual(active.sort());
    const ids = run.records.gong_flows!.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(reachableFlowIds(sandbox));
    expect(run.records.gong_users ?? []).toEqual([]);
  });
});

describe('rate limits and auth', () => {
  it('stays within 3 requests per second by default: no 429 at all', async () => {
    const { config, traffic } = await gongSandbox({ unlimited: false, settings: { usersPerScaleUnit: 8 } });
    await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_users', 'gong_workspaces', 'gong_flows') });
    expect(traffic.requests).toBeGreaterThan(6);
    expect(traffic.rateLimited).toBe(0);
    expect(traffic.peakPerSecond).toBeLessThanOrEqual(3);
  });

  it('obeys 429 with Retry-After and finishes the sync when configured too fast', async () => {
    const { config, traffic, sandbox } = await gongSandbox({ unlimited: false, settings: { usersPerScaleUnit: 8 } });
    const run = await collectSync({ ...config, gong: { ...config.gong, requests_per_second: 20 } }, { now: TEST_NOW, catalog: catalogOf('gong_users', 'gong_flows') });
    expect(traffic.rateLimited).toBeGreaterThan(0);
    expect(new Set(run.records.gong_flows!.map((f) => f.id))).toEqual(reachableFlowIds(sandbox));
  });

  it('refreshes OAuth tokens and saves the rotated single-use refresh token', async () => {
    const { config } = await gongSandbox();
    const base = String(config.gong!.base_url);
    const oauth = { start_date: START, gong: { base_url: base, client_id: GONG_SANDBOX_CLIENT_ID, client_secret: GONG_SANDBOX_CLIENT_SECRET, refresh_token: GONG_SANDBOX_REFRESH_TOKEN, token_url: base + GONG_TOKEN_PATH } };
    const run = await collectSync(oauth, { now: TEST_NOW, catalog: catalogOf('gong_workspaces') });
    expect(run.records.gong_workspaces!.length).toBeGreaterThan(0);
    expect(oauth.gong.refresh_token).not.toBe(GONG_SANDBOX_REFRESH_TOKEN);
    const reused = { ...oauth, gong: { ...oauth.gong, refresh_token: GONG_SANDBOX_REFRESH_TOKEN } };
    await expect(collectSync(reused, { now: TEST_NOW, catalog: catalogOf('gong_workspaces') })).rejects.toThrow(
      /Gong: the token endpoint refused the refresh token \(invalid_grant\); check gong\.client_id, gong\.client_secret and gong\.refresh_token/,
    );
  });

  it('names the settings to check when the access key is wrong', async () => {
    const { config } = await gongSandbox();
    await expect(collectSync({ ...config, gong: { ...config.gong, access_key_secret: 'wrong-secret' } }, { now: TEST_NOW, catalog: catalogOf('gong_workspaces') })).rejects.toThrow(
      'Gong refused the credentials (HTTP 401 on GET /gong/v2/workspaces); check gong.access_key and gong.access_key_secret',
    );
  });
});

describe('Gong 404s', () => {
  const EMPTY_NOTE = /^WARN.*Gong: Gong answered "No calls found" for a window, read as empty; Gong gives credentials that may not see calls the same answer/;
  const future = TEST_NOW.plus({ days: 1 });
  const cases: Array<{ name: string; baseUrl: (base: string) => string; from: DateTime; asked: string | undefined; fails?: (base: string) => RegExp }> = [
    // Three 30-day windows after the sandbox's last call: each answers Gong's empty 404, the note comes once.
    { name: 'empty windows are no calls, with one note', baseUrl: (base) => base, from: future, asked: '/v2/calls/extensive' },
    {
      name: 'a base_url with a wrong path fails, naming the URL',
      baseUrl: (base) => `${base}/api`,
      from: DateTime.fromISO(START),
      asked: '/api/v2/calls/extensive',
      fails: (base) => new RegExp(`^gong_calls: Gong: POST ${base}/api/v2/calls/extensive answered HTTP 404: .*No API endpoint at /api/v2/calls/extensive`),
    },
    {
      name: 'a base_url of another service fails, naming the URL',
      baseUrl: (base) => base.replace(/\/gong$/, '/elsewhere'),
      from: DateTime.fromISO(START),
      asked: undefined,
      fails: (base) => new RegExp(`^gong_calls: Gong: POST ${base.replace(/\/gong$/, '/elsewhere')}/v2/calls/extensive answered HTTP 404`),
    },
  ];
  it.each(cases)('$name', async ({ baseUrl, from, asked, fails }) => {
    const { config, requests } = await gongSandbox();
    const base = String(config.gong!.base_url);
    const now = from.plus({ days: 61 });
    const sync = collectSync({ ...config, start_date: from.toISO(), gong: { ...config.gong, base_url: baseUrl(base) } }, { now, catalog: catalogOf('gong_calls', 'gong_transcripts') });
    if (fails) {
      await expect(sync).rejects.toThrow(fails(base));
      expect(requests().map((r) => [r.path, r.status])).toEqual(asked ? [[asked, 404]] : []);
      return;
    }
    const run = await sync;
    expect(requests().map((r) => [r.path, r.status])).toEqual([0, 1, 2].map(() => [asked, 404]));
    expect(run.records.gong_calls ?? []).toEqual([]);
    expect(run.logs.filter((l) => EMPTY_NOTE.test(l))).toHaveLength(1);
    // Nothing came back, so the bookmark moves only to the start of the last window read.
    expect(run.finalState.bookmarks.gong_calls!.replication_key_value).toBe(from.plus({ days: 60 }).toUTC().toISO({ suppressMilliseconds: true }));
  });
});

describe('gong.include_private', () => {
  const FROM = '2026-06-01T00:00:00Z';
  const cases = [
    { setting: undefined, privateSynced: false },
    { setting: false, privateSynced: false },
    { setting: true, privateSynced: true },
  ];
  it.each(cases)('include_private $setting: private calls and their transcripts synced: $privateSynced', async ({ setting, privateSynced }) => {
    const { config, requests, sandbox } = await gongSandbox({ settings: { callsPerScaleUnit: 1500 } });
    const gong = setting === undefined ? config.gong : { ...config.gong, include_private: setting };
    const run = await collectSync({ ...config, start_date: FROM, gong }, { now: TEST_NOW, catalog: catalogOf('gong_calls', 'gong_transcripts') });
    const visible = [...sandbox.dataset.records('calls', { visibleAt: TEST_NOW, from: DateTime.fromISO(FROM), to: TEST_NOW, contentSelector: {} })];
    const privateIds = callIds(visible.filter((c) => !isPublic(c)));
    expect(privateIds.length, 'the sandbox has private calls').toBeGreaterThan(0);
    const expected = callIds(privateSynced ? visible : visible.filter(isPublic));

    expect(run.records.gong_calls!.map((c) => c.id)).toEqual(expected);
    const asked = requests()
      .filter((r) => r.path === '/v2/calls/transcript')
      .flatMap((r) => (r.body as { filter: { callIds: string[] } }).filter.callIds);
    expect(asked).toEqual(expected);
    expect(run.records.gong_transcripts!.map((t) => t.callId).sort()).toEqual([...expected].sort());
    expect(asked.some((id) => privateIds.includes(id))).toBe(privateSynced);
  });
});

describe('gong_flows of users without Engage', () => {
  // gong-openapi.json documents 401 "Access denied" for GET /v2/flows, which the sandbox answers; Gong's general 403 is tried too.
  const cases = [
    { refusal: 401, answer: undefined },
    { refusal: 403, answer: (request: SandboxRequest, response: SandboxResponse) => (request.path === '/v2/flows' && response.status === 401 ? { ...response, status: 403 } : response) },
  ];
  it.each(cases)('skips the owners whose flows answer $refusal, with one warning that counts them', async ({ refusal, answer }) => {
    const { config, requests, sandbox } = await gongSandbox({ answer });
    const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_flows') });
    const active = [...sandbox.dataset.records('users')].filter((u) => u.active !== false).map((u) => String(u.emailAddress));
    const refused = active.filter((email) => sandbox.dataset.flowsFor(email) === undefined);
    expect(refused.length, 'the sandbox has active users without Engage').toBeGreaterThan(0);

    const flows = requests().filter((r) => r.path === '/v2/flows');
    expect(flows.map((r) => new URLSearchParams(r.query).get('flowOwnerEmail')).sort()).toEqual([...active].sort());
    expect(flows.filter((r) => r.status === refusal).map((r) => new URLSearchParams(r.query).get('flowOwnerEmail')).sort()).toEqual([...refused].sort());
    expect(new Set(run.records.gong_flows!.map((f) => f.id))).toEqual(reachableFlowIds(sandbox));
    const warnings = run.logs.filter((l) => /gong_flows: skipped/.test(l));
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`gong_flows: skipped ${refused.length} of ${active.length} gong_users records, whose requests were refused \\(HTTP ${refusal} on GET /gong/v2/flows\\); Gong refuses the flows of users without a Gong Engage seat`))]);
  });

  it('still fails the sync when the users list itself is refused', async () => {
    const { config } = await gongSandbox({ answer: (request, response) => (request.path === '/v2/users' ? { ...response, status: 403 } : response) });
    await expect(collectSync(config, { now: TEST_NOW, catalog: catalogOf('gong_flows') })).rejects.toThrow(/Gong denied access \(HTTP 403 on GET \/gong\/v2\/users\)/);
  });
});
