import { DateTime, Duration } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLARI_COPILOT_SANDBOX_API_KEY,
  CLARI_COPILOT_SANDBOX_API_PASSWORD,
  createClariCopilotSandbox,
  type ApiRecord,
  type ClariSandbox,
  type ClariSandboxSettings,
} from '../../src/sandbox/clari-copilot/index.js';
import { CallTimeline, CLASS_COUNT, classRun } from '../../src/sandbox/clari-copilot/timeline.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';

/** A Tuesday afternoon; the dataset is anchored at 2026-03-10T00:00Z. */
const START = DateTime.fromISO('2026-03-10T15:00:00Z', { zone: 'utc' });
const AUTH = { 'X-Api-Key': CLARI_COPILOT_SANDBOX_API_KEY, 'X-Api-Password': CLARI_COPILOT_SANDBOX_API_PASSWORD };
const NOT_PROVIDED = { errorMessage: 'Credentials not provided!, see documentation: https://api-doc.copilot.clari.com' };
const READ_PATHS = ['/calls', '/call-details?id=x', '/users', '/topics', '/v2/topics', '/scorecard', '/scorecard-template'];

type Harness = OneSandbox<ClariSandbox>;

function harness(settings: ClariSandboxSettings = {}, options: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  return startOneSandbox(START, (o) => createClariCopilotSandbox(o, { flaky502Rate: 0, ...settings }), options);
}

async function get(url: string, headers: Record<string, string> = AUTH) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Record<string, any> };
}

/** Follows `pagination.nextPageSkip` from skip 0 until the page that says `hasMore: false`. */
async function readAll(base: string, query = '', records = 'calls', path = '/calls') {
  const found: ApiRecord[] = [];
  const pages: Array<Record<string, any>> = [];
  for (let skip: number | undefined = 0; skip !== undefined; ) {
    const { status, body } = await get(`${base}${path}?${query}${query ? '&' : ''}skip=${skip}`);
    expect(status).toBe(200);
    pages.push(body);
    found.push(...body[records]);
    skip = body.pagination.nextPageSkip;
    expect(pages.length).toBeLessThan(500);
  }
  return { records: found, pages };
}

const ms = (iso: unknown) => DateTime.fromISO(String(iso)).toMillis();
const iso = (millis: number) => DateTime.fromMillis(millis, { zone: 'utc' }).toISO()!;
const ids = (records: Iterable<ApiRecord>) => [...records].map((record) => record.id);
const q = (value: string) => encodeURIComponent(value);

describe('Clari Copilot sandbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.server.close());

  describe('authentication (docs/sources.md#clari-copilot-authentication)', () => {
    it('answers 401 with the observed body when either header is missing, on every read endpoint', async () => {
      for (const path of READ_PATHS) {
        const partial: Array<Record<string, string>> = [{}, { 'X-Api-Key': CLARI_COPILOT_SANDBOX_API_KEY }, { 'X-Api-Password': CLARI_COPILOT_SANDBOX_API_PASSWORD }];
        for (const headers of partial) {
          const { status, body } = await get(`${h.base}${path}`, headers);
          expect(status).toBe(401);
          expect(body).toEqual(NOT_PROVIDED);
        }
      }
    });

    it('answers wrong credentials with a 401 of its own message', async () => {
      const { status, body } = await get(`${h.base}/users`, { ...AUTH, 'X-Api-Password': 'wrong' });
      expect(status).toBe(401);
      expect(body.errorMessage).toMatch(/^Invalid credentials!/);
      expect(body).not.toEqual(NOT_PROVIDED);
    });

    it('accepts the tap config it hands out', async () => {
      const config = h.server.tapConfig().clari_copilot as Record<string, string>;
      expect(config).toEqual({ base_url: h.base, api_key: CLARI_COPILOT_SANDBOX_API_KEY, api_password: CLARI_COPILOT_SANDBOX_API_PASSWORD });
      const { status } = await get(`${config.base_url}/users`, { 'X-Api-Key': config.api_key!, 'X-Api-Password': config.api_password! });
      expect(status).toBe(200);
    });

    it('answers an unknown endpoint 404 and a read or write with another method 405', async () => {
      expect(await get(`${h.base}/update-call`)).toMatchObject({ status: 404, body: { errorMessage: expect.any(String) } });
      const create = await get(`${h.base}/create-call`);
      expect(create).toMatchObject({ status: 405, body: { errorMessage: expect.any(String) } });
      expect(create.headers.get('allow')).toBe('POST');
      const post = await fetch(`${h.base}/calls`, { method: 'POST', headers: AUTH });
      expect(post.status).toBe(405);
    });
  });

  describe('GET /calls: envelope and paging (docs/sources.md#clari-copilot-paging)', () => {
    it('serves 25 calls by default, newest first, with pagination in the fixture key order', async () => {
      const { status, body } = await get(`${h.base}/calls`);
      expect(status).toBe(200);
      expect(Object.keys(body)).toEqual(['calls', 'pagination']);
      expect(body.calls).toHaveLength(25);
      expect(Object.keys(body.pagination)).toEqual(['matched', 'nextPageSkip', 'hasMore']);
      expect(body.pagination).toEqual({ matched: h.provider.dataset.count('calls'), nextPageSkip: 25, hasMore: true });
      const times = body.calls.map((call: ApiRecord) => ms(call.time));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('pages with nextPageSkip to a last page that has hasMore false and no nextPageSkip, serving the dataset exactly', async () => {
      const { records, pages } = await readAll(h.base, 'limit=100');
      expect(records).toEqual([...h.provider.dataset.records('calls')]);
      expect(new Set(ids(records)).size).toBe(records.length);
      const last = pages.at(-1)!.pagination;
      expect(last).toEqual({ matched: records.length, hasMore: false });
      expect(pages.slice(0, -1).every((page) => page.calls.length === 100)).toBe(true);
    });

    it('leaves the pagination object out when includePagination=false', async () => {
      const { body } = await get(`${h.base}/calls?includePagination=false&limit=5`);
      expect(Object.keys(body)).toEqual(['calls']);
      expect(body.calls).toHaveLength(5);
    });

    it('refuses skip and limit outside the spec ranges, or not integers, with 400 {errorMessage}', async () => {
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=2.5', 'skip=-1', 'skip=10001', 'skip=x', 'sortTime=up', 'includePagination=yes']) {
        const { status, body } = await get(`${h.base}/calls?${query}`);
        expect(status, query).toBe(400);
        expect(Object.keys(body)).toEqual(['errorMessage']);
      }
      expect((await get(`${h.base}/calls?skip=10000&limit=100`)).status).toBe(200);
    });

    it('reaches the 10,000 skip ceiling on a dense dataset, and refuses the next page', async () => {
      const dense = await harness({ historicalCalls: 12_000 });
      try {
        const { body } = await get(`${dense.base}/calls?skip=10000&limit=100`);
        expect(body.pagination.matched).toBeGreaterThan(10_100);
        expect(body.calls).toHaveLength(100);
        expect(body.pagination).toMatchObject({ nextPageSkip: 10_100, hasMore: true });
        const beyond = await get(`${dense.base}/calls?skip=${body.pagination.nextPageSkip}&limit=100`);
        expect(beyond.status).toBe(400);
        expect(beyond.body.errorMessage).toMatch(/skip/);
      } finally {
        await dense.server.close();
      }
    });
  });

  describe('GET /calls: records (CLARI-OAS Call)', () => {
    it('omits keys that are null or not applicable, except the requested-only media URLs', async () => {
      const calls = [...h.provider.dataset.records('calls')];
      for (const call of calls) {
        for (const [key, value] of Object.entries(call)) {
          if (value === null) expect(['audio_url', 'video_url']).toContain(key);
        }
        expect(call).toHaveProperty('audio_url', null);
        expect(call.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(call.call_review_page_url).toBe(`https://copilot.clari.com/call/${call.id}`);
      }
      const zoom = calls.filter((call) => call.type === 'ZOOM');
      expect(zoom.length).toBeGreaterThan(0);
      expect(zoom.every((call) => !('source_id' in call) && 'calendar_id' in call)).toBe(true);
      const dialed = calls.filter((call) => ['DIALPAD', 'AIRCALL_RECORDING', 'RINGCENTRAL', 'OUTREACH', 'SALESLOFT', 'TALKDESK', 'RECORDING'].includes(String(call.type)));
      expect(dialed.length).toBeGreaterThan(0);
      expect(dialed.every((call) => typeof call.source_id === 'string' && !('calendar_id' in call))).toBe(true);
      expect(calls.some((call) => 'deal_name' in call && 'crm_info' in call)).toBe(true);
      expect(calls.some((call) => !('deal_name' in call) && !('crm_info' in call))).toBe(true);
    });

    it('carries metrics from processing on, and zeros before', async () => {
      const calls = [...h.provider.dataset.records('calls')];
      const done = calls.find((call) => call.status === 'POST_PROCESSING_DONE')!;
      const scheduled = calls.find((call) => call.status === 'SCHEDULED')!;
      expect((done.metrics as any).call_duration).toBeGreaterThan(0);
      expect(Object.keys(done.metrics as object)).toEqual([
        'talk_listen_ratio',
        'num_questions_asked',
        'num_questions_asked_by_reps',
        'call_duration',
        'total_speak_duration',
        'longest_monologue_duration',
        'longest_monologue_start_time',
        'engaging_questions',
        'categories',
      ]);
      expect(scheduled.metrics).toMatchObject({ call_duration: 0, categories: [] });
      expect(ms(scheduled.time)).toBeGreaterThan(h.clock.now.toMillis());
      expect(ms(scheduled.last_modified_time)).toBeLessThanOrEqual(h.clock.now.toMillis());
    });

    it('adds signed media URLs valid for 4 hours only when asked', async () => {
      const { body } = await get(`${h.base}/calls?filterStatus=POST_PROCESSING_DONE&filterType=ZOOM&includeAudio=true&includeVideo=true&limit=3`);
      const expires = String(h.clock.now.plus({ hours: 4 }).toSeconds());
      for (const call of body.calls) {
        expect(call.audio_url).toMatch(new RegExp(`^https://.+/${call.id}/audio\\.mp3\\?Expires=${expires}&`));
        expect(call.video_url).toMatch(/video\.mp4/);
      }
      const plain = await get(`${h.base}/calls?filterStatus=POST_PROCESSING_DONE&limit=3`);
      expect(plain.body.calls.every((call: ApiRecord) => call.audio_url === null && call.video_url === null)).toBe(true);
    });
  });

  describe('GET /calls: filters and sorting', () => {
    const all = () => [...h.provider.dataset.records('calls')];

    it('filters on time strictly on both sides', async () => {
      const pivot = all()[40]!;
      const t = ms(pivot.time);
      const gt = await readAll(h.base, `limit=100&filterTimeGt=${q(iso(t))}`);
      expect(ids(gt.records)).not.toContain(pivot.id);
      expect(ids(gt.records)).toEqual(ids(all().filter((call) => ms(call.time) > t)));
      const justBefore = await get(`${h.base}/calls?limit=100&filterTimeGt=${q(iso(t - 1))}&filterTimeLt=${q(iso(t + 1))}`);
      expect(ids(justBefore.body.calls)).toEqual([pivot.id]);
      const lt = await get(`${h.base}/calls?limit=100&filterTimeLt=${q(iso(t))}`);
      expect(ids(lt.body.calls)).not.toContain(pivot.id);
      expect(lt.body.pagination.matched).toBe(all().filter((call) => ms(call.time) < t).length);
    });

    it('filters on last_modified_time strictly and sorts by it with sortProcessed', async () => {
      const from = START.minus({ days: 20 }).toMillis();
      const to = START.minus({ days: 3 }).toMillis();
      const expected = all()
        .filter((call) => ms(call.last_modified_time) > from && ms(call.last_modified_time) < to)
        .sort((a, b) => ms(a.last_modified_time) - ms(b.last_modified_time));
      const { records } = await readAll(h.base, `limit=100&sortProcessed=asc&filterModifiedGt=${q(iso(from))}&filterModifiedLt=${q(iso(to))}`);
      expect(records.length).toBeGreaterThan(100);
      expect(records.map((call) => call.last_modified_time)).toEqual(expected.map((call) => call.last_modified_time));
      expect(new Set(ids(records))).toEqual(new Set(ids(expected)));
      const boundary = records[0]!.last_modified_time as string;
      const strict = await get(`${h.base}/calls?limit=100&sortProcessed=asc&filterModifiedGt=${q(boundary)}`);
      expect(strict.body.calls.every((call: ApiRecord) => ms(call.last_modified_time) > ms(boundary))).toBe(true);
      const desc = await get(`${h.base}/calls?limit=100&sortProcessed=desc`);
      const times = desc.body.calls.map((call: ApiRecord) => ms(call.last_modified_time));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('sorts by time ascending or descending', async () => {
      const asc = await get(`${h.base}/calls?sortTime=asc&limit=100&skip=300`);
      expect(ids(asc.body.calls)).toEqual(ids(all().reverse().slice(300, 400)));
    });

    it('takes multi-value filters repeated, with or without brackets, and refuses unknown enum values', async () => {
      const statuses = ['NOBODY_JOINED_CALL', 'BOTJOIN_DENIED'];
      const expected = all().filter((call) => statuses.includes(String(call.status)));
      expect(expected.length).toBeGreaterThan(0);
      for (const name of ['filterStatus', 'filterStatus[]']) {
        const { records } = await readAll(h.base, `limit=100&${statuses.map((s) => `${q(name)}=${s}`).join('&')}`);
        expect(ids(records)).toEqual(ids(expected));
      }
      const { records } = await readAll(h.base, 'limit=100&filterType=GOOGLE_MEET');
      expect(ids(records)).toEqual(ids(all().filter((call) => call.type === 'GOOGLE_MEET')));
      expect((await get(`${h.base}/calls?filterStatus=DONE`)).status).toBe(400);
      expect((await get(`${h.base}/calls?filterType=SKYPE`)).status).toBe(400);
    });

    it('filters by user email, attendee email, topic and duration', async () => {
      const calls = all();
      const email = String((calls[0]!.users as Array<{ userEmail: string }>)[0]!.userEmail);
      const byUser = await readAll(h.base, `limit=100&filterUser=${q(email)}`);
      expect(ids(byUser.records)).toEqual(ids(calls.filter((call) => (call.users as any[]).some((user) => user.userEmail === email))));
      const attendee = calls.flatMap((call) => call.externalParticipants as any[]).find((person) => person.email)!.email as string;
      const byAttendee = await readAll(h.base, `limit=100&filterAttendees[]=${q(attendee)}`);
      expect(byAttendee.records.length).toBeGreaterThan(0);
      expect(byAttendee.records.every((call) => JSON.stringify(call.externalParticipants).includes(attendee))).toBe(true);
      const byTopic = await readAll(h.base, 'limit=100&filterTopics=Security&filterDurationGt=1800');
      expect(ids(byTopic.records)).toEqual(
        ids(calls.filter((call) => (call.metrics as any).call_duration > 1800 && (call.metrics as any).categories.some((c: any) => c.name === 'Security'))),
      );
      expect(byTopic.pages[0]!.pagination.matched).toBe(byTopic.records.length);
      expect((await get(`${h.base}/calls?filterDurationGt=7201`)).status).toBe(400);
    });

    it('leaves private calls out unless includePrivate is true or 1', async () => {
      const { dataset } = h.provider;
      expect(all().every((call) => !dataset.isPrivate(String(call.id)))).toBe(true);
      const withPrivate = [...dataset.records('calls', { includePrivate: true })];
      const privateIds = ids(withPrivate).filter((id) => dataset.isPrivate(String(id)));
      expect(privateIds.length).toBeGreaterThan(0);
      expect(withPrivate.length).toBe(dataset.count('calls') + privateIds.length);
      for (const flag of ['true', '1']) {
        const { body } = await get(`${h.base}/calls?includePrivate=${flag}&limit=1`);
        expect(body.pagination.matched).toBe(withPrivate.length);
      }
      expect((await get(`${h.base}/calls?includePrivate=0&limit=1`)).body.pagination.matched).toBe(dataset.count('calls'));
      expect((await get(`${h.base}/calls?includePrivate=yes`)).status).toBe(400);
    });

    it('parses ISO date-times with any offset, and refuses invalid ones (an unencoded + included)', async () => {
      const utc = await get(`${h.base}/calls?filterTimeGt=${q('2026-03-01T00:00:00Z')}&limit=1`);
      const offset = await get(`${h.base}/calls?filterTimeGt=${q('2026-03-01T01:00:00+0100')}&limit=1`);
      expect(offset.body.pagination).toEqual(utc.body.pagination);
      for (const bad of ['yesterday', '2026-03-01T00:00:00+0000']) {
        const { status, body } = await get(`${h.base}/calls?filterModifiedGt=${bad}`);
        expect(status).toBe(400);
        expect(body.errorMessage).toMatch(/filterModifiedGt/);
      }
    });
  });

  describe('a timeline driven by the injected clock (Clari Copilot OpenAPI, GET /calls filterModifiedGt)', () => {
    it('moves last_modified_time when the status changes', async () => {
      const local = await harness();
      try {
        const scheduled = [...local.provider.dataset.records('calls')].filter((call) => call.status === 'SCHEDULED').at(-1)!;
        local.clock.now = DateTime.fromISO(String(scheduled.time)).plus({ days: 1 });
        const { body } = await get(`${local.base}/call-details?id=${scheduled.id}`);
        expect(body.call.status).not.toBe('SCHEDULED');
        expect(ms(body.call.last_modified_time)).toBeGreaterThan(ms(scheduled.last_modified_time));
        expect(ms(body.call.last_modified_time)).toBeGreaterThan(ms(scheduled.time));
        const changed = await readAll(local.base, `limit=100&filterModifiedGt=${q(String(scheduled.last_modified_time))}`);
        expect(ids(changed.records)).toContain(scheduled.id);
      } finally {
        await local.server.close();
      }
    });

    it('edits fields silently later: the record changes, last_modified_time does not, and a modified-since read misses it', async () => {
      const local = await harness();
      try {
        const { dataset } = local.provider;
        const now = local.clock.now;
        const candidate = [...dataset.records('calls')].find((call) => {
          const edits = dataset.silentEdits(String(call.id));
          return call.status === 'POST_PROCESSING_DONE' && edits.some((at) => at > now && at < now.plus({ days: 10 }));
        })!;
        expect(candidate).toBeDefined();
        const edit = dataset.silentEdits(String(candidate.id)).find((at) => at > now)!;
        local.clock.now = edit.plus({ seconds: 1 });
        const { body } = await get(`${local.base}/calls?filterTimeGt=${q(iso(ms(candidate.time) - 1))}&filterTimeLt=${q(iso(ms(candidate.time) + 1))}`);
        const after = body.calls[0];
        expect(after.id).toBe(candidate.id);
        expect(after.last_modified_time).toBe(candidate.last_modified_time);
        expect(after).not.toEqual(candidate);
        const since = await readAll(local.base, `limit=100&filterModifiedGt=${q(now.toISO()!)}`);
        expect(ids(since.records)).not.toContain(candidate.id);
      } finally {
        await local.server.close();
      }
    });

    it('shows calls made later as the clock passes them, and keeps the data of the day on restart', async () => {
      const before = h.provider.dataset.count('calls');
      const later = h.provider.dataset.count('calls', { visibleAt: START.plus({ days: 2 }) });
      expect(later).toBeGreaterThan(before);
      const restarted = await harness({}, { now: () => START.plus({ hours: 8 }) });
      try {
        const window = `filterTimeLt=${q(START.startOf('day').toISO()!)}&limit=100&skip=200`;
        const [a, b] = await Promise.all([get(`${h.base}/calls?${window}`), get(`${restarted.base}/calls?${window}`)]);
        expect(ids(b.body.calls)).toEqual(ids(a.body.calls));
        expect(h.provider.dataset.anchor.toISO()).toBe('2026-03-10T00:00:00.000Z');
        expect(h.provider.dataset.historyStart.toISO()).toBe('2025-12-10T00:00:00.000Z');
      } finally {
        await restarted.server.close();
      }
    });
  });

  describe('GET /call-details', () => {
    it('serves every Call field plus transcript, summary and live deal stage for a processed call', async () => {
      const call = [...h.provider.dataset.records('calls')].find((c) => c.status === 'POST_PROCESSING_DONE' && 'deal_name' in c)!;
      const { status, body } = await get(`${h.base}/call-details?id=${call.id}`);
      expect(status).toBe(200);
      expect(Object.keys(body)).toEqual(['call']);
      expect(body.call).toMatchObject(call);
      expect(body.call.deal_stage_live).toEqual(expect.any(String));
      expect(body.call.transcript.length).toBeGreaterThan(3);
      expect(Object.keys(body.call.transcript[0])).toEqual(['text', 'start', 'end', 'personId', 'annotations']);
      expect(Object.keys(body.call.summary)).toEqual(['full_summary', 'topics_discussed', 'key_action_items']);
      expect(Array.isArray(body.call.competitor_sentiments)).toBe(true);
      expect(body.call).toEqual(h.provider.dataset.callDetails(String(call.id)));
    });

    it('has no transcript before processing', async () => {
      const call = [...h.provider.dataset.records('calls')].find((c) => c.status === 'SCHEDULED')!;
      const { body } = await get(`${h.base}/call-details?id=${call.id}`);
      expect(body.call).not.toHaveProperty('transcript');
      expect(body.call).not.toHaveProperty('summary');
    });

    it('answers 404 for an unknown id or a call not made yet, and 400 without an id', async () => {
      expect((await get(`${h.base}/call-details?id=00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      const future = [...h.provider.dataset.records('calls', { visibleAt: START.plus({ days: 30 }) })][0]!;
      expect(h.provider.dataset.callDetails(String(future.id))).toBeUndefined();
      const { status, body } = await get(`${h.base}/call-details?id=${future.id}`);
      expect(status).toBe(404);
      expect(body.errorMessage).toContain(String(future.id));
      expect((await get(`${h.base}/call-details`)).status).toBe(400);
    });

    it('serves a private call to whoever knows its id', async () => {
      const privateCall = [...h.provider.dataset.records('calls', { includePrivate: true })].find((c) => h.provider.dataset.isPrivate(String(c.id)))!;
      expect((await get(`${h.base}/call-details?id=${privateCall.id}`)).status).toBe(200);
    });
  });

  describe('GET /users, /topics, /v2/topics', () => {
    it('lists users unpaged with roles, recording flags and managers that exist', async () => {
      const { body } = await get(`${h.base}/users`);
      expect(Object.keys(body)).toEqual(['users']);
      expect(body.users).toEqual([...h.provider.dataset.records('users')]);
      const userIds = new Set(body.users.map((user: ApiRecord) => user.id));
      for (const user of body.users) {
        expect(['REP', 'MANAGER', 'OBSERVER']).toContain(user.role);
        expect(typeof user.is_recording).toBe('boolean');
        if ('manager_id' in user) expect(userIds.has(user.manager_id)).toBe(true);
      }
      expect(body.users.some((user: ApiRecord) => !('manager_id' in user))).toBe(true);
    });

    it('lists keyword topic names on /topics and topic objects on /v2/topics', async () => {
      const v1 = await get(`${h.base}/topics`);
      const v2 = await get(`${h.base}/v2/topics`);
      expect(v1.body.topics.every((topic: unknown) => typeof topic === 'string')).toBe(true);
      expect(v1.body.topics).toEqual(v2.body.topics.filter((topic: ApiRecord) => topic.type === 'KEYWORD').map((topic: ApiRecord) => topic.topic_name));
      for (const topic of v2.body.topics) {
        expect(Object.keys(topic).slice(0, 4)).toEqual(['topic_id', 'topic_name', 'type', 'team_ids']);
        expect(topic.type === 'KEYWORD' ? topic.keyword_topic.trackers.length : topic.custom_topic.status).toBeTruthy();
      }
    });

    it('filters /v2/topics on the hidden modified time, strictly, and shows later edits and new topics as the clock moves', async () => {
      const local = await harness();
      try {
        const { dataset } = local.provider;
        const topics = [...dataset.records('topics')];
        const modified = topics.map((topic) => dataset.topicModifiedAt(String(topic.topic_id))!.toMillis());
        const pivot = [...modified].sort((a, b) => a - b)[3]!;
        const gt = await get(`${local.base}/v2/topics?filterModifiedGt=${q(iso(pivot))}`);
        expect(gt.body.topics).toEqual(topics.filter((_, i) => modified[i]! > pivot));
        const lt = await get(`${local.base}/v2/topics?filterModifiedLt=${q(iso(pivot))}`);
        expect(lt.body.topics).toEqual(topics.filter((_, i) => modified[i]! < pivot));
        expect((await get(`${local.base}/v2/topics?filterModifiedGt=soon`)).status).toBe(400);

        const before = local.clock.now;
        local.clock.now = before.plus({ days: 3 });
        const later = await get(`${local.base}/v2/topics?filterModifiedGt=${q(before.toISO()!)}`);
        expect(later.body.topics.length).toBeGreaterThan(0);
        for (const topic of later.body.topics) {
          const old = topics.find((t) => t.topic_id === topic.topic_id);
          if (old) expect(topic).not.toEqual(old);
        }
        expect(later.body.topics.some((topic: ApiRecord) => !topics.some((t) => t.topic_id === topic.topic_id))).toBe(true);
      } finally {
        await local.server.close();
      }
    });
  });

  describe('GET /scorecard and /scorecard-template', () => {
    it('pages scorecards 50 at a time by default and serves the dataset', async () => {
      const first = await get(`${h.base}/scorecard`);
      expect(first.body.scorecards).toHaveLength(50);
      expect(first.body.pagination).toEqual({ matched: h.provider.dataset.count('scorecards'), nextPageSkip: 50, hasMore: true });
      const { records } = await readAll(h.base, 'limit=100', 'scorecards', '/scorecard');
      expect(records).toEqual([...h.provider.dataset.records('scorecards')]);
      expect(Object.keys(records[0]!)).toEqual(expect.arrayContaining(['id', 'type', 'rep', 'scorer', 'template_id', 'call_id', 'total_score', 'questions_score']));
      expect((await get(`${h.base}/scorecard?limit=101`)).status).toBe(400);
    });

    it('filters scorecards by rep, scorer and the scored call time', async () => {
      const all = [...h.provider.dataset.records('scorecards')];
      const rep = String(all[0]!.rep);
      const byRep = await readAll(h.base, `limit=100&filterRepId=${rep}`, 'scorecards', '/scorecard');
      expect(ids(byRep.records)).toEqual(ids(all.filter((card) => card.rep === rep)));
      const scorer = String(all[0]!.scorer);
      const byScorer = await readAll(h.base, `limit=100&filterScorerId=${scorer}`, 'scorecards', '/scorecard');
      expect(ids(byScorer.records)).toEqual(ids(all.filter((card) => card.scorer === scorer)));
      const callTimes = new Map(ids(h.provider.dataset.records('calls', { includePrivate: true })).map((id, i) => [id, i]));
      const since = START.minus({ days: 10 });
      const recent = await readAll(h.base, `limit=100&filterTimeGt=${q(since.toISO()!)}`, 'scorecards', '/scorecard');
      expect(recent.records.length).toBeGreaterThan(0);
      expect(recent.records.length).toBeLessThan(all.length);
      for (const card of recent.records) {
        expect(callTimes.has(card.call_id)).toBe(true);
        expect(ms(h.provider.dataset.callDetails(String(card.call_id))!.time)).toBeGreaterThan(since.toMillis());
      }
    });

    it('answers templates under the live key scorecardTemplates, or the spec key when set', async () => {
      const { body } = await get(`${h.base}/scorecard-template`);
      expect(Object.keys(body)).toEqual(['scorecardTemplates']);
      expect(body.scorecardTemplates).toEqual([...h.provider.dataset.records('scorecard_templates')]);
      for (const template of body.scorecardTemplates) {
        expect(Object.keys(template)).toEqual(['id', 'customer_id', 'name', 'type', 'questions']);
        expect(template.questions.map((question: ApiRecord) => question.order)).toEqual(template.questions.map((_: unknown, i: number) => String(i + 1)));
      }
      const spec = await harness({ scorecardTemplatesKey: 'scoreCardTemplates' });
      try {
        const other = await get(`${spec.base}/scorecard-template`);
        expect(other.body).toEqual({ scoreCardTemplates: body.scorecardTemplates });
      } finally {
        await spec.server.close();
      }
    });
  });

  describe('limits and failures', () => {
    it('answers a burst beyond 10 requests per second with 429, no Retry-After and {errorMessage}', async () => {
      const limited = await harness({}, { unlimited: false });
      try {
        const responses = await Promise.all(Array.from({ length: 15 }, () => fetch(`${limited.base}/topics`, { headers: AUTH })));
        const refused = responses.filter((response) => response.status === 429);
        expect(refused.length).toBe(5);
        expect(refused[0]!.headers.get('retry-after')).toBeNull();
        expect(await refused[0]!.json()).toEqual({ errorMessage: expect.stringMatching(/rate limit/i) });
      } finally {
        await limited.server.close();
      }
    });

    it('counts requests per week from Sunday 00:00 GMT against the quota', async () => {
      const quota = await harness({ weeklyQuota: 3 });
      try {
        quota.clock.now = DateTime.fromISO('2026-03-14T23:59:59Z', { zone: 'utc' }); // a Saturday
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await get(`${quota.base}/topics`)).status);
        expect(statuses).toEqual([200, 200, 200, 429]);
        expect((await get(`${quota.base}/topics`)).body.errorMessage).toMatch(/Weekly quota/);
        quota.clock.now = DateTime.fromISO('2026-03-15T00:00:00Z', { zone: 'utc' });
        expect((await get(`${quota.base}/topics`)).status).toBe(200);
      } finally {
        await quota.server.close();
      }
    });

    it('fails large pages with 502 far more often than small ones, the same way for the same seed', async () => {
      const statusesOf = async (limit: number) => {
        const flaky = await harness({ flaky502Rate: 0.02 });
        try {
          const statuses: number[] = [];
          for (let i = 0; i < 150; i++) statuses.push((await fetch(`${flaky.base}/topics?limit=${limit}`, { headers: AUTH })).status);
          const failure = await (async () => {
            for (;;) {
              const response = await get(`${flaky.base}/calls?limit=100`);
              if (response.status === 502) return response.body;
            }
          })();
          return { statuses, failure };
        } finally {
          await flaky.server.close();
        }
      };
      const small = await statusesOf(25);
      const large = await statusesOf(100);
      const count502 = (statuses: number[]) => statuses.filter((status) => status === 502).length;
      expect(count502(large.statuses)).toBeGreaterThan(3 * Math.max(1, count502(small.statuses)));
      expect(small.statuses.every((status) => status === 200 || status === 502)).toBe(true);
      expect(large.failure).toEqual({ message: 'Internal server error' });
      expect((await statusesOf(100)).statuses).toEqual(large.statuses);
    });
  });

  describe('determinism and scale', () => {
    it('serves the same bytes for the same seed and different data for another', async () => {
      const twin = await harness();
      const other = await harness({}, { seed: 8 });
      try {
        for (const path of ['/calls?limit=100&includePrivate=true', '/users', '/scorecard', '/v2/topics', '/call-details?id=' + String([...h.provider.dataset.records('calls')][60]!.id)]) {
          const [a, b] = await Promise.all([get(`${h.base}${path}`), get(`${twin.base}${path}`)]);
          expect(b.text).toBe(a.text);
        }
        const [mine, theirs] = await Promise.all([get(`${h.base}/calls?limit=100`), get(`${other.base}/calls?limit=100`)]);
        expect(theirs.text).not.toBe(mine.text);
        expect(ids(theirs.body.calls).filter((id) => ids(mine.body.calls).includes(id))).toEqual([]);
      } finally {
        await Promise.all([twin.server.close(), other.server.close()]);
      }
    });

    it('scales the number of calls with scale and with historicalCalls', () => {
      const countAt = (scale: number, settings: ClariSandboxSettings = {}) =>
        createClariCopilotSandbox({ seed: 7, scale, now: () => START }, settings).dataset.count('calls', { visibleAt: START.startOf('day').minus({ days: 8 }) });
      const base = countAt(1);
      expect(countAt(2) / base).toBeCloseTo(2, 1);
      expect(countAt(1, { historicalCalls: 4500 }) / base).toBeCloseTo(3, 1);
    });

    it('serves a page deep into a million calls quickly, by rank, in any order', async () => {
      const big = await harness({ historicalCalls: 1_000_000 });
      try {
        const { dataset } = big.provider;
        expect(dataset.count('calls')).toBeGreaterThan(850_000);
        const middle = START.minus({ days: 45 });
        for (const query of [
          'skip=10000&limit=100',
          'skip=10000&limit=100&sortTime=asc',
          `skip=10000&limit=100&sortProcessed=asc&filterModifiedGt=${q(middle.toISO()!)}`,
          `skip=9900&limit=100&filterStatus=POST_PROCESSING_DONE&includePrivate=true&filterTimeLt=${q(middle.toISO()!)}`,
        ]) {
          const started = performance.now();
          const { status, body } = await get(`${big.base}/calls?${query}`);
          expect(performance.now() - started, query).toBeLessThan(1500);
          expect(status).toBe(200);
          expect(body.calls).toHaveLength(100);
          expect(body.pagination.matched).toBeGreaterThan(10_100);
        }
        const newest = [...take(dataset.records('calls'), 10_100)].slice(10_000);
        const { body } = await get(`${big.base}/calls?skip=10000&limit=100`);
        expect(body.calls).toEqual(newest);
      } finally {
        await big.server.close();
      }
    });
  });

  describe('CallTimeline arithmetic', () => {
    it('puts every call in exactly the step and class run that stepAt says, for any bounds', () => {
      const anchor = START.startOf('day');
      const timeline = new CallTimeline(3, anchor, Duration.fromObject({ days: 5 }), 400);
      const now = anchor.plus({ hours: 6 }).toMillis();
      const limit = timeline.firstAfter(now + Duration.fromObject({ days: 8 }).toMillis());
      const bounds = { timeGt: anchor.minus({ days: 3 }).toMillis(), modifiedLt: anchor.minus({ hours: 20 }).toMillis() };
      const seen = new Map<number, number>();
      timeline.profiles.forEach((profile, classIndex) => {
        const offsets = profile.steps.map((step) => step.offsetMs);
        offsets.forEach((offset, step) => {
          const { start, size } = classRun(classIndex, timeline.stepRange(offsets, step, now, bounds));
          for (let k = 0; k < size; k++) {
            const index = start + k * CLASS_COUNT;
            expect(timeline.stepAt(index, now)).toBe(step);
            expect(timeline.timeOf(index) + offset).toBeLessThan(bounds.modifiedLt);
            seen.set(index, (seen.get(index) ?? 0) + 1);
          }
        });
      });
      for (let index = 0; index < limit; index++) {
        const step = timeline.stepAt(index, now);
        const modified = step < 0 ? Infinity : timeline.timeOf(index) + timeline.profileOf(index).steps[step]!.offsetMs;
        const inside = step >= 0 && timeline.timeOf(index) > bounds.timeGt && modified < bounds.modifiedLt;
        expect(seen.get(index) ?? 0, `call ${index}`).toBe(inside ? 1 : 0);
      }
      expect(seen.size).toBeGreaterThan(50);
    });
  });
});

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  for (const item of items) {
    yield item;
    if (--count <= 0) return;
  }
}
