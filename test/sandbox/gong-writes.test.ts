import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRecord } from '../../src/protocol/messages.js';
import {
  createGongSandbox,
  FULL_CONTENT_SELECTOR,
  GONG_SANDBOX_ACCESS_KEY,
  GONG_SANDBOX_ACCESS_KEY_SECRET,
  GONG_SCOPES,
  type GongRecord,
  type GongSandbox,
} from '../../src/sandbox/gong/index.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';
import { collectSync } from '../helpers/sync.js';

/** The write endpoints of the simulated Gong API (gong-openapi.json addCall: POST /v2/calls; addCallRecording: PUT /v2/calls/{id}/media), and the reads of what they wrote. */

const START = DateTime.fromISO('2026-03-10T15:00:00Z', { zone: 'utc' });
const BASIC = `Basic ${Buffer.from(`${GONG_SANDBOX_ACCESS_KEY}:${GONG_SANDBOX_ACCESS_KEY_SECRET}`).toString('base64')}`;
const REQUEST_ID = /^[0-9a-z]{19}$/;

type Harness = OneSandbox<GongSandbox>;
interface Answer {
  status: number;
  body: Record<string, any>;
}

function harness(options: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  return startOneSandbox(START, (o) => createGongSandbox(o), options);
}

async function send(h: Harness, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Answer> {
  const response = await request(`${h.base}${path}`, {
    method,
    headers: { authorization: BASIC, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
}

/** PUT /v2/calls/{id}/media with these parts: a Buffer is a file part, a string a text field. */
async function upload(h: Harness, callId: string, parts: Record<string, Buffer | string>): Promise<Answer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value)], { type: 'audio/mpeg' }), `${name}.mp3`);
  }
  const response = await request(`${h.base}/v2/calls/${callId}/media`, { method: 'PUT', headers: { authorization: BASIC }, body: form });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
}

const gongError = (status: number, message: string): Answer => ({ status, body: { requestId: expect.stringMatching(REQUEST_ID), errors: [message] } });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A tenant's users: one whose calls are recorded, one whose are not. */
function hosts(sandbox: GongSandbox): { host: string; hostEmail: string; unrecorded: string } {
  const disabled = sandbox.writes.recordingDisabledUserIds();
  const host = [...sandbox.dataset.records('users')].find((user) => !disabled.includes(user.id as string))!;
  return { host: host.id as string, hostEmail: host.emailAddress as string, unrecorded: disabled[0]! };
}

/** A NewCallAddingRequest with every optional field the read-back maps, one internal and one external party. */
function fullCall(host: string, hostEmail: string, clientUniqueId: string): JsonRecord {
  return {
    clientUniqueId,
    title: 'Renewal call with Globex',
    purpose: 'Renewal',
    scheduledStart: '2026-03-10T04:30:00-07:00',
    scheduledEnd: '2026-03-10T05:00:00-07:00',
    actualStart: '2026-03-10T04:32:10-07:00',
    duration: 125.8,
    parties: [
      { userId: host, emailAddress: hostEmail, name: 'The Host', partyId: '1', mediaChannelId: 0 },
      { emailAddress: 'buyer@globex.example', name: 'Bea Buyer', phoneNumber: '+1 555-0100', partyId: '2', context: [{ system: 'Salesforce', objects: [{ objectType: 'Contact', objectId: '0035g00000AbCdE' }] }] },
    ],
    direction: 'Outbound',
    disposition: 'Connected',
    context: [{ system: 'Salesforce', objects: [{ objectType: 'Account', objectId: '0015g00000XyZ', fields: [{ name: 'Name', value: 'Globex' }] }] }],
    customData: 'row 7 of the dialer export',
    speakersTimeline: { precise: true, speechSegments: [{ fromTime: 0, toTime: 5100, partyIds: ['1'] }] },
    meetingUrl: 'https://meet.example/renewal',
    callProviderCode: 'ringcentral',
    languageCode: 'en-US',
    primaryUser: host,
  };
}

/** The least a create needs: the required fields, the host as the only party. */
const minimalCall = (host: string, clientUniqueId: string, overrides: JsonRecord = {}): JsonRecord => ({
  clientUniqueId,
  actualStart: '2026-03-09T12:00:00Z',
  direction: 'Inbound',
  primaryUser: host,
  parties: [{ userId: host }],
  ...overrides,
});

describe('Gong sandbox: POST /v2/calls', () => {
  let h: Harness;
  let host: string;
  let hostEmail: string;
  let unrecorded: string;

  beforeAll(async () => {
    h = await harness();
    ({ host, hostEmail, unrecorded } = hosts(h.provider));
  });
  afterAll(() => h.server.close());

  it('creates a call: 200 {requestId, callId} with a 19-digit int64 id, and keeps the accepted body', async () => {
    const body = { ...fullCall(host, hostEmail, 'pbx-full'), notInTheSchema: 'dropped', title: 'Renewal call with Globex', meetingUrl: null };
    const created = await send(h, 'POST', '/v2/calls', body);
    expect(created).toEqual({ status: 200, body: { requestId: expect.stringMatching(REQUEST_ID), callId: expect.stringMatching(/^[1-4]\d{18}$/) } });
    expect(Object.keys(created.body)).toEqual(['requestId', 'callId']);
    const { notInTheSchema: _, meetingUrl: __, ...accepted } = body;
    expect(h.provider.writes.calls()).toEqual([{ callId: created.body.callId, clientUniqueId: 'pbx-full', fields: accepted }]);
    expect([h.provider.writes.count('create-call', 'pbx-full'), h.provider.writes.received('create-call', 'pbx-full')]).toEqual([1, 1]);
  });

  it('de-duplicates on clientUniqueId: a repeat answers the first call id and creates nothing', async () => {
    const first = await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-twice'));
    const again = await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-twice', { title: 'changed', direction: 'Outbound' }));
    expect(again).toEqual({ status: 200, body: { requestId: expect.stringMatching(REQUEST_ID), callId: first.body.callId } });
    expect(again.body.requestId).not.toBe(first.body.requestId);
    expect(h.provider.writes.calls().filter((call) => call.clientUniqueId === 'pbx-twice')).toEqual([{ callId: first.body.callId, clientUniqueId: 'pbx-twice', fields: minimalCall(host, 'pbx-twice') }]);
    expect([h.provider.writes.count('create-call', 'pbx-twice'), h.provider.writes.received('create-call', 'pbx-twice')]).toEqual([1, 2]);
  });

  it('answers 409 when the primary user is not recorded, as the users endpoint says (settings.webConferencesRecorded)', async () => {
    const users = [...h.provider.dataset.records('users')];
    const disabled = h.provider.writes.recordingDisabledUserIds();
    expect(disabled).toEqual(users.filter((user) => (user.settings as GongRecord).webConferencesRecorded === false).map((user) => user.id));
    // A seeded minority: about one user in ten.
    expect(disabled.length).toBeGreaterThan(0);
    expect(disabled.length).toBeLessThan(users.length / 4);
    const refused = await send(h, 'POST', '/v2/calls', minimalCall(unrecorded, 'pbx-unrecorded'));
    expect(refused).toEqual(gongError(409, `Recording is not enabled for the primary user ${unrecorded}`));
    expect([h.provider.writes.count('create-call', 'pbx-unrecorded'), h.provider.writes.received('create-call', 'pbx-unrecorded')]).toEqual([0, 1]);
    expect(h.provider.writes.calls().some((call) => call.clientUniqueId === 'pbx-unrecorded')).toBe(false);
  });

  const long = 'x'.repeat(256);
  it.each([
    ...['actualStart', 'clientUniqueId', 'direction', 'parties', 'primaryUser'].map((field) => ({ name: `no ${field}`, change: { [field]: null }, message: `${field}: must not be null` })),
    { name: 'an unknown direction', change: { direction: 'Sideways' }, message: 'direction: must be one of Inbound, Outbound, Conference, Unknown' },
    { name: 'an actualStart without a time', change: { actualStart: '2026-03-09' }, message: "actualStart: '2026-03-09' is not an RFC 3339 date-time" },
    { name: 'an actualStart without an offset', change: { actualStart: '2026-03-09T12:00:00' }, message: "actualStart: '2026-03-09T12:00:00' is not an RFC 3339 date-time" },
    { name: 'a scheduledStart that is no date', change: { scheduledStart: 'tomorrow' }, message: "scheduledStart: 'tomorrow' is not an RFC 3339 date-time" },
    { name: 'a scheduledEnd in month 13', change: { scheduledEnd: '2026-13-01T00:00:00Z' }, message: "scheduledEnd: '2026-13-01T00:00:00Z' is not an RFC 3339 date-time" },
    { name: 'no parties', change: { parties: [] }, message: 'parties: size must be between 1 and 2147483647' },
    { name: 'a purpose over 255 characters', change: { purpose: long }, message: 'purpose: size must be between 0 and 255' },
    { name: 'a disposition over 255 characters', change: { disposition: long }, message: 'disposition: size must be between 0 and 255' },
    { name: 'a title that is no string', change: { title: 7 }, message: 'title: must be a string' },
    { name: 'a duration that is no number', change: { duration: '125' }, message: 'duration: must be a number' },
    { name: 'parties that are no array', change: { parties: 'everyone' }, message: 'parties: must be an array' },
    { name: 'a mediaChannelId past 1', change: { parties: [{ userId: '$host', mediaChannelId: 2 }] }, message: 'parties[0].mediaChannelId: must be less than or equal to 1' },
    { name: 'a call context without its system', change: { context: [{ objects: [] }] }, message: 'context[0].system: must not be null' },
    { name: 'a CRM object without its id', change: { context: [{ system: 'Salesforce', objects: [{ objectType: 'Account' }] }] }, message: 'context[0].objects[0].objectId: must not be null' },
    { name: 'a party context of an unknown system', change: { parties: [{ userId: '$host', context: [{ system: 'Pipedrive' }] }] }, message: 'parties[0].context[0].system: must be one of Salesforce, HubSpot, MicrosoftDynamic, Generic' },
    { name: 'a speech segment of no party', change: { speakersTimeline: { speechSegments: [{ fromTime: 0, toTime: 10, partyIds: ['9'] }] } }, message: "speakersTimeline.speechSegments[0].partyIds: '9' is the partyId of no party" },
    { name: 'a speech segment without toTime', change: { speakersTimeline: { speechSegments: [{ fromTime: 0, partyIds: [] }] } }, message: 'speakersTimeline.speechSegments[0].toTime: must not be null' },
    { name: 'no party for the primary user', change: { parties: [{ emailAddress: 'someone@elsewhere.example' }] }, message: 'parties: a party must be provided for the primaryUser' },
    { name: 'a primary user of no company user', change: { primaryUser: '1234567890123456789', parties: [{ userId: '1234567890123456789' }] }, message: 'primaryUser: 1234567890123456789 is not a user of this company' },
    { name: 'an unknown workspace', change: { workspaceId: '42' }, message: 'workspaceId: 42 is not a workspace of this company' },
  ])('answers 400 for $name, in the {requestId, errors} shape', async ({ change, message }) => {
    // '$host' stands for the recorded host, known only once the sandbox runs.
    const withHost = JSON.parse(JSON.stringify(change).replaceAll('$host', host)) as JsonRecord;
    const refused = await send(h, 'POST', '/v2/calls', { ...minimalCall(host, 'pbx-bad'), ...withHost });
    expect(refused).toEqual(gongError(400, message));
    expect(h.provider.writes.received('create-call', 'pbx-bad')).toBe(0);
  });

  it('answers 403 for writes without the scope api:calls:create, and creates nothing', async () => {
    const limited = await harness({ scopes: GONG_SCOPES.filter((scope) => scope !== 'api:calls:create') });
    try {
      const { host: limitedHost } = hosts(limited.provider);
      const refusal = gongError(403, 'Access denied: this endpoint requires the scope api:calls:create');
      expect(await send(limited, 'POST', '/v2/calls', minimalCall(limitedHost, 'pbx-scope'))).toEqual(refusal);
      expect(await upload(limited, '1234567890123456789', { mediaFile: Buffer.from('audio') })).toEqual(refusal);
      expect(limited.provider.writes.calls()).toEqual([]);
    } finally {
      await limited.server.close();
    }
  });
});

describe('Gong sandbox: PUT /v2/calls/{id}/media', () => {
  let h: Harness;
  let host: string;

  beforeAll(async () => {
    h = await harness();
    ({ host } = hosts(h.provider));
  });
  afterAll(() => h.server.close());

  it('takes the mediaFile part: 201 {requestId, callId, url}; a repeat replaces the media', async () => {
    const { callId } = (await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-media'))).body;
    const media = async () => (await send(h, 'GET', `/v2/calls/${callId}`)).body.call.media;
    expect(await media()).toBeNull();

    const audio = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const uploaded = await upload(h, callId, { mediaFile: audio, note: 'ignored' });
    expect(uploaded).toEqual({ status: 201, body: { requestId: expect.stringMatching(REQUEST_ID), callId, url: `https://${h.provider.data.company.appHost}/call?id=${callId}` } });
    expect(h.provider.writes.calls()[0]!.media).toEqual({ filename: 'mediaFile.mp3', size: 3000, sha256: sha256(audio) });
    expect(await media()).toBe('Audio');

    const replacement = Buffer.from('a shorter recording');
    expect((await upload(h, callId, { mediaFile: replacement })).status).toBe(201);
    expect(h.provider.writes.calls()[0]!.media).toEqual({ filename: 'mediaFile.mp3', size: replacement.length, sha256: sha256(replacement) });
    expect([h.provider.writes.count('add-media', callId), h.provider.writes.received('add-media', callId)]).toEqual([2, 2]);
  });

  it('answers 404 for an id no call has', async () => {
    expect(await upload(h, '1234567890123456789', { mediaFile: Buffer.from('audio') })).toEqual(gongError(404, 'Call 1234567890123456789 was not found'));
    expect([h.provider.writes.count('add-media', '1234567890123456789'), h.provider.writes.received('add-media', '1234567890123456789')]).toEqual([0, 1]);
  });

  it('answers 400 without a mediaFile file part, for a call created with downloadMediaUrl, and for a call Gong recorded', async () => {
    const { callId } = (await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-no-file'))).body;
    expect(await upload(h, callId, { other: Buffer.from('audio') })).toEqual(gongError(400, 'mediaFile: must not be null'));
    expect(await upload(h, callId, { mediaFile: 'not a file' })).toEqual(gongError(400, 'mediaFile: must be a file'));
    // A JSON body shaped like the parsed part is no upload.
    const fake = await send(h, 'PUT', `/v2/calls/${callId}/media`, { mediaFile: { filename: 'a.mp3', contentType: 'audio/mpeg', size: 1, sha256: 'ab' } });
    expect(fake).toEqual(gongError(400, 'The request body must be multipart/form-data'));

    const downloaded = (await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-download', { downloadMediaUrl: 'https://upload.example/call.mp3' }))).body.callId;
    expect(await upload(h, downloaded, { mediaFile: Buffer.from('audio') })).toEqual(gongError(400, `Call ${downloaded} was created with a downloadMediaUrl; Gong downloads its media from there`));
    expect((await send(h, 'GET', `/v2/calls/${downloaded}`)).body.call.media).toBe('Audio');

    const generated = String((h.provider.dataset.records('calls', { contentSelector: {} })[Symbol.iterator]().next().value as GongRecord & { metaData: GongRecord }).metaData.id);
    expect(await upload(h, generated, { mediaFile: Buffer.from('audio') })).toEqual(gongError(400, `Call ${generated} was recorded by Gong and has its media`));
    expect(h.provider.writes.count('add-media', callId) + h.provider.writes.count('add-media', downloaded)).toBe(0);
  });

  it('answers 413 for a body larger than the server takes', async () => {
    const small = await harness({ mostBodyBytes: 1000 });
    try {
      const answer = await upload(small, '1234567890123456789', { mediaFile: Buffer.alloc(5000) });
      expect(answer).toEqual({ status: 413, body: { errors: ['The request body is larger than 1000 bytes'] } });
    } finally {
      await small.server.close();
    }
  });
});

describe('Gong sandbox: written calls read back', () => {
  let h: Harness;
  let host: string;
  let hostEmail: string;
  let full: JsonRecord;
  let callId: string;
  let internalId: string;
  const window = { fromDateTime: '2026-03-09T00:00:00Z', toDateTime: '2026-03-11T00:00:00Z' };

  beforeAll(async () => {
    h = await harness();
    ({ host, hostEmail } = hosts(h.provider));
    full = fullCall(host, hostEmail, 'pbx-read');
    callId = (await send(h, 'POST', '/v2/calls', full)).body.callId;
    internalId = (await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-internal', { workspaceId: h.provider.data.workspaces.at(-1)!.id }))).body.callId;
  });
  afterAll(() => h.server.close());

  /** CallBasicData of the full call, field by field from what was written. */
  const expectedMetaData = () => ({
    id: callId,
    url: `https://${h.provider.data.company.appHost}/call?id=${callId}`,
    title: 'Renewal call with Globex',
    scheduled: '2026-03-10T04:30:00-07:00',
    started: '2026-03-10T04:32:10-07:00',
    duration: 126,
    primaryUserId: host,
    direction: 'Outbound',
    system: 'ringcentral',
    scope: 'External',
    media: null,
    language: null,
    workspaceId: h.provider.data.userWorkspaceId(h.provider.data.userIndexById(host)!),
    sdrDisposition: 'Connected',
    clientUniqueId: 'pbx-read',
    customData: 'row 7 of the dialer export',
    purpose: 'Renewal',
    meetingUrl: 'https://meet.example/renewal',
    isPrivate: false,
    calendarEventId: null,
  });

  it('GET /v2/calls/{id} and GET /v2/calls (window on the start) show the metaData of what was written', async () => {
    expect((await send(h, 'GET', `/v2/calls/${callId}`)).body).toEqual({ requestId: expect.stringMatching(REQUEST_ID), call: expectedMetaData() });
    const listed = (await send(h, 'GET', `/v2/calls?${new URLSearchParams(window)}`)).body.calls as GongRecord[];
    expect(listed.find((call) => call.id === callId)).toEqual(expectedMetaData());
    expect(listed.find((call) => call.id === internalId)).toMatchObject({ scope: 'Internal', title: null, scheduled: null, duration: null, system: null, workspaceId: h.provider.data.workspaces.at(-1)!.id });
    // From after the call's start, it is no longer in the window (which may then hold no call at all: a 404).
    const later = (await send(h, 'GET', `/v2/calls?${new URLSearchParams({ ...window, fromDateTime: '2026-03-10T11:32:11Z' })}`)).body.calls as GongRecord[] | undefined;
    expect((later ?? []).map((call) => call.id)).not.toContain(callId);
  });

  it('POST /v2/calls/extensive lists it with every section asked for, as an unprocessed call', async () => {
    const body = { filter: { callIds: [callId] }, contentSelector: FULL_CONTENT_SELECTOR };
    const { calls } = (await send(h, 'POST', '/v2/calls/extensive', body)).body as { calls: GongRecord[] };
    const [partyHost, partyBuyer] = (calls[0]!.parties as GongRecord[]).map((party) => party.id);
    expect(calls).toEqual([
      {
        metaData: expectedMetaData(),
        context: [],
        parties: [
          { id: partyHost, emailAddress: hostEmail, name: 'The Host', title: null, userId: host, speakerId: null, context: [], affiliation: 'Internal', methods: ['Invitee'] },
          { id: partyBuyer, emailAddress: 'buyer@globex.example', name: 'Bea Buyer', title: null, speakerId: null, context: [], affiliation: 'External', phoneNumber: '+1 555-0100', methods: ['Invitee'] },
        ],
        collaboration: { publicComments: [] },
        media: { audioUrl: null, videoUrl: null },
      },
    ]);
    expect([partyHost, partyBuyer].every((id) => /^\d{17,19}$/.test(String(id)))).toBe(true);
    // Without a selector: metaData only.
    expect((await send(h, 'POST', '/v2/calls/extensive', { filter: { callIds: [callId] } })).body.calls).toEqual([{ metaData: expectedMetaData() }]);
  });

  it('POST /v2/calls/extensive finds written calls by window, callIds, primaryUserIds and workspaceId, beside generated ones', async () => {
    // A filter that matches nothing is Gong's 404, with no calls.
    const ids = async (filter: JsonRecord) => (((await send(h, 'POST', '/v2/calls/extensive', { filter })).body.calls ?? []) as Array<{ metaData: GongRecord }>).map((call) => call.metaData.id);
    const generated = [...h.provider.dataset.records('calls', { from: DateTime.fromISO(window.fromDateTime), to: DateTime.fromISO(window.toDateTime), contentSelector: {} })]
      .map((call) => (call.metaData as GongRecord).id)
      .filter((id) => id !== callId && id !== internalId);
    expect(generated.length).toBeGreaterThan(0);
    expect(await ids(window)).toEqual([...generated, callId, internalId]);
    expect(await ids({ callIds: [internalId, generated[0]!, callId] })).toEqual([generated[0], callId, internalId]);
    expect(await ids({ ...window, primaryUserIds: [host] })).toEqual(expect.arrayContaining([callId, internalId]));
    expect(await ids({ ...window, workspaceId: h.provider.data.workspaces.at(-1)!.id })).toContain(internalId);
    const elsewhere = h.provider.data.workspaces.find((workspace) => workspace.id !== expectedMetaData().workspaceId)!.id;
    expect(await ids({ ...window, workspaceId: elsewhere })).not.toContain(callId);
  });

  it('POST /v2/calls/transcript lists a written call with no transcript, not a 404', async () => {
    expect((await send(h, 'POST', '/v2/calls/transcript', { filter: { callIds: [callId] } })).body).toEqual({
      requestId: expect.stringMatching(REQUEST_ID),
      records: { totalRecords: 1, currentPageSize: 1, currentPageNumber: 0 },
      callTranscripts: [{ callId, transcript: [] }],
    });
  });

  it('serves a written call from its creation on, with no processing delay, and counts it in the dataset', async () => {
    h.clock.now = START.plus({ minutes: 1 });
    const created = (await send(h, 'POST', '/v2/calls', minimalCall(host, 'pbx-now'))).body.callId as string;
    expect((await send(h, 'GET', `/v2/calls/${created}`)).status).toBe(200);
    const timing = h.provider.dataset.callTiming(created)!;
    expect([timing.started.toISO(), timing.servedFrom.toISO()]).toEqual(['2026-03-09T12:00:00.000Z', '2026-03-10T15:01:00.000Z']);
    const before = h.provider.dataset.count('calls', { visibleAt: START });
    expect(h.provider.dataset.count('calls', { visibleAt: START.plus({ minutes: 1 }) }) - before).toBe(1);
    expect([...h.provider.dataset.records('transcripts')].at(-1)).toEqual({ callId: created, transcript: [] });
  });
});

describe('Gong sandbox: paging with written calls among generated ones', () => {
  let h: Harness;
  const from = '2026-02-01T00:00:00Z';
  const to = '2026-03-10T00:00:00Z';

  beforeAll(async () => {
    h = await harness();
    const { host } = hosts(h.provider);
    for (let i = 0; i < 150; i++) {
      const started = DateTime.fromISO(from, { zone: 'utc' }).plus({ hours: 6 * i }).toISO()!;
      expect((await send(h, 'POST', '/v2/calls', minimalCall(host, `pbx-page-${i}`, { actualStart: started }))).status).toBe(200);
    }
  });
  afterAll(() => h.server.close());

  it.each([
    { path: '/v2/calls/extensive', method: 'POST' as const },
    { path: '/v2/calls', method: 'GET' as const },
  ])('$method $path: cursors reach every call once, and totalRecords counts both kinds on every page', async ({ path, method }) => {
    const expected = [...h.provider.dataset.records('calls', { from: DateTime.fromISO(from), to: DateTime.fromISO(to), contentSelector: {} })].map((call) => (call.metaData as GongRecord).id);
    // The last two written calls start at `to`, outside the window.
    const written = h.provider.writes.calls().filter((call) => DateTime.fromISO(call.fields.actualStart) < DateTime.fromISO(to)).map((call) => call.callId);
    expect(written).toHaveLength(148);
    // The generated calls alone fill more than a page, so written ones begin mid-page and span pages.
    expect(expected.length - written.length).toBeGreaterThan(100);
    expect(expected.slice(-written.length)).toEqual(written);
    const seen: unknown[] = [];
    let cursor: string | undefined;
    let pageNumber = 0;
    do {
      const page =
        method === 'POST'
          ? await send(h, 'POST', path, { filter: { fromDateTime: from, toDateTime: to }, ...(cursor ? { cursor } : {}) })
          : await send(h, 'GET', `${path}?${new URLSearchParams({ fromDateTime: from, toDateTime: to, ...(cursor ? { cursor } : {}) })}`);
      expect(page.status).toBe(200);
      const calls = page.body.calls as GongRecord[];
      expect(page.body.records).toMatchObject({ totalRecords: expected.length, currentPageSize: calls.length, currentPageNumber: pageNumber++ });
      seen.push(...calls.map((call) => (method === 'POST' ? (call.metaData as GongRecord).id : call.id)));
      cursor = page.body.records.cursor;
      expect(pageNumber).toBeLessThan(10);
    } while (cursor);
    expect(seen).toEqual(expected);
  });
});

describe('Gong sandbox: written calls through the tap', () => {
  it('the gong_calls stream reads each written call back with the values written', async () => {
    const h = await harness();
    try {
      const { host, hostEmail } = hosts(h.provider);
      const bodies = [fullCall(host, hostEmail, 'pbx-tap-full'), minimalCall(host, 'pbx-tap-min', { downloadMediaUrl: 'https://upload.example/x.mp3', title: 'Short' })];
      const ids: string[] = [];
      for (const body of bodies) ids.push((await send(h, 'POST', '/v2/calls', body)).body.callId);
      expect((await upload(h, ids[0]!, { mediaFile: Buffer.from('audio bytes') })).status).toBe(201);

      const config = h.server.tapConfig({ start_date: '2026-03-01T00:00:00Z' }) as Record<string, JsonRecord>;
      const catalog = { streams: [{ tap_stream_id: 'gong_calls', metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] } as never;
      const run = await collectSync({ ...config, gong: { ...config.gong, requests_per_second: 100 } }, { now: h.clock.now, catalog });
      const synced = new Map((run.records.gong_calls ?? []).map((record) => [record.id, record]));

      // What the API serves for the selector the tap sends, lifted as the tap lifts it.
      const served = new Map([...h.provider.dataset.records('calls', { contentSelector: { context: 'Extended', exposedFields: { parties: true, collaboration: { publicComments: true } } } })].map((call) => [(call.metaData as GongRecord).id, call]));
      // The tap writes date-times in UTC: the same instants.
      const instant = (value: unknown) => (typeof value === 'string' ? DateTime.fromISO(value).toMillis() : value);
      const inUtc = (meta: JsonRecord) => ({ ...meta, scheduled: instant(meta.scheduled), started: instant(meta.started) });
      for (const [i, body] of bodies.entries()) {
        const record = synced.get(ids[i]!)!;
        const meta = record.metaData as JsonRecord;
        expect(record.id).toBe(ids[i]);
        expect(instant(record.started)).toBe(instant(body.actualStart));
        expect(inUtc(meta)).toMatchObject({ clientUniqueId: body.clientUniqueId, title: body.title, primaryUserId: host, direction: body.direction, started: instant(body.actualStart), media: 'Audio' });
        expect(inUtc(meta)).toEqual(inUtc(served.get(ids[i]!)!.metaData as JsonRecord));
        expect(record.parties).toEqual(served.get(ids[i]!)!.parties);
        expect((record.parties as JsonRecord[]).map((party) => [party.emailAddress ?? null, party.userId ?? null])).toEqual((body.parties as JsonRecord[]).map((party) => [party.emailAddress ?? null, party.userId ?? null]));
        expect(record).toMatchObject({ context: [], collaboration: { publicComments: [] }, content: null, interaction: null });
      }
      expect((synced.get(ids[0]!)!.metaData as JsonRecord).duration).toBe(126);
    } finally {
      await h.server.close();
    }
  });
});

describe('Gong sandbox: writes are deterministic', () => {
  it('two sandboxes of one seed answer the same writes with the same ids; another seed with others', async () => {
    const idsOf = async (seed: number) => {
      const h = await harness({ seed });
      try {
        const { host, hostEmail } = hosts(h.provider);
        const callIds = [];
        for (const key of ['pbx-a', 'pbx-b', 'pbx-c']) callIds.push((await send(h, 'POST', '/v2/calls', fullCall(host, hostEmail, key))).body.callId as string);
        const { calls } = (await send(h, 'POST', '/v2/calls/extensive', { filter: { callIds }, contentSelector: { exposedFields: { parties: true } } })).body;
        return (calls as GongRecord[]).map((call) => [(call.metaData as GongRecord).id, ...(call.parties as GongRecord[]).map((party) => party.id)]);
      } finally {
        await h.server.close();
      }
    };
    const first = await idsOf(7);
    expect(new Set(first.flat()).size).toBe(9);
    expect(await idsOf(7)).toEqual(first);
    expect((await idsOf(8)).map((ids) => ids[0])).not.toEqual(first.map((ids) => ids[0]));
  });
});
