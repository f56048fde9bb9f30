import { DateTime, Duration } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGongSandbox,
  FULL_CONTENT_SELECTOR,
  GONG_SANDBOX_ACCESS_KEY,
  GONG_SANDBOX_ACCESS_KEY_SECRET,
  GONG_SANDBOX_CLIENT_ID,
  GONG_SANDBOX_CLIENT_SECRET,
  GONG_SANDBOX_REFRESH_TOKEN,
  NO_CALLS_FOUND,
  toGongJson,
  type ContentSelector,
  type GongRecord,
  type GongSandbox,
  type GongSandboxSettings,
} from '../../src/sandbox/gong/index.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';

const START = DateTime.fromISO('2025-03-10T15:30:00Z', { zone: 'utc' });
const BASIC = `Basic ${Buffer.from(`${GONG_SANDBOX_ACCESS_KEY}:${GONG_SANDBOX_ACCESS_KEY_SECRET}`).toString('base64')}`;
const CLIENT_BASIC = `Basic ${Buffer.from(`${GONG_SANDBOX_CLIENT_ID}:${GONG_SANDBOX_CLIENT_SECRET}`).toString('base64')}`;
const INT64_MAX = 9_223_372_036_854_775_807n;

type Harness = OneSandbox<GongSandbox>;

function startGong(settings: GongSandboxSettings = {}, options: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  return startOneSandbox(START, (o) => createGongSandbox(o, settings), options);
}

interface Call {
  status: number;
  text: string;
  json: Record<string, unknown> & { records?: { totalRecords: number; currentPageSize: number; currentPageNumber: number; cursor?: string }; errors?: string[] };
  headers: Headers;
}

async function call(base: string, method: 'GET' | 'POST', path: string, options: { body?: unknown; query?: Record<string, string>; auth?: string | null } = {}): Promise<Call> {
  const url = new URL(base + path);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = {};
  if (options.auth !== null) headers.authorization = options.auth ?? BASIC;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : {}, headers: response.headers };
}

/** Follows cursors to the end; returns every page. POST endpoints get the cursor in the body, GET ones in the query. */
async function allPages(base: string, method: 'GET' | 'POST', path: string, request: { body?: Record<string, unknown>; query?: Record<string, string> }): Promise<Call[]> {
  const pages: Call[] = [];
  let cursor: string | undefined;
  do {
    const page =
      method === 'POST'
        ? await call(base, method, path, { body: { ...request.body, ...(cursor ? { cursor } : {}) } })
        : await call(base, method, path, { query: { ...request.query, ...(cursor ? { cursor } : {}) } });
    expect(page.status).toBe(200);
    pages.push(page);
    // A cursor that never ends would loop forever; no test here needs this many pages.
    expect(pages.length).toBeLessThan(50);
    cursor = page.json.records?.cursor;
  } while (cursor);
  return pages;
}

/** The raw JSON text of a page's record array, to compare byte for byte with the dataset. */
function rawList(page: Call, key: string): string {
  const start = page.text.indexOf(`"${key}":`) + key.length + 3;
  return page.text.slice(start, -1);
}

function list<T = GongRecord>(page: Call, key: string): T[] {
  return page.json[key] as T[];
}

const metaOf = (record: GongRecord) => record.metaData as Record<string, unknown>;

describe('simulated Gong API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGong();
  });
  afterAll(async () => {
    await h.server.close();
  });

  describe('authentication', () => {
    it('refuses a request without credentials with a Gong error body', async () => {
      const response = await call(h.base, 'GET', '/v2/workspaces', { auth: null });
      expect(response.status).toBe(401);
      expect(response.json.requestId).toMatch(/^[0-9a-z]{19}$/);
      expect(response.json.errors).toEqual([expect.stringMatching(/Authorization/)]);
    });

    it('refuses a wrong access key secret and accepts the sandbox key pair', async () => {
      const wrong = `Basic ${Buffer.from(`${GONG_SANDBOX_ACCESS_KEY}:nope`).toString('base64')}`;
      expect((await call(h.base, 'GET', '/v2/workspaces', { auth: wrong })).status).toBe(401);
      expect((await call(h.base, 'GET', '/v2/workspaces')).status).toBe(200);
    });

    it('issues single-use refresh tokens and access tokens that expire on the injected clock', async () => {
      const own = await startGong({ accessTokenLifetime: Duration.fromObject({ hours: 1 }) });
      try {
        const tokenUrl = `${own.base}/oauth2/generate-customer-token`;
        const refresh = (token: string, init: RequestInit = {}) =>
          fetch(`${tokenUrl}?grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`, { method: 'POST', headers: { authorization: CLIENT_BASIC }, ...init });

        const first = await refresh(GONG_SANDBOX_REFRESH_TOKEN);
        expect(first.status).toBe(200);
        const tokens = (await first.json()) as Record<string, unknown>;
        expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 3600, api_base_url_for_customer: own.base });
        expect(tokens.scope).toContain('api:calls:read:extensive');
        expect(tokens.refresh_token).not.toBe(GONG_SANDBOX_REFRESH_TOKEN);

        const reused = await refresh(GONG_SANDBOX_REFRESH_TOKEN);
        expect(reused.status).toBe(400);
        expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });

        // The rotated token works once, sent as a form body with the client in the parameters.
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: GONG_SANDBOX_CLIENT_ID, client_secret: GONG_SANDBOX_CLIENT_SECRET });
        const second = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
        expect(second.status).toBe(200);

        const bearer = `Bearer ${tokens.access_token as string}`;
        expect((await call(own.base, 'GET', '/v2/workspaces', { auth: bearer })).status).toBe(200);
        own.clock.now = own.clock.now.plus({ minutes: 61 });
        const expired = await call(own.base, 'GET', '/v2/workspaces', { auth: bearer });
        expect(expired.status).toBe(401);
        expect(expired.json.errors).toEqual([expect.stringMatching(/expired/)]);
      } finally {
        await own.server.close();
      }
    });

    it('refuses a token request from an unknown client', async () => {
      const wrongClient = `Basic ${Buffer.from(`${GONG_SANDBOX_CLIENT_ID}:wrong`).toString('base64')}`;
      const response = await fetch(`${h.base}/oauth2/generate-customer-token?grant_type=refresh_token&refresh_token=${GONG_SANDBOX_REFRESH_TOKEN}`, { method: 'POST', headers: { authorization: wrongClient } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    });
  });

  describe('workspaces', () => {
    it('lists two or three workspaces without a records envelope', async () => {
      const response = await call(h.base, 'GET', '/v2/workspaces');
      expect(Object.keys(response.json)).toEqual(['requestId', 'workspaces']);
      const workspaces = list(response, 'workspaces');
      expect(workspaces.length).toBeGreaterThanOrEqual(2);
      expect(workspaces.length).toBeLessThanOrEqual(3);
      expect(workspaces).toEqual([...h.provider.dataset.records('workspaces')]);
      for (const workspace of workspaces) expect(workspace.id).toMatch(/^\d{17,19}$/);
    });
  });

  describe('POST /v2/calls/extensive', () => {
    const window = { fromDateTime: START.minus({ days: 80 }).toISO(), toDateTime: START.minus({ days: 5 }).toISO() };

    it('pages 100 calls at a time, with a cursor only while more pages remain, and agrees with the dataset', async () => {
      const pages = await allPages(h.base, 'POST', '/v2/calls/extensive', { body: { filter: window } });
      const expected = [...h.provider.dataset.records('calls', { from: DateTime.fromISO(window.fromDateTime!), to: DateTime.fromISO(window.toDateTime!), contentSelector: {} })];
      expect(expected.length).toBeGreaterThan(200);
      expect(pages).toHaveLength(Math.ceil(expected.length / 100));
      pages.forEach((page, number) => {
        const last = number === pages.length - 1;
        expect(page.json.records).toMatchObject({ totalRecords: expected.length, currentPageNumber: number, currentPageSize: last ? expected.length - 100 * number : 100 });
        expect('cursor' in page.json.records!).toBe(!last);
        expect(rawList(page, 'calls')).toBe(toGongJson(expected.slice(number * 100, number * 100 + 100)));
      });
      // Without a contentSelector each record is metaData only.
      expect(Object.keys(list(pages[0]!, 'calls')[0]!)).toEqual(['metaData']);
    });

    it('filters on the start time: from inclusive, to exclusive, compared as instants whatever the offset', async () => {
      const calls = [...h.provider.dataset.records('calls', { contentSelector: {} })].map(metaOf);
      const pivot = calls[150]!;
      const started = DateTime.fromISO(pivot.started as string, { setZone: true });
      const elsewhere = started.setZone('UTC+5:30').toISO()!;
      expect(elsewhere).not.toBe(pivot.started);

      const from = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: elsewhere } } });
      expect(metaOf(list(from, 'calls')[0]!).id).toBe(pivot.id);
      expect(from.json.records!.totalRecords).toBe(calls.length - 150);

      const to = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: calls[100]!.started, toDateTime: elsewhere } } });
      expect(list(to, 'calls').map((record) => metaOf(record).id)).toEqual(calls.slice(100, 150).map((meta) => meta.id));
    });

    it('answers an empty window or unknown call ids with 404 and Gong’s message', async () => {
      const empty = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: '2020-01-01T00:00:00Z', toDateTime: '2020-02-01T00:00:00Z' } } });
      expect(empty.status).toBe(404);
      expect(empty.json).toEqual({ requestId: expect.any(String), errors: [NO_CALLS_FOUND] });
      const unknown = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { callIds: ['1234567890123456789'] } } });
      expect(unknown.status).toBe(404);
    });

    it('filters by call ids, workspace and primary user', async () => {
      const calls = [...h.provider.dataset.records('calls', { contentSelector: {} })].map(metaOf);
      const chosen = [calls[3]!, calls[77]!, calls[201]!];
      const byId = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { callIds: chosen.map((meta) => meta.id).reverse() } } });
      expect(list(byId, 'calls').map((record) => metaOf(record).id)).toEqual(chosen.map((meta) => meta.id));

      const workspaceId = calls[0]!.workspaceId as string;
      const inWorkspace = await allPages(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { workspaceId } } });
      const workspaceIds = inWorkspace.flatMap((page) => list(page, 'calls').map((record) => metaOf(record).id));
      expect(workspaceIds).toEqual(calls.filter((meta) => meta.workspaceId === workspaceId).map((meta) => meta.id));

      const userId = calls[0]!.primaryUserId as string;
      const byUser = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { primaryUserIds: [userId] } } });
      expect(list(byUser, 'calls').map((record) => metaOf(record).id)).toEqual(calls.filter((meta) => meta.primaryUserId === userId).map((meta) => meta.id));
    });

    it('includes each section only when the content selector asks for it', async () => {
      const filter = { fromDateTime: START.minus({ days: 30 }).toISO() };
      const selector: ContentSelector = { context: 'Basic', exposedFields: { parties: true, content: { topics: true, brief: true }, interaction: { personInteractionStats: true } } };
      const page = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter, contentSelector: selector } });
      for (const record of list(page, 'calls')) {
        expect(Object.keys(record)).toEqual(['metaData', 'context', 'parties', 'content', 'interaction']);
        expect(Object.keys(record.content as object)).toEqual(['topics', 'brief', 'scorecardsAnswers']);
        expect(Object.keys(record.interaction as object)).toEqual(['interactionStats']);
        // Basic context names CRM objects without their fields.
        for (const context of record.context as Array<{ objects: GongRecord[] }>) for (const object of context.objects) expect(object).not.toHaveProperty('fields');
      }
      const media = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter, contentSelector: { exposedFields: { media: true } } } });
      const urls = list(media, 'calls').map((record) => record.media as { audioUrl: string; videoUrl: string | null });
      expect(urls.every((url) => url.audioUrl.startsWith('https://'))).toBe(true);
      // Gong API v2, POST /v2/calls/extensive: media URLs stay valid 8 hours.
      expect(new URL(urls[0]!.audioUrl).searchParams.get('Expires')).toBe(String(START.plus({ hours: 8 }).toSeconds()));
      expect(urls.some((url) => url.videoUrl === null)).toBe(true);
    });

    it('gives CRM context per timing asked for: Now by default, TimeOfCall too on request, only with Extended context', async () => {
      const filter = { fromDateTime: START.minus({ days: 30 }).toISO() };
      const timingsOf = (page: Call) =>
        list(page, 'calls').flatMap((record) => [record, ...((record.parties ?? []) as GongRecord[])].flatMap((holder) => ((holder.context ?? []) as Array<{ objects: GongRecord[] }>).flatMap((c) => c.objects.map((o) => `${o.objectId} ${o.timing}`))));
      const byDefault = timingsOf(await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter, contentSelector: { context: 'Extended', exposedFields: { parties: true } } } }));
      expect(byDefault.length).toBeGreaterThan(0);
      expect(byDefault.every((entry) => entry.endsWith(' Now'))).toBe(true);
      const both = timingsOf(await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter, contentSelector: { context: 'Extended', contextTiming: ['Now', 'TimeOfCall'], exposedFields: { parties: true } } } }));
      expect(both.sort()).toEqual([...byDefault, ...byDefault.map((entry) => entry.replace(/ Now$/, ' TimeOfCall'))].sort());
      const basic = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter, contentSelector: { context: 'Basic', contextTiming: ['TimeOfCall'] } } });
      expect(basic.status).toBe(400);
    });

    it('writes scorecard ids as bare int64 JSON numbers with every digit', async () => {
      const page = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: {}, contentSelector: FULL_CONTENT_SELECTOR } });
      const ids = [...page.text.matchAll(/"answeredScorecardId":(\d+)[,}]/g)].map((match) => BigInt(match[1]!));
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        expect(id > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
        expect(id <= INT64_MAX).toBe(true);
      }
      const expected = [...h.provider.dataset.records('calls')].slice(0, 100);
      const fromDataset = expected.flatMap((record) => ((record.content as { scorecardsAnswers: GongRecord[] }).scorecardsAnswers ?? []).map((answer) => answer.answeredScorecardId));
      expect(fromDataset).toEqual(ids);
    });

    it('serves Gong-style ids and timestamps with varied offsets', async () => {
      const metas = [...h.provider.dataset.records('calls', { contentSelector: {} })].map(metaOf);
      for (const meta of metas) {
        expect(meta.id).toMatch(/^\d{17,20}$/);
        expect(meta.primaryUserId).toMatch(/^\d{17,20}$/);
        expect(DateTime.fromISO(meta.started as string).isValid).toBe(true);
      }
      expect(metas.filter((meta) => BigInt(meta.id as string) > BigInt(Number.MAX_SAFE_INTEGER)).length).toBe(metas.length);
      const offsets = new Set(metas.map((meta) => /([+-]\d\d:\d\d|Z)$/.exec(meta.started as string)![1]));
      expect(offsets.size).toBeGreaterThanOrEqual(4);
      expect(metas.filter((meta) => !(meta.started as string).endsWith('Z')).length / metas.length).toBeGreaterThan(0.5);
    });

    it('refuses a request without a filter and a malformed date', async () => {
      const noFilter = await call(h.base, 'POST', '/v2/calls/extensive', { body: {} });
      expect(noFilter.status).toBe(400);
      expect(noFilter.json.errors).toEqual(['filter: must not be null']);
      const badDate = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: 'last tuesday' } } });
      expect(badDate.status).toBe(400);
    });
  });

  describe('cursors', () => {
    it('expire a few minutes after issue on the injected clock', async () => {
      const own = await startGong({ cursorLifetime: Duration.fromObject({ minutes: 5 }) });
      try {
        const first = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: {} } });
        const cursor = first.json.records!.cursor!;
        const [, payload] = cursor.split('.');
        expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({ pageSize: 100, total: first.json.records!.totalRecords, exp: START.plus({ minutes: 5 }).toSeconds() });
        own.clock.now = START.plus({ minutes: 4 });
        expect((await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: {}, cursor } })).status).toBe(200);
        own.clock.now = START.plus({ minutes: 6 });
        const expired = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: {}, cursor } });
        expect(expired.status).toBe(400);
        expect(expired.json.errors).toEqual(['cursor has expired']);
      } finally {
        await own.server.close();
      }
    });

    it('refuse a garbled cursor and one issued by another endpoint', async () => {
      const garbled = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: {}, cursor: 'not-a-cursor' } });
      expect(garbled.status).toBe(400);
      expect(garbled.json.errors).toEqual(['Failed to verify cursor']);
      const transcriptCursor = (await call(h.base, 'POST', '/v2/calls/transcript', { body: { filter: {} } })).json.records!.cursor!;
      const foreign = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: {}, cursor: transcriptCursor } });
      expect(foreign.json.errors).toEqual(['Failed to verify cursor']);
    });
  });

  describe('processing latency and the clock', () => {
    it('serves a call only once its processing is done, and new calls as the clock moves on', async () => {
      const own = await startGong();
      try {
        const { dataset } = own.provider;
        const later = START.plus({ days: 2 });
        const pending = [...dataset.records('calls', { visibleAt: later, from: START.minus({ hours: 12 }), contentSelector: {} })].map(metaOf);
        const notYet = pending.find((meta) => dataset.callTiming(meta.id as string)!.servedFrom > START)!;
        const timing = dataset.callTiming(notYet.id as string)!;
        expect(timing.servedFrom.diff(timing.started).as('minutes')).toBeGreaterThan(5);

        const before = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: { callIds: [notYet.id] } } });
        expect(before.status).toBe(404);
        own.clock.now = timing.servedFrom;
        const after = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: { callIds: [notYet.id] } } });
        expect(list(after, 'calls').map((record) => metaOf(record).id)).toEqual([notYet.id]);

        const countNow = dataset.count('calls');
        own.clock.now = later;
        expect(dataset.count('calls')).toBeGreaterThan(countNow);
        const future = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: later.toISO() } } });
        expect(future.status).toBe(404);
      } finally {
        await own.server.close();
      }
    });

    it('anchors the data on the creation day, so a restart the same day serves the same calls', async () => {
      const morning = createGongSandbox({ seed: 7, scale: 1, now: () => START.set({ hour: 1 }) });
      const evening = createGongSandbox({ seed: 7, scale: 1, now: () => START.set({ hour: 23 }) });
      expect(morning.dataset.anchor.toISO()).toBe(evening.dataset.anchor.toISO());
      const history = { visibleAt: START.set({ hour: 23 }), to: START.startOf('day'), contentSelector: {} };
      expect(toGongJson([...morning.dataset.records('calls', history)])).toBe(toGongJson([...evening.dataset.records('calls', history)]));
    });
  });

  describe('POST /v2/calls/transcript', () => {
    it('pages transcripts whose speakers are the call’s parties; some calls have none', async () => {
      const pages = await allPages(h.base, 'POST', '/v2/calls/transcript', { body: { filter: { fromDateTime: START.minus({ days: 40 }).toISO() } } });
      const transcripts = pages.flatMap((page) => list<{ callId: string; transcript: Array<{ speakerId: string; sentences: Array<{ start: number; end: number }> }> }>(page, 'callTranscripts'));
      expect(pages.length).toBeGreaterThan(1);
      expect(transcripts.length).toBe(pages[0]!.json.records!.totalRecords);
      expect(transcripts.some((item) => item.transcript.length === 0)).toBe(true);
      expect(rawList(pages[0]!, 'callTranscripts')).toBe(toGongJson([...h.provider.dataset.records('transcripts', { from: START.minus({ days: 40 }) })].slice(0, 100)));

      const sample = transcripts.find((item) => item.transcript.length > 0)!;
      const extensive = await call(h.base, 'POST', '/v2/calls/extensive', { body: { filter: { callIds: [sample.callId] }, contentSelector: { exposedFields: { parties: true } } } });
      const speakerIds = new Set((list(extensive, 'calls')[0]!.parties as Array<{ speakerId: string | null }>).map((party) => party.speakerId));
      for (const monologue of sample.transcript) {
        expect(speakerIds.has(monologue.speakerId)).toBe(true);
        for (const sentence of monologue.sentences) expect(sentence.end).toBeGreaterThan(sentence.start);
      }
    });

    it('refuses more than 100 call ids', async () => {
      const ids = Array.from({ length: 101 }, (_, i) => String(1_000_000_000_000_000_000n + BigInt(i)));
      const response = await call(h.base, 'POST', '/v2/calls/transcript', { body: { filter: { callIds: ids } } });
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([expect.stringContaining('callIds')]);
    });

    it('answers an empty window with 404', async () => {
      const response = await call(h.base, 'POST', '/v2/calls/transcript', { body: { filter: { toDateTime: '2021-01-01T00:00:00Z' } } });
      expect(response.status).toBe(404);
      expect(response.json.errors).toEqual([NO_CALLS_FOUND]);
    });
  });

  describe('GET /v2/calls', () => {
    it('lists the basic calls with the window and cursor in the query', async () => {
      const query = { fromDateTime: START.minus({ days: 70 }).toISO()!, toDateTime: START.toISO()! };
      const pages = await allPages(h.base, 'GET', '/v2/calls', { query });
      const served = pages.flatMap((page) => list(page, 'calls'));
      const expected = [...h.provider.dataset.records('calls', { from: START.minus({ days: 70 }), to: START, contentSelector: {} })].map(metaOf);
      expect(pages.length).toBeGreaterThan(1);
      expect(served).toEqual(expected);
    });
  });

  describe('GET /v2/calls/{id}', () => {
    it('returns one served call, and 404 for an id no served call has', async () => {
      const meta = metaOf([...h.provider.dataset.records('calls', { contentSelector: {} })][42]!);
      const found = await call(h.base, 'GET', `/v2/calls/${meta.id as string}`);
      expect(found.json).toEqual({ requestId: expect.any(String), call: meta });
      expect((await call(h.base, 'GET', '/v2/calls/1234567890123456789')).status).toBe(404);
    });
  });

  describe('GET /v2/users', () => {
    it('pages users with the documented fields, some inactive, avatars only on request', async () => {
      const own = await startGong({ usersPerScaleUnit: 230 });
      try {
        const pages = await allPages(own.base, 'GET', '/v2/users', {});
        expect(pages.map((page) => page.json.records!.currentPageSize)).toEqual([100, 100, 30]);
        const users = pages.flatMap((page) => list(page, 'users'));
        expect(users).toEqual([...own.provider.dataset.records('users')]);
        expect(new Set(users.map((user) => user.id)).size).toBe(230);
        expect(users.some((user) => user.active === false)).toBe(true);
        expect(Object.keys(users[0]!)).toEqual([
          'id', 'emailAddress', 'created', 'active', 'emailAliases', 'trustedEmailAddress', 'firstName', 'lastName', 'title', 'phoneNumber',
          'extension', 'personalMeetingUrls', 'settings', 'managerId', 'meetingConsentPageUrl', 'spokenLanguages',
        ]);
        const withAvatars = await call(own.base, 'GET', '/v2/users', { query: { includeAvatars: 'true' } });
        expect(withAvatars.json.records!.totalRecords).toBe(232);
      } finally {
        await own.server.close();
      }
    });
  });

  describe('GET /v2/flows', () => {
    it('requires flowOwnerEmail', async () => {
      const response = await call(h.base, 'GET', '/v2/flows');
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([expect.stringContaining('flowOwnerEmail')]);
    });

    it('shows a flow as Personal to its owner and Shared to the users it is shared with, next to Company flows', async () => {
      const own = await startGong({ flowsPerScaleUnit: 400 });
      try {
        const users = [...own.provider.dataset.records('users')];
        const activeEmails = users.filter((user) => user.active).map((user) => user.emailAddress as string);
        const views = new Map<string, GongRecord[]>();
        for (const email of activeEmails.filter((email) => own.provider.dataset.flowsFor(email) !== undefined).slice(0, 6)) {
          const pages = await allPages(own.base, 'GET', '/v2/flows', { query: { flowOwnerEmail: email } });
          views.set(email, pages.flatMap((page) => list<GongRecord>(page, 'flows')));
          expect(pages.length).toBeGreaterThan(1);
          expect(views.get(email)).toEqual(own.provider.dataset.flowsFor(email));
        }
        const company = [...own.provider.dataset.records('flows')].filter((flow) => flow.visibility === 'Company').map((flow) => flow.id);
        for (const flows of views.values()) expect(flows.filter((flow) => flow.visibility === 'Company').map((flow) => flow.id)).toEqual(company);
        const visibilitiesById = new Map<unknown, Set<unknown>>();
        for (const flows of views.values()) for (const flow of flows) visibilitiesById.set(flow.id, (visibilitiesById.get(flow.id) ?? new Set()).add(flow.visibility));
        expect([...visibilitiesById.values()].some((seen) => seen.has('Personal') && seen.has('Shared'))).toBe(true);
      } finally {
        await own.server.close();
      }
    });
  });

  describe('refusals and unknown paths', () => {
    it('answers the flows of an active user without a Gong Engage seat with 401 "Access denied"', async () => {
      const users = [...h.provider.dataset.records('users')].filter((user) => user.active);
      const refused = users.filter((user) => h.provider.dataset.flowsFor(String(user.emailAddress)) === undefined);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThan(users.length);
      const response = await call(h.base, 'GET', '/v2/flows', { query: { flowOwnerEmail: String(refused[0]!.emailAddress) } });
      expect(response.status).toBe(401);
      expect(response.json).toEqual({ requestId: expect.any(String), errors: ['Access denied'] });
    });

    it('answers an unknown path with a plain 404, not the empty-result wording', async () => {
      for (const path of ['/v2/nothing-here', '/api/v2/calls/extensive']) {
        const response = await call(h.base, 'POST', path, { body: { filter: {} } });
        expect(response.status).toBe(404);
        expect(response.text).not.toMatch(/found corresponding to the provided filters|for the specified period/);
      }
    });

    it('has private calls (metaData.isPrivate)', () => {
      const calls = [...h.provider.dataset.records('calls', { contentSelector: {} })].map(metaOf);
      const privateCalls = calls.filter((meta) => meta.isPrivate === true).length;
      expect(privateCalls).toBeGreaterThan(0);
      expect(privateCalls).toBeLessThan(calls.length / 10);
    });
  });

  describe('rate limit', () => {
    it('answers bursts beyond 3 requests per second with 429, Retry-After and an errors body', async () => {
      const own = await startGong({}, { unlimited: false });
      try {
        const responses = await Promise.all(Array.from({ length: 6 }, () => call(own.base, 'GET', '/v2/workspaces')));
        const limited = responses.filter((response) => response.status === 429);
        expect(responses.filter((response) => response.status === 200)).toHaveLength(3);
        expect(limited).toHaveLength(3);
        expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(limited[0]!.json).toEqual({ requestId: expect.any(String), errors: ['API request limit exceeded'] });
      } finally {
        await own.server.close();
      }
    });
  });

  describe('determinism and scale', () => {
    const request = { filter: { fromDateTime: START.minus({ days: 20 }).toISO() }, contentSelector: FULL_CONTENT_SELECTOR };

    it('serves the same bytes for the same seed and different data for another seed', async () => {
      const harnesses = await Promise.all([startGong(), startGong(), startGong({}, { seed: 8 })]);
      try {
        const [first, twin, other] = await Promise.all(harnesses.map((harness) => call(harness.base, 'POST', '/v2/calls/extensive', { body: request })));
        expect(first!.status).toBe(200);
        expect(twin!.text).toBe(first!.text);
        expect(rawList(other!, 'calls')).not.toBe(rawList(first!, 'calls'));
      } finally {
        await Promise.all(harnesses.map((harness) => harness.server.close()));
      }
    });

    it('scales record counts with the scale knob', () => {
      const options = (scale: number) => ({ seed: 7, scale, now: () => START });
      const small = createGongSandbox(options(1));
      const large = createGongSandbox(options(4));
      expect(small.dataset.count('users')).toBe(25);
      expect(large.dataset.count('users')).toBe(100);
      const ratio = large.dataset.count('calls') / small.dataset.count('calls');
      expect(ratio).toBeGreaterThan(3.8);
      expect(ratio).toBeLessThan(4.2);
    });

    it('serves a page deep into a million calls quickly, without generating the calls before it', async () => {
      const own = await startGong({ callsPerScaleUnit: 1_000_000 });
      try {
        const deep = START.minus({ days: 30 });
        const began = performance.now();
        const page = await call(own.base, 'POST', '/v2/calls/extensive', { body: { filter: { fromDateTime: deep.toISO() }, contentSelector: { exposedFields: { parties: true } } } });
        expect(performance.now() - began).toBeLessThan(2000);
        expect(page.json.records!.totalRecords).toBeGreaterThan(300_000);
        expect(page.json.records!.currentPageSize).toBe(100);
        expect(own.provider.dataset.count('calls')).toBeGreaterThan(990_000);
        const first = DateTime.fromISO(metaOf(list(page, 'calls')[0]!).started as string);
        expect(first >= deep).toBe(true);
        expect(first.diff(deep).as('seconds')).toBeLessThan(60);
      } finally {
        await own.server.close();
      }
    });
  });

  it('tells a tap config that works against the sandbox', () => {
    expect(h.server.tapConfig().gong).toEqual({ base_url: h.base, access_key: GONG_SANDBOX_ACCESS_KEY, access_key_secret: GONG_SANDBOX_ACCESS_KEY_SECRET });
  });
});
