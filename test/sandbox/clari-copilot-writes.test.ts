import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { catalogEntry, loadSchema, type Catalog } from '../../src/core/catalog.js';
import { clariCopilot } from '../../src/providers/clari-copilot/provider.js';
import type { Tenant } from '../../src/sandbox/clari-copilot/dataset.js';
import { CLARI_COPILOT_SANDBOX_API_KEY, CLARI_COPILOT_SANDBOX_API_PASSWORD, createClariCopilotSandbox, type ApiRecord, type ClariSandbox } from '../../src/sandbox/clari-copilot/index.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { validator } from '../../src/util/schema.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * The write endpoints of the simulated Clari Copilot API (Clari Copilot OpenAPI, POST /create-call and the
 * CRM objects' create/update/delete), and what the read endpoints and the tap make of what was written.
 */

const START = DateTime.fromISO('2026-03-10T15:00:00Z', { zone: 'utc' });
const AUTH = { 'X-Api-Key': CLARI_COPILOT_SANDBOX_API_KEY, 'X-Api-Password': CLARI_COPILOT_SANDBOX_API_PASSWORD };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Harness = OneSandbox<ClariSandbox>;
type CrmObject = 'account' | 'contact' | 'deal';

function harness(options: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  return startOneSandbox(START, (o) => createClariCopilotSandbox(o, { flaky502Rate: 0 }), options);
}

async function send(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, { method, headers: { ...AUTH, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** One written object per type: the fields a create sends, and an update of some of them. */
const OBJECTS: Array<{ object: CrmObject; create: ApiRecord; update: ApiRecord }> = [
  {
    object: 'account',
    create: { crm_id: 'acc-1', name: 'Oscorp', phones: ['+1 555 0100'], city: 'New York', custom_fields: [{ key: 'Industry', value: 'Biotech' }] },
    update: { name: 'Oscorp Industries', zip: '10001' },
  },
  {
    object: 'contact',
    create: { crm_id: 'con-1', account_crm_id: 'acc-1', first_name: 'Norman', last_name: 'Osborn', emails: ['norman@oscorp.example'], is_lead: false },
    update: { job_title: 'CEO', is_lead: true },
  },
  {
    object: 'deal',
    create: {
      crm_id: 'deal-1',
      deal_name: 'Oscorp renewal',
      amount: '120000',
      close_date: '2026-06-30T00:00:00Z',
      stage_change_history: [{ stage: 'Discovery', prev_stage: 'Prospecting', date_changed: '2026-03-01T10:00:00.000+01:00' }],
    },
    update: { stage: 'Negotiation', next_call_date: '2026-03-20T16:00:00Z' },
  },
];

/** A body of the wrong type per object: the field the 400 must name. */
const INVALID: Array<{ object: CrmObject; body: ApiRecord; field: string }> = [
  { object: 'account', body: { crm_id: 7 }, field: 'crm_id' },
  { object: 'account', body: { crm_id: 'x', phones: 'one' }, field: 'phones' },
  { object: 'account', body: { crm_id: 'x', custom_fields: [{ key: 'k', value: 3 }] }, field: 'custom_fields[0].value' },
  { object: 'contact', body: { crm_id: 'x', is_lead: 'yes' }, field: 'is_lead' },
  { object: 'contact', body: { crm_id: 'x', emails: ['a@b.example', null] }, field: 'emails' },
  { object: 'deal', body: { crm_id: 'x', close_date: '2026-06-30' }, field: 'close_date' },
  { object: 'deal', body: { crm_id: 'x', stage_change_history: [{ date_changed: 'yesterday' }] }, field: 'stage_change_history[0].date_changed' },
  { object: 'deal', body: { name: 'no crm id' }, field: 'crm_id' },
];

describe('Clari Copilot sandbox: write endpoints', () => {
  let h: Harness;
  let recorder: string;
  let call: (body: ApiRecord) => Promise<{ status: number; body: Record<string, any> }>;
  const baseCall = () => ({ source_id: 's-1', call_time: '2026-03-10T14:00:00Z', type: 'RECORDING', audio_url: 'https://media.example/s-1.mp3', user_emails: [recorder] });

  beforeAll(async () => {
    h = await harness();
    recorder = [...h.provider.dataset.records('users')].find((user) => user.is_recording)!.email as string;
    call = (body) => send(h.base, 'POST', '/create-call', body);
  });
  afterAll(() => h.server.close());

  describe.each(OBJECTS)('$object', ({ object, create, update }) => {
    const crmId = create.crm_id as string;
    const read = () => send(h.base, 'GET', `/get-${object}?id=${crmId}`);

    it('creates, reads back, updates, deletes, and then answers 404', async () => {
      expect((await read()).status).toBe(404);
      const created = await send(h.base, 'POST', `/create-${object}`, create);
      expect(created.status).toBe(200);
      expect(created.body).toEqual({ id: expect.stringMatching(UUID), ...create });
      expect(Object.keys(created.body)[0]).toBe('id');
      expect((await read()).body).toEqual(created.body);

      const updated = await send(h.base, 'PUT', `/update-${object}`, { crm_id: crmId, ...update });
      expect(updated).toEqual({ status: 200, body: { ...created.body, ...update } });
      expect((await read()).body).toEqual(updated.body);
      // Found by its Copilot id alone as well.
      expect((await send(h.base, 'PUT', `/update-${object}`, { id: created.body.id, ...update })).body).toEqual(updated.body);

      const deleted = await send(h.base, 'DELETE', `/delete-${object}`, { id: crmId });
      expect(deleted).toEqual({ status: 200, body: updated.body });
      expect((await read()).status).toBe(404);
      expect(h.provider.writes.object(object, crmId)).toEqual({ record: updated.body, deleted: true });
      expect([h.provider.writes.count(`create-${object}`, crmId), h.provider.writes.count(`update-${object}`, crmId), h.provider.writes.count(`delete-${object}`, crmId)]).toEqual([1, 2, 1]);

      for (const [method, path] of [['PUT', `/update-${object}`], ['DELETE', `/delete-${object}`]] as const) {
        const missing = await send(h.base, method, path, method === 'PUT' ? { crm_id: crmId } : { id: crmId });
        expect(missing).toEqual({ status: 404, body: { errorMessage: `No ${object} with ${method === 'PUT' ? 'crm_id' : 'id'} ${crmId}` } });
      }
    });

    it('refuses a second create of one crm_id with 400 in the {errorMessage} shape', async () => {
      const body = { ...create, crm_id: `${crmId}-twice` };
      expect((await send(h.base, 'POST', `/create-${object}`, body)).status).toBe(200);
      const again = await send(h.base, 'POST', `/create-${object}`, body);
      expect(again).toEqual({ status: 400, body: { errorMessage: `${object} with crm_id ${crmId}-twice already exists` } });
      expect(h.provider.writes.count(`create-${object}`, body.crm_id)).toBe(1);
      expect(h.provider.writes.received(`create-${object}`, body.crm_id)).toBe(2);
    });
  });

  it.each(INVALID)('refuses a $object body with a bad $field with 400 naming it', async ({ object, body, field }) => {
    const { status, body: error } = await send(h.base, 'POST', `/create-${object}`, body);
    expect(status).toBe(400);
    expect(Object.keys(error)).toEqual(['errorMessage']);
    expect(error.errorMessage.startsWith(`${field}`)).toBe(true);
  });

  it('takes over a generated record on update, keeps its id, and refuses to create it again', async () => {
    const crmId = [...h.provider.dataset.records('calls')]
      .map((record) => (record.crm_info as { account_id?: string } | undefined)?.account_id)
      .find((id) => id !== undefined && h.provider.dataset.crmRecord('account', id) !== undefined)!;
    const generated = (await send(h.base, 'GET', `/get-account?id=${crmId}`)).body;
    expect((await send(h.base, 'POST', '/create-account', { crm_id: crmId })).status).toBe(400);
    const updated = await send(h.base, 'PUT', '/update-account', { crm_id: crmId, name: 'Renamed' });
    expect(updated).toEqual({ status: 200, body: { ...generated, name: 'Renamed' } });
    expect(Object.keys(updated.body)).toEqual(Object.keys(generated));
    expect(h.provider.dataset.crmRecord('account', crmId)).toEqual(updated.body);
    expect(h.provider.writes.object('account', crmId)?.deleted).toBe(false);
  });

  it('answers 400 for an update naming neither id, or two ids of different objects', async () => {
    expect(await send(h.base, 'PUT', '/update-account', { name: 'x' })).toEqual({ status: 400, body: { errorMessage: 'crm_id or id is required' } });
    await send(h.base, 'POST', '/create-account', { crm_id: 'acc-ids' });
    expect((await send(h.base, 'PUT', '/update-account', { crm_id: 'acc-ids', id: 'not-its-id' })).status).toBe(400);
  });

  describe('POST /create-call', () => {
    it('creates a call once per source_id: a repeat answers the same call_id and counts no create', async () => {
      const first = await call(baseCall());
      expect(first).toEqual({ status: 200, body: { call_id: expect.stringMatching(UUID), error: '' } });
      const second = await call({ ...baseCall(), title: 'changed' });
      expect(second).toEqual(first);
      expect(h.provider.writes.count('create-call', 's-1')).toBe(1);
      expect(h.provider.writes.received('create-call', 's-1')).toBe(2);
      expect(h.provider.writes.calls()).toEqual([{ call_id: first.body.call_id, source_id: 's-1', fields: baseCall(), written_at: START.toISO() }]);

      const forced = await call({ ...baseCall(), title: 'replaced', force_overwrite_old_call: true });
      expect(forced).toEqual(first);
      expect(h.provider.writes.count('create-call', 's-1')).toBe(2);
      expect(h.provider.writes.calls()).toHaveLength(1);
      expect(h.provider.writes.calls()[0]!.fields.title).toBe('replaced');
    });

    it.each([
      { name: 'a missing required field', body: { call_time: null }, message: 'call_time is required' },
      { name: 'an unknown type', body: { type: 'ZOOM' }, message: /^type: must be one of RECORDING, VENDASTA, KNOWLARITY, CALL_HIPPO, RINGOVER/ },
      { name: 'a call_time that is no date-time', body: { call_time: '10/03/2026' }, message: /^call_time: / },
      { name: 'user_emails that are no array', body: { user_emails: 'a@b.example' }, message: /^user_emails: / },
      { name: 'other_* arrays of unequal lengths', body: { other_phone: ['1', '2'], other_email: ['a@b.example'], other_name: [] }, message: 'other_phone, other_email and other_name must have the same length, got 2, 1, 0' },
      { name: 'a transcript turn of no listed speaker', body: { external_transcript: { external_speakers: [{ person_id: 'p1' }], ext_conversation_turns: [{ person_id: 'p2', text: 'hi', start: 0, end: 1 }] } }, message: /^external_transcript\.ext_conversation_turns\[0\]\.person_id/ },
      { name: 'no recording user', body: { user_emails: ['stranger@elsewhere.example'], source_user_ids: ['nobody'] }, message: 'no recording user among user_emails and source_user_ids' },
    ])('answers 400 for $name', async ({ body, message }) => {
      const { status, body: error } = await call({ ...baseCall(), source_id: 's-bad', ...body });
      expect(status).toBe(400);
      expect(error).toEqual({ errorMessage: typeof message === 'string' ? message : expect.stringMatching(message) });
      expect(h.provider.writes.count('create-call', 's-bad')).toBe(0);
    });

    it('accepts a recording user named by source_user_ids alone, and other_* arrays of one length', async () => {
      const deal = [...h.provider.dataset.records('calls')].map((record) => (record.crm_info as { deal_id?: string } | undefined)?.deal_id).find((id) => id && h.provider.dataset.crmRecord('deal', id))!;
      const owner = h.provider.dataset.crmRecord('deal', deal)!.owner_crm_id as string;
      const body = { ...baseCall(), source_id: 's-owner', user_emails: [], source_user_ids: [owner], other_phone: [''], other_email: ['a@pqr.example'], other_name: ['Mr. a'] };
      expect((await call(body)).status).toBe(200);
      expect(h.provider.writes.count('create-call', 's-owner')).toBe(1);
    });
  });
});

describe('Clari Copilot sandbox: writes and the rate limit', () => {
  it('refuses writes beyond 10 per second with 429 before they take effect', async () => {
    const limited = await harness({ unlimited: false });
    try {
      const recorder = [...limited.provider.dataset.records('users')].find((user) => user.is_recording)!.email as string;
      const bodies = Array.from({ length: 15 }, (_, i) => ({ source_id: `burst-${i}`, call_time: '2026-03-10T14:00:00Z', type: 'RECORDING', audio_url: 'https://a.example/x', user_emails: [recorder] }));
      const responses = await Promise.all(bodies.map((body) => send(limited.base, 'POST', '/create-call', body)));
      expect(responses.filter((response) => response.status === 429)).toHaveLength(5);
      expect(responses.filter((response) => response.status === 200)).toHaveLength(10);
      expect(limited.provider.writes.calls()).toHaveLength(10);
    } finally {
      await limited.server.close();
    }
  });
});

/** The metrics of a call nothing measured (the calls.json fixture's NO_DATA_INCALL call): the sandbox does not transcribe recordings. */
const UNMEASURED = { talk_listen_ratio: 0, num_questions_asked: 0, num_questions_asked_by_reps: 0, call_duration: 0, total_speak_duration: 0, longest_monologue_duration: 0, longest_monologue_start_time: 0, engaging_questions: 0, categories: [] };
const ms = (iso: unknown) => DateTime.fromISO(String(iso)).toMillis();
const isoOf = (millis: number) => DateTime.fromMillis(millis, { zone: 'utc' }).toISO()!;
const idsOf = (records: readonly ApiRecord[]) => records.map((record) => record.id);

describe('Clari Copilot sandbox: created calls in the read endpoints (Clari Copilot OpenAPI, GET /calls and GET /call-details)', () => {
  let h: Harness;
  let first: ApiRecord;
  let second: ApiRecord;
  const sourceUserId = (user: ApiRecord) => (h.provider.dataset as Tenant).calls.crmId('user', user.email as string);
  const create = async (body: ApiRecord) => {
    const answer = await send(h.base, 'POST', '/create-call', { call_time: '2026-03-09T09:30:00Z', type: 'RECORDING', audio_url: 'https://media.example/call.mp3', user_emails: [first.email], ...body });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.call_id as string;
  };
  const get = async (query: string, path = '/calls') => {
    const answer = await send(h.base, 'GET', `${path}?${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  /** Every page of a query, following nextPageSkip from skip 0. */
  const pages = async (query: string) => {
    const found: Array<Record<string, any>> = [];
    for (let skip: number | undefined = 0; skip !== undefined && found.length < 100; skip = found.at(-1)!.pagination.nextPageSkip) found.push(await get(`${query}&skip=${skip}`));
    return found;
  };
  const readAll = async (query: string) => (await pages(query)).flatMap((page) => page.calls as ApiRecord[]);

  beforeEach(async () => {
    h = await harness();
    [first, second] = [...h.provider.dataset.records('users')].filter((user) => user.is_recording) as [ApiRecord, ApiRecord];
  });
  afterEach(() => h.server.close());

  it('serves a created call in /calls with its body mapped onto the Call record, in the Call schema and the key order of generated calls', async () => {
    const body = {
      source_id: 'rec-1',
      title: 'Discovery with Globex',
      type: 'VENDASTA',
      call_time: '2026-03-09T10:30:00.250+01:00',
      user_emails: [String(first.email).toUpperCase(), 'stranger@elsewhere.example'],
      source_user_ids: [sourceUserId(second)],
      other_name: ['Hank Scorpio', ''],
      other_email: ['hank@globex.example', 'ops@globex.example'],
      other_phone: ['+15550100', ''],
    };
    const id = await create(body);
    const expected = {
      id,
      source_id: 'rec-1',
      title: 'Discovery with Globex',
      users: [
        { userId: first.id, userEmail: first.email, isOrganizer: false, personId: 0 },
        { userId: second.id, userEmail: second.email, isOrganizer: false, personId: 1 },
      ],
      externalParticipants: [
        { name: 'Hank Scorpio', email: 'hank@globex.example', phone: '+15550100', personId: 2 },
        { email: 'ops@globex.example', personId: 3 },
      ],
      joinedParticipants: [],
      status: 'POST_PROCESSING_DONE',
      bot_not_join_reason: [],
      type: 'VENDASTA',
      time: '2026-03-09T09:30:00.250Z',
      last_modified_time: START.toISO(),
      audio_url: null,
      video_url: null,
      disposition: 'UNKNOWN_CALL_DISPOSITION',
      metrics: UNMEASURED,
      call_review_page_url: `https://copilot.clari.com/call/${id}`,
    };
    const { calls, pagination } = await get('filterSourceId=rec-1');
    expect(pagination).toEqual({ matched: 1, hasMore: false });
    expect(calls).toEqual([expected]);
    expect(Object.keys(calls[0])).toEqual(Object.keys(expected));
    const generated = (await get('limit=100')).calls.find((call: ApiRecord) => call.id !== id && 'source_id' in call);
    expect(Object.keys(generated).filter((key) => key in expected)).toEqual(Object.keys(expected));
    const schema = validator(loadSchema(clariCopilot, clariCopilot.streams.find((stream) => stream.name === 'clari_copilot_calls')!));
    expect(schema(calls[0])).toBeUndefined();
  });

  it('titles a call sent without one "user_name / {other_name/email/phone}", and gives a call without external participants the fixture disposition', async () => {
    await create({ source_id: 'untitled', other_name: [''], other_email: ['hank@globex.example'], other_phone: ['+15550100'] });
    await create({ source_id: 'alone', user_emails: [second.email] });
    const calls = await readAll('filterSourceId=untitled&filterSourceId=alone&sortTime=asc&limit=10');
    expect(calls.map((call) => [call.source_id, call.title, call.disposition])).toEqual([
      ['untitled', `${first.name} / hank@globex.example`, 'UNKNOWN_CALL_DISPOSITION'],
      ['alone', second.name, 'CALL_DID_NOT_CONNECT_WITH_PROSPECT'],
    ]);
  });

  it('merges created calls into the time order of /calls: in the window of their time, counted in matched, and paged across a page boundary', async () => {
    const window = 'filterTimeGt=2026-03-07T00:00:00Z&filterTimeLt=2026-03-09T00:00:00Z';
    const generated = await readAll(`${window}&sortTime=asc&limit=100`);
    expect(generated.length).toBeGreaterThan(14);
    const after = (i: number, plus: number) => isoOf(ms(generated[i]!.time) + plus);
    const created: Record<string, string> = {};
    for (const [sourceId, callTime] of [
      ['w-4', after(3, 1)],
      // Positions 9 and 10: the last call of the first page of 10 and the first of the second.
      ['w-9', after(7, 1)],
      ['w-10', after(7, 2)],
      // The same time as a generated call: the created call comes first.
      ['w-tie', String(generated[12]!.time)],
      // Outside the window, the upper bound strict.
      ['w-before', '2026-03-06T23:00:00Z'],
      ['w-edge', '2026-03-09T00:00:00Z'],
    ] as const) {
      created[sourceId] = await create({ source_id: sourceId, call_time: callTime });
    }
    const expected = [...idsOf(generated.slice(0, 4)), created['w-4'], ...idsOf(generated.slice(4, 8)), created['w-9'], created['w-10'], ...idsOf(generated.slice(8, 12)), created['w-tie'], ...idsOf(generated.slice(12))];

    const ascending = await pages(`${window}&sortTime=asc&limit=10`);
    expect(ascending.flatMap((page) => idsOf(page.calls))).toEqual(expected);
    expect([ascending[0]!.calls.at(-1).source_id, ascending[1]!.calls[0].source_id]).toEqual(['w-9', 'w-10']);
    ascending.forEach((page, n) => expect(page.pagination).toEqual(n < ascending.length - 1 ? { matched: expected.length, nextPageSkip: 10 * (n + 1), hasMore: true } : { matched: expected.length, hasMore: false }));
    expect(idsOf(await readAll(`${window}&sortTime=desc&limit=7`))).toEqual([...expected].reverse());
    // The same through the record-level filters' path (every call is shorter than 7200 s).
    expect(idsOf(await readAll(`${window}&sortTime=asc&filterDurationLt=7200&limit=10`))).toEqual(expected);
    // Newest first without a sort, as generated calls are.
    expect(idsOf(await readAll(`${window}&limit=100`))).toEqual([...expected].reverse());
  });

  it('filters created calls on last_modified_time strictly, sorts them by it with sortProcessed, and applies status, type, user and attendee filters', async () => {
    const early = await create({ source_id: 'm-1', type: 'VENDASTA' });
    const alsoEarly = await create({ source_id: 'm-2', type: 'VENDASTA', user_emails: [second.email], other_name: ['Hank'], other_email: ['hank@globex.example'], other_phone: [''] });
    const later = START.plus({ hours: 1 });
    h.clock.now = later;
    const late = await create({ source_id: 'm-3', type: 'VENDASTA' });
    const ofType = 'filterType=VENDASTA&limit=100';
    expect(idsOf(await readAll(`${ofType}&sortProcessed=asc`))).toEqual([early, alsoEarly, late]);
    expect(idsOf(await readAll(`${ofType}&sortProcessed=desc`))).toEqual([late, alsoEarly, early]);
    expect(idsOf(await readAll(`${ofType}&sortProcessed=asc&filterModifiedGt=${START.toISO()}`))).toEqual([late]);
    expect(idsOf(await readAll(`${ofType}&sortProcessed=asc&filterModifiedLt=${later.toISO()}`))).toEqual([early, alsoEarly]);
    expect(idsOf(await readAll(`${ofType}&sortProcessed=asc&filterModifiedGt=${START.minus(1).toISO()}&filterModifiedLt=${later.plus(1).toISO()}`))).toEqual([early, alsoEarly, late]);
    expect(idsOf(await readAll(`${ofType}&filterStatus=POST_PROCESSING_DONE`))).toHaveLength(3);
    expect(await readAll(`${ofType}&filterStatus=PROCESSED`)).toEqual([]);
    expect(idsOf(await readAll(`${ofType}&filterUser=${second.email}`))).toEqual([alsoEarly]);
    expect(idsOf(await readAll(`${ofType}&filterAttendees=hank@globex.example`))).toEqual([alsoEarly]);
    expect(await readAll('filterType=RINGOVER&limit=100')).toEqual([]);
  });

  it('re-reads a call that force_overwrite_old_call replaced: the same id, the new fields, last_modified_time the moment of the replacement', async () => {
    const id = await create({ source_id: 'over', title: 'First take' });
    const read = async () => (await get('filterSourceId=over')).calls as ApiRecord[];
    const [original] = await read();
    h.clock.now = START.plus({ minutes: 30 });
    expect(await create({ source_id: 'over', title: 'Ignored: not forced' })).toBe(id);
    expect(await read()).toEqual([original]);
    const replacedAt = START.plus({ hours: 2 });
    h.clock.now = replacedAt;
    expect(await create({ source_id: 'over', title: 'Second take', call_time: '2026-03-10T08:00:00Z', force_overwrite_old_call: true })).toBe(id);
    const [replaced] = await read();
    expect(replaced).toEqual({ ...original, title: 'Second take', time: '2026-03-10T08:00:00.000Z', last_modified_time: replacedAt.toISO() });
    // What an incremental read since the first version's time asks: it finds the replacement.
    expect(idsOf(await readAll(`filterModifiedGt=${START.toISO()}&filterType=RECORDING&limit=100`))).toContain(id);
    expect(h.provider.writes.calls().map((call) => call.written_at)).toEqual([replacedAt.toISO()]);
  });

  it('serves /call-details of a created call: its /calls record, the external transcript on the call\'s people, signed media URLs when asked', async () => {
    const external_transcript = {
      external_speakers: [
        { person_id: 'rep', name: 'Someone', email_id: String(first.email).toUpperCase() },
        { person_id: 'customer', name: 'Hank Scorpio' },
        { person_id: 'guest', name: 'Unlisted Guest', email_id: 'guest@elsewhere.example' },
      ],
      ext_conversation_turns: [
        { person_id: 'rep', text: 'Thanks for joining.', start: 0, end: 2.5 },
        { person_id: 'customer', text: 'Happy to.', start: 2.5, end: 4 },
        { person_id: 'guest', text: 'Hello all.', start: 4, end: 5.25 },
      ],
    };
    const id = await create({ source_id: 'talk', audio_url: 'https://media.example/talk.MP4?sig=x', other_name: ['Hank Scorpio'], other_email: ['hank@globex.example'], other_phone: [''], external_transcript });
    const [listed] = (await get('filterSourceId=talk')).calls;
    const { call } = await get(`id=${id}`, '/call-details');
    expect(call).toEqual({
      ...listed,
      transcript: [
        { text: 'Thanks for joining.', start: 0, end: 2.5, personId: 0, annotations: [] },
        { text: 'Happy to.', start: 2.5, end: 4, personId: 1, annotations: [] },
        { text: 'Hello all.', start: 4, end: 5.25, personId: 2, annotations: [] },
      ],
    });
    expect(h.provider.dataset.callDetails(id)).toEqual(call);

    const media = (await get(`id=${id}&includeAudio=true&includeVideo=true`, '/call-details')).call;
    expect(media.audio_url).toMatch(new RegExp(`^https://recordings\\.copilot\\.clari\\.com/${id}/audio\\.mp3\\?Expires=\\d+&Signature=[0-9a-f]{64}$`));
    expect(media.video_url).toMatch(new RegExp(`^https://recordings\\.copilot\\.clari\\.com/${id}/video\\.mp4\\?`));
    const audioOnly = await create({ source_id: 'audio-only' });
    const listedMedia = (await get('filterSourceId=audio-only&includeAudio=true&includeVideo=true')).calls[0];
    expect([listedMedia.audio_url === null, listedMedia.video_url]).toEqual([false, null]);
    const bare = (await get(`id=${audioOnly}`, '/call-details')).call;
    expect(['transcript', 'summary', 'competitor_sentiments', 'deal_stage_live'].filter((key) => key in bare)).toEqual([]);
    expect((await send(h.base, 'GET', '/call-details?id=00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it("links a created call to the written contacts its participants' emails name, their account and its deal written last, when the call is served", async () => {
    const send_ = (method: string, path: string, body: ApiRecord) => send(h.base, method, path, body);
    const id = await create({ source_id: 'crm', other_name: ['Hank', 'Marge', 'Nobody'], other_email: ['hank@globex.example', 'marge@globex.example', 'nobody@elsewhere.example'], other_phone: ['', '', ''] });
    const read = async () => (await get('filterSourceId=crm')).calls[0] as ApiRecord;
    const unlinked = await read();
    expect(['deal_name', 'account_name', 'contact_names', 'crm_info'].filter((key) => key in unlinked)).toEqual([]);

    // Written after the call: the link shows when the call is next served.
    await send_('POST', '/create-account', { crm_id: 'acc-globex', name: 'Globex' });
    await send_('POST', '/create-contact', { crm_id: 'con-hank', account_crm_id: 'acc-globex', first_name: 'Hank', last_name: 'Scorpio', emails: ['HANK@globex.example'] });
    await send_('POST', '/create-contact', { crm_id: 'con-marge', account_crm_id: 'acc-elsewhere', first_name: 'Marge', emails: ['marge@globex.example'] });
    await send_('POST', '/create-deal', { crm_id: 'deal-pilot', account_crm_id: 'acc-globex', deal_name: 'Globex pilot', stage: 'Closed Won' });
    await send_('POST', '/create-deal', {
      crm_id: 'deal-expansion',
      account_crm_id: 'acc-globex',
      deal_name: 'Globex expansion',
      amount: '50000',
      close_date: '2026-05-01T00:00:00+02:00',
      stage: 'Negotiation',
      stage_change_history: [
        { stage: 'Negotiation', prev_stage: 'Discovery', date_changed: '2026-03-10T12:00:00Z' },
        { stage: 'Discovery', prev_stage: 'Prospecting', date_changed: '2026-03-01T00:00:00Z' },
      ],
    });
    await send_('POST', '/create-deal', { crm_id: 'deal-gone', account_crm_id: 'acc-globex', deal_name: 'Deleted' });
    await send_('DELETE', '/delete-deal', { id: 'deal-gone' });
    await send_('POST', '/create-deal', { crm_id: 'deal-other', account_crm_id: 'acc-elsewhere', deal_name: 'Another account' });

    const sourceCrm = ([...h.provider.dataset.records('calls')].find((call) => call.crm_info)!.crm_info as ApiRecord).source_crm;
    const linked = await read();
    const link = {
      deal_name: 'Globex expansion',
      deal_value: '50000',
      deal_close_date: '2026-04-30T22:00:00.000Z',
      // The stage the history says the deal had at the call's time (2026-03-09T09:30Z).
      deal_stage_before_call: 'Discovery',
      account_name: 'Globex',
      contact_names: ['Hank Scorpio', 'Marge'],
      crm_info: { source_crm: sourceCrm, deal_id: 'deal-expansion', account_id: 'acc-globex', contact_ids: ['con-hank', 'con-marge'] },
    };
    expect(linked).toEqual({ ...unlinked, ...link });
    const keys = Object.keys(linked);
    expect(keys.slice(keys.indexOf('disposition') + 1, keys.indexOf('metrics'))).toEqual(Object.keys(link));
    expect((await get(`id=${id}`, '/call-details')).call.deal_stage_live).toBe('Negotiation');

    // An update writes the pilot last: it becomes the call's deal.
    await send_('PUT', '/update-deal', { crm_id: 'deal-pilot', amount: '1000' });
    expect(((await read()).crm_info as ApiRecord).deal_id).toBe('deal-pilot');
    // Hank deleted: Marge is the first contact left, and her account is unknown to the CRM and has no written deal but one.
    await send_('DELETE', '/delete-contact', { id: 'con-hank' });
    const relinked = await read();
    expect(relinked.crm_info).toEqual({ source_crm: sourceCrm, deal_id: 'deal-other', account_id: 'acc-elsewhere', contact_ids: ['con-marge'] });
    expect(['account_name' in relinked, relinked.deal_name, relinked.last_modified_time]).toEqual([false, 'Another account', START.toISO()]);
  });
});

/** A catalog with only these streams of Clari Copilot selected. */
const selectClari = (...names: string[]): Catalog => ({
  streams: clariCopilot.streams.map((stream) => {
    const entry = catalogEntry(stream, loadSchema(clariCopilot, stream));
    entry.metadata[0]!.metadata.selected = names.includes(stream.name);
    return entry;
  }),
});

/** A field at a path of a record; `[]` maps over an array. */
function pluck(value: unknown, path: string): unknown {
  const [step, ...rest] = path.split('.');
  if (step === undefined || step === '') return value;
  if (step.endsWith('[]')) return ((value as ApiRecord)[step.slice(0, -2)] as unknown[]).map((item) => pluck(item, rest.join('.')));
  return pluck((value as ApiRecord | undefined)?.[step], rest.join('.'));
}

describe('Clari Copilot: calls, accounts, contacts and deals written over HTTP, read back through the tap', () => {
  const ACCOUNT = { crm_id: 'acc-initech', name: 'Initech', phones: ['+15550111'], website: 'https://initech.example', city: 'Austin', custom_fields: [{ key: 'Industry', value: 'Software' }] };
  const CONTACTS = [
    { crm_id: 'con-peter', account_crm_id: 'acc-initech', first_name: 'Peter', last_name: 'Gibbons', job_title: 'Engineer', emails: ['peter@initech.example'], is_lead: false },
    { crm_id: 'con-joanna', account_crm_id: 'acc-initech', first_name: 'Joanna', last_name: 'Smith', emails: ['joanna@initech.example'], phones: ['+15550112'] },
  ];
  const DEAL = { crm_id: 'deal-initech', account_crm_id: 'acc-initech', deal_name: 'Initech rollout', amount: '75000', close_date: '2026-07-31T00:00:00Z', stage: 'Proposal' };
  const CALL = {
    source_id: 'dialer-initech-1',
    title: 'Initech rollout call',
    type: 'RINGOVER',
    call_time: '2026-06-14T16:15:00+02:00',
    other_name: ['Peter Gibbons', 'Joanna Smith'],
    other_email: ['peter@initech.example', 'joanna@initech.example'],
    other_phone: ['+15550110', ''],
    audio_url: 'https://recordings.example/dialer-initech-1.mp3',
  };
  /** create-call body field ↔ clari_copilot_calls field, compared as values or, for times, as instants. */
  const CALL_FIELDS: Array<{ body: string; read: string; instant?: true }> = [
    { body: 'source_id', read: 'source_id' },
    { body: 'title', read: 'title' },
    { body: 'type', read: 'type' },
    { body: 'call_time', read: 'time', instant: true },
    { body: 'user_emails', read: 'users[].userEmail' },
    { body: 'other_name', read: 'externalParticipants[].name' },
    { body: 'other_email', read: 'externalParticipants[].email' },
  ];

  it('emits each written field under its name, and the call linked to the contacts, account and deal', async () => {
    const written = TEST_NOW.minus({ hours: 1 });
    const h = await startOneSandbox(written, (o) => createClariCopilotSandbox(o, { flaky502Rate: 0 }));
    try {
      const recorder = [...h.provider.dataset.records('users')].find((user) => user.is_recording)!;
      const callBody = { ...CALL, user_emails: [recorder.email] };
      const answers: Record<string, ApiRecord> = {};
      for (const [path, body] of [['/create-account', ACCOUNT], ...CONTACTS.map((contact) => ['/create-contact', contact] as const), ['/create-deal', DEAL], ['/create-call', callBody]] as const) {
        const answer = await send(h.base, 'POST', path, body);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        answers[String((body as ApiRecord).crm_id ?? (body as ApiRecord).source_id)] = answer.body;
      }
      h.clock.now = TEST_NOW;
      const config = h.server.tapConfig({ start_date: TEST_NOW.minus({ days: 2 }).toISO() });
      Object.assign(config.clari_copilot as object, { requests_per_second: 1000 });
      const run = await collectSync(config, { now: TEST_NOW, catalog: selectClari('clari_copilot_calls', 'clari_copilot_accounts', 'clari_copilot_contacts', 'clari_copilot_deals') });
      expect(run.logs.filter((line) => /WARNING/.test(line))).toEqual([]);

      const call = run.records.clari_copilot_calls!.find((record) => record.id === answers[CALL.source_id]!.call_id)!;
      expect(call).toBeDefined();
      for (const { body, read, instant } of CALL_FIELDS) {
        const [sent, got] = [pluck(callBody, body), pluck(call, read)];
        expect(instant ? ms(got) : got, `${body} ↔ ${read}`).toEqual(instant ? ms(sent) : sent);
      }
      // other_phone ↔ externalParticipants[].phone, an empty string being no phone.
      expect(pluck(call, 'externalParticipants[].phone')).toEqual(['+15550110', undefined]);
      expect(call).toMatchObject({ status: 'POST_PROCESSING_DONE', last_modified_time: written.toISO(), is_private: false });
      expect(call.crm_info).toEqual({ source_crm: expect.any(String), deal_id: DEAL.crm_id, account_id: ACCOUNT.crm_id, contact_ids: CONTACTS.map((contact) => contact.crm_id) });
      expect([call.deal_name, call.deal_value, call.account_name, call.contact_names]).toEqual([DEAL.deal_name, DEAL.amount, ACCOUNT.name, ['Peter Gibbons', 'Joanna Smith']]);

      // Each CRM object: every field written ↔ the same field read, its Copilot id as the create answered it, the naming call's last_modified_time.
      for (const [stream, bodies] of [['clari_copilot_accounts', [ACCOUNT]], ['clari_copilot_contacts', CONTACTS], ['clari_copilot_deals', [DEAL]]] as const) {
        for (const body of bodies as readonly ApiRecord[]) {
          const record = run.records[stream]!.find((candidate) => candidate.crm_id === body.crm_id);
          expect(record, `${stream} ${String(body.crm_id)}`).toBeDefined();
          for (const [field, value] of Object.entries(body)) expect(record![field], `${stream}.${field}`).toEqual(value);
          expect(record).toMatchObject({ id: answers[String(body.crm_id)]!.id, last_modified_time: call.last_modified_time });
        }
      }
    } finally {
      await h.server.close();
    }
  });
});
