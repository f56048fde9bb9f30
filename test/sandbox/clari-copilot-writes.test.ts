import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLARI_COPILOT_SANDBOX_API_KEY, CLARI_COPILOT_SANDBOX_API_PASSWORD, createClariCopilotSandbox, type ApiRecord, type ClariSandbox } from '../../src/sandbox/clari-copilot/index.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';

/** The write endpoints of the simulated Clari Copilot API (Clari Copilot OpenAPI, POST /create-call and the CRM objects' create/update/delete). */

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
      expect(h.provider.writes.calls()).toEqual([{ call_id: first.body.call_id, source_id: 's-1', fields: baseCall() }]);

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
