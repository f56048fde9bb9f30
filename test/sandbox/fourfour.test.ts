import { XMLParser } from 'fast-xml-parser';
import { DateTime, Duration } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFourfourSandbox,
  ENTITY_SET_NAMES,
  FOURFOUR_SANDBOX_CLIENT_ID,
  FOURFOUR_SANDBOX_CLIENT_SECRET,
  FOURFOUR_SANDBOX_PERSONAL_TOKEN,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
  type ApiRecord,
  type EntitySetName,
  type FourfourSandbox,
  type FourfourSandboxSettings,
} from '../../src/sandbox/fourfour/index.js';
import { ascending, cut, descending, type Run } from '../../src/sandbox/fourfour/runs.js';
import type { StartSandboxOptions } from '../../src/sandbox/server.js';
import { startOneSandbox, type OneSandbox } from '../helpers/sandbox.js';

const START = DateTime.fromISO('2026-03-10T15:00:00Z', { zone: 'utc' });
const AUTH = { authorization: `Bearer ${FOURFOUR_SANDBOX_PERSONAL_TOKEN}` };
const pagesOf = (size: number | string, name = 'odata.maxpagesize') => ({ ...AUTH, prefer: `${name}=${size}` });

type Harness = OneSandbox<FourfourSandbox>;

function harness(settings: FourfourSandboxSettings = {}, options: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  return startOneSandbox(START, (o) => createFourfourSandbox(o, settings), options);
}

async function get(url: string, headers: Record<string, string> = AUTH) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  const isJson = /json/.test(response.headers.get('content-type') ?? '');
  return { status: response.status, headers: response.headers, text, body: (isJson ? JSON.parse(text) : text) as Record<string, any> };
}

/** Follows next links from `url`, each with `headers`; returns every record and every page. */
async function readAll(url: string, nextLinkKey = '@odata.nextLink', headers = AUTH) {
  const records: ApiRecord[] = [];
  const pages: Array<Record<string, any>> = [];
  for (let next: string | undefined = url; next; ) {
    const { status, body } = await get(next, headers);
    expect(status).toBe(200);
    pages.push(body);
    records.push(...body.value);
    next = body[nextLinkKey] === undefined ? undefined : new URL(body[nextLinkKey], next).toString();
    expect(pages.length).toBeLessThan(1000);
  }
  return { records, pages };
}

const ms = (iso: unknown) => DateTime.fromISO(String(iso)).toMillis();
const byUpdatedThenId = (a: ApiRecord, b: ApiRecord) => ms(a.updated) - ms(b.updated) || String(a.id).localeCompare(String(b.id));

describe('Four/Four sandbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.server.close());

  describe('$metadata', () => {
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ['EntityType', 'ComplexType', 'Property', 'NavigationProperty', 'EntitySet', 'NavigationPropertyBinding', 'PropertyRef'].includes(name) });
    const schemaOf = (xml: string) => parser.parse(xml)['edmx:Edmx']['edmx:DataServices'].Schema;

    it('is an OData v4 CSDL document served without auth', async () => {
      const { status, headers, text } = await get(`${h.base}/odata/$metadata`, {});
      expect(status).toBe(200);
      expect(headers.get('content-type')).toMatch(/^application\/xml/);
      const document = parser.parse(text);
      expect(document['edmx:Edmx'].Version).toBe('4.0');
      const schema = document['edmx:Edmx']['edmx:DataServices'].Schema;
      expect(schema.Namespace).toBe('FourFour');
      expect(schema.EntityContainer.EntitySet.map((s: { Name: string }) => s.Name)).toEqual([...ENTITY_SET_NAMES]);
      expect(schema.EntityContainer.Singleton.Name).toBe('me');
    });

    it('types every entity with a key, all nine primitive types, complex, collection and navigation properties', async () => {
      const schema = schemaOf((await get(`${h.base}/odata/$metadata`, {})).text);
      const properties = schema.EntityType.flatMap((t: { Property: Array<{ Type: string }> }) => t.Property);
      for (const type of schema.EntityType) expect(type.Key.PropertyRef).toEqual([{ Name: 'id' }]);
      const types = new Set<string>(properties.map((p: { Type: string }) => p.Type));
      for (const primitive of ['String', 'Int32', 'Int64', 'Decimal', 'Double', 'Boolean', 'DateTimeOffset', 'Date', 'Guid']) expect(types).toContain(`Edm.${primitive}`);
      expect(schema.ComplexType.length).toBeGreaterThan(0);
      expect([...types].some((t) => t.startsWith('Collection('))).toBe(true);
      expect([...types].some((t) => t.startsWith('FourFour.'))).toBe(true);
      const contact = schema.EntityType.find((t: { Name: string }) => t.Name === 'Contact');
      expect(contact.NavigationProperty).toContainEqual(expect.objectContaining({ Name: 'account', Type: 'FourFour.Account' }));
      const conversation = schema.EntityType.find((t: { Name: string }) => t.Name === 'Conversation');
      expect(conversation.NavigationProperty).toContainEqual({ Name: 'fragments', Type: 'Collection(FourFour.Fragment)' });
    });

    it('describes exactly the records each entity set serves, property by property', async () => {
      const schema = schemaOf((await get(`${h.base}/odata/$metadata`, {})).text);
      const complexTypes = new Map<string, Array<{ Name: string; Type: string; Nullable?: string }>>(schema.ComplexType.map((t: { Name: string; Property: [] }) => [`FourFour.${t.Name}`, t.Property]));
      const entitySets = new Map<string, string>(schema.EntityContainer.EntitySet.map((s: { Name: string; EntityType: string }) => [s.Name, s.EntityType]));
      const matches = (type: string, value: unknown): boolean => {
        const collection = /^Collection\((.+)\)$/.exec(type);
        if (collection) return Array.isArray(value) && value.every((item) => matches(collection[1]!, item));
        const complex = complexTypes.get(type);
        if (complex) return Object.keys(value as object).join() === complex.map((p) => p.Name).join() && complex.every((p) => (value as Record<string, unknown>)[p.Name] === null ? p.Nullable !== 'false' : matches(p.Type, (value as Record<string, unknown>)[p.Name]));
        switch (type) {
          case 'Edm.Guid':
            return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
          case 'Edm.DateTimeOffset':
            return typeof value === 'string' && /Z$/.test(value) && DateTime.fromISO(value).isValid;
          case 'Edm.Date':
            return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
          case 'Edm.Int32':
          case 'Edm.Int64':
            return Number.isInteger(value);
          case 'Edm.Decimal':
          case 'Edm.Double':
            return typeof value === 'number';
          case 'Edm.Boolean':
            return typeof value === 'boolean';
          default:
            return typeof value === 'string';
        }
      };
      for (const set of ENTITY_SET_NAMES) {
        const type = schema.EntityType.find((t: { Name: string }) => `FourFour.${t.Name}` === entitySets.get(set));
        const declared: Array<{ Name: string; Type: string; Nullable?: string }> = type.Property;
        const { body } = await get(`${h.base}/odata/${set}?$top=40`);
        expect(body.value.length, set).toBeGreaterThan(0);
        for (const record of body.value as ApiRecord[]) {
          expect(Object.keys(record), set).toEqual(declared.map((p) => p.Name));
          for (const p of declared) {
            const value = record[p.Name];
            expect(value === null ? p.Nullable !== 'false' : matches(p.Type, value), `${set}.${p.Name} = ${JSON.stringify(value)} as ${p.Type}`).toBe(true);
          }
        }
      }
    });

    it('gives Contacts and Leads the fields of the reference fixtures', () => {
      const [contact] = h.provider.dataset.records('Contacts');
      expect(Object.keys(contact!)).toEqual(['id', 'first_name', 'last_name', 'email', 'phone', 'title', 'account_id', 'department', 'lead_source', 'owner_id', 'region', 'created', 'updated']);
      const [lead] = h.provider.dataset.records('Leads');
      expect(Object.keys(lead!)).toEqual([
        'id', 'first_name', 'last_name', 'title', 'company', 'email', 'phone', 'website', 'lead_source', 'status', 'industry', 'annual_revenue',
        'number_of_employees', 'owner_id', 'is_converted', 'converted_date', 'converted_account_id', 'converted_contact_id', 'converted_opportunity_id',
        'account_id', 'region', 'created', 'updated',
      ]);
    });
  });

  describe('auth', () => {
    it('refuses a request without a token with a bare Bearer challenge', async () => {
      const { status, headers, body } = await get(`${h.base}/odata/Contacts`, {});
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toBe('Bearer realm="fourfour"');
      expect(body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    });

    it('refuses an unknown token with error="invalid_token"', async () => {
      const { status, headers, body } = await get(`${h.base}/odata/Contacts`, { authorization: 'Bearer nope' });
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toMatch(/^Bearer realm="fourfour", error="invalid_token"/);
      expect(body.error).toBe('invalid_token');
    });

    it('accepts Basic auth with any user name and the token as password', async () => {
      const basic = `Basic ${Buffer.from(`powerbi:${FOURFOUR_SANDBOX_PERSONAL_TOKEN}`).toString('base64')}`;
      expect((await get(`${h.base}/odata/Labels`, { authorization: basic })).status).toBe(200);
      const wrong = `Basic ${Buffer.from('powerbi:wrong').toString('base64')}`;
      expect((await get(`${h.base}/odata/Labels`, { authorization: wrong })).status).toBe(401);
    });

    it('answers me with the token user (the first owner) and the workspace', async () => {
      const { status, body } = await get(`${h.base}/odata/me`);
      expect(status).toBe(200);
      const [owner] = h.provider.dataset.records('Owners');
      expect(body).toMatchObject({ id: owner!.id, email: owner!.email, name: `${owner!.first_name} ${owner!.last_name}`, scope: 'api:read' });
      expect(body.workspace).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: expect.any(String) });
    });
  });

  describe('OAuth token endpoint', () => {
    const refresh = (base: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) }).then(async (r) => ({
        status: r.status,
        headers: r.headers,
        body: (await r.json()) as Record<string, any>,
      }));
    const credentials = { client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET };

    it('rotates refresh tokens: each refresh issues a new one and refuses the old one from then on', async () => {
      const t = await harness();
      try {
        const first = await refresh(t.base, { grant_type: 'refresh_token', refresh_token: FOURFOUR_SANDBOX_REFRESH_TOKEN, ...credentials });
        expect(first.status).toBe(200);
        expect(first.headers.get('cache-control')).toBe('no-store');
        expect(first.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 86400, refresh_token: expect.any(String), scope: 'api:read' });
        expect(first.body.refresh_token).not.toBe(FOURFOUR_SANDBOX_REFRESH_TOKEN);
        expect((await get(`${t.base}/odata/me`, { authorization: `Bearer ${first.body.access_token}` })).status).toBe(200);

        const reused = await refresh(t.base, { grant_type: 'refresh_token', refresh_token: FOURFOUR_SANDBOX_REFRESH_TOKEN, ...credentials });
        expect(reused.status).toBe(400);
        expect(reused.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });

        // Client credentials may also come as HTTP Basic.
        const basic = `Basic ${Buffer.from(`${FOURFOUR_SANDBOX_CLIENT_ID}:${FOURFOUR_SANDBOX_CLIENT_SECRET}`).toString('base64')}`;
        const second = await refresh(t.base, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, { authorization: basic });
        expect(second.status).toBe(200);
        expect(second.body.access_token).not.toBe(first.body.access_token);
      } finally {
        await t.server.close();
      }
    });

    it.each([
      ['a wrong client secret', { grant_type: 'refresh_token', refresh_token: 'x', client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: 'wrong' }, 401, 'invalid_client'],
      ['another grant type', { grant_type: 'client_credentials', client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET }, 400, 'unsupported_grant_type'],
      ['no refresh token', { grant_type: 'refresh_token', client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET }, 400, 'invalid_request'],
      ['an unknown refresh token', { grant_type: 'refresh_token', refresh_token: 'forged', client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET }, 400, 'invalid_grant'],
    ])('refuses %s with the OAuth error body', async (_case, form, status, error) => {
      const response = await refresh(h.base, form);
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error, error_description: expect.any(String) });
    });

    it('refuses a JSON token request: RFC 6749 wants a form', async () => {
      const response = await fetch(`${h.base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token' }) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('expires access tokens after expires_in seconds of the injected clock', async () => {
      const t = await harness({ accessTokenLifetime: Duration.fromObject({ seconds: 60 }) });
      try {
        const { body } = await refresh(t.base, { grant_type: 'refresh_token', refresh_token: FOURFOUR_SANDBOX_REFRESH_TOKEN, ...credentials });
        expect(body.expires_in).toBe(60);
        const auth = { authorization: `Bearer ${body.access_token}` };
        t.clock.now = START.plus({ seconds: 59 });
        expect((await get(`${t.base}/odata/Labels`, auth)).status).toBe(200);
        t.clock.now = START.plus({ seconds: 60 });
        const expired = await get(`${t.base}/odata/Labels`, auth);
        expect(expired.status).toBe(401);
        expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect(expired.body.error_description).toMatch(/expired/);
      } finally {
        await t.server.close();
      }
    });
  });

  describe('envelope and paging', () => {
    it('pages by its default 50 without a page-size preference, with absolute @odata.nextLink carrying $skip until the last page, which has none', async () => {
      const first = await get(`${h.base}/odata/Contacts?$count=true`);
      expect(first.headers.get('odata-version')).toBe('4.0');
      expect(first.headers.get('preference-applied')).toBeNull();
      expect(first.body['@odata.context']).toBe(`${h.base}/odata/$metadata#Contacts`);
      expect(first.body['@odata.count']).toBe(h.provider.dataset.count('Contacts'));
      expect(first.body.value).toHaveLength(50);
      expect(first.body['@odata.nextLink']).toBe(`${h.base}/odata/Contacts?$count=true&$skip=50`);

      const { records, pages } = await readAll(`${h.base}/odata/Contacts`);
      expect(records).toEqual([...h.provider.dataset.records('Contacts')]);
      expect(pages.at(-1)!['@odata.nextLink']).toBeUndefined();
      expect(pages.slice(0, -1).every((page) => page.value.length === 50)).toBe(true);
    });

    it.each([
      ['odata.maxpagesize=80', pagesOf(80), 80, 'odata.maxpagesize=80'],
      ['more than its maximum of 100', pagesOf(5000), 100, 'odata.maxpagesize=100'],
      ['the bare 4.01 name, quoted, among other preferences', { ...AUTH, prefer: 'respond-async, MaxPageSize="30"; x=1' }, 30, 'MaxPageSize=30'],
    ])('honours Prefer: %s, saying in Preference-Applied what it applied', async (_case, headers, size, applied) => {
      const first = await get(`${h.base}/odata/Contacts`, headers);
      expect(first.body.value).toHaveLength(size);
      expect(first.headers.get('preference-applied')).toBe(applied);
      expect(first.body['@odata.nextLink']).toBe(`${h.base}/odata/Contacts?$skip=${size}`);
      const { records, pages } = await readAll(`${h.base}/odata/Contacts`, '@odata.nextLink', headers);
      expect(records).toEqual([...h.provider.dataset.records('Contacts')]);
      expect(pages.slice(0, -1).every((page) => page.value.length === size)).toBe(true);
    });

    it('ignores a page-size preference that is not a positive integer (RFC 7240)', async () => {
      for (const size of ['0', '-5', 'lots']) {
        const { body, headers } = await get(`${h.base}/odata/Contacts`, pagesOf(size));
        expect(body.value, size).toHaveLength(50);
        expect(headers.get('preference-applied'), size).toBeNull();
      }
    });

    it('reads $top as a cap on the whole result, the next links carrying the budget left', async () => {
      const all = [...h.provider.dataset.records('Contacts')];
      const byDefault = await readAll(`${h.base}/odata/Contacts?$top=130`);
      expect(byDefault.pages.map((page) => page.value.length)).toEqual([50, 50, 30]);
      expect(byDefault.pages.map((page) => page['@odata.nextLink'])).toEqual([`${h.base}/odata/Contacts?$skip=50&$top=80`, `${h.base}/odata/Contacts?$skip=100&$top=30`, undefined]);
      expect(byDefault.records).toEqual(all.slice(0, 130));

      const preferred = await readAll(`${h.base}/odata/Contacts?$skip=10&$top=130`, '@odata.nextLink', pagesOf(100));
      expect(preferred.pages.map((page) => page.value.length)).toEqual([100, 30]);
      expect(preferred.records).toEqual(all.slice(10, 140));

      // A $top above the set's size reads it all; a page-sized $top reads one page and stops.
      expect((await readAll(`${h.base}/odata/Contacts?$top=5000`)).records).toEqual(all);
      const onePage = await get(`${h.base}/odata/Contacts?$top=50`);
      expect(onePage.body.value).toEqual(all.slice(0, 50));
      expect(onePage.body['@odata.nextLink']).toBeUndefined();
    });

    it('takes top/skip without the $ (OData 4.01, as AMP sends them) and keeps the other options in the next link', async () => {
      const filter = encodeURIComponent(`updated ge ${START.minus({ days: 30 }).toISO()}`);
      const { body } = await get(`${h.base}/odata/Contacts?top=70&skip=5&$filter=${filter}`);
      expect(body.value).toHaveLength(50);
      const next = new URL(body['@odata.nextLink']);
      expect(next.searchParams.get('$skip')).toBe('55');
      expect(next.searchParams.get('$top')).toBe('20');
      expect(next.searchParams.has('top')).toBe(false);
      expect(next.searchParams.has('skip')).toBe(false);
      expect(next.searchParams.get('$filter')).toBe(decodeURIComponent(filter));
      expect(body['@odata.nextLink']).toContain('$filter=updated%20ge%20');
    });

    it('answers past the end, and $top=0, with an empty page and no next link', async () => {
      const past = await get(`${h.base}/odata/Contacts?$skip=100000`);
      expect(past.body.value).toEqual([]);
      expect(past.body['@odata.nextLink']).toBeUndefined();
      const none = await get(`${h.base}/odata/Contacts?$top=0&$count=true`);
      expect(none.body.value).toEqual([]);
      expect(none.body['@odata.nextLink']).toBeUndefined();
      expect(none.body['@odata.count']).toBe(h.provider.dataset.count('Contacts'));
    });

    it('counts with /$count as plain text, filter applied', async () => {
      const { body, headers } = await get(`${h.base}/odata/Labels/$count`);
      expect(headers.get('content-type')).toMatch(/^text\/plain/);
      expect(body).toBe(String(h.provider.dataset.count('Labels')));
      const filtered = await get(`${h.base}/odata/Labels/$count?$filter=is_system eq true`);
      expect(Number(filtered.body)).toBe([...h.provider.dataset.records('Labels')].filter((l) => l.is_system).length);
    });

    it('selects properties with $select and says so in the context URL', async () => {
      const { body } = await get(`${h.base}/odata/Contacts?$select=id,email&$top=3`);
      expect(body['@odata.context']).toBe(`${h.base}/odata/$metadata#Contacts(id,email)`);
      expect(body.value.map((r: ApiRecord) => Object.keys(r))).toEqual([['id', 'email'], ['id', 'email'], ['id', 'email']]);
    });

    describe('with the short spelling, relative links and a maximum page below the default', () => {
      let t: Harness;
      beforeAll(async () => {
        t = await harness({ annotations: 'short', nextLinks: 'relative', maxPageSize: 40 });
      });
      afterAll(() => t.server.close());

      it('spells control information @context/@count/@nextLink and links relative to the request', async () => {
        const { body } = await get(`${t.base}/odata/Contacts?$count=true`);
        expect(Object.keys(body)).toEqual(['@context', '@count', 'value', '@nextLink']);
        expect(body['@nextLink']).toBe('Contacts?$count=true&$skip=40');
        const { records } = await readAll(`${t.base}/odata/Contacts`, '@nextLink');
        expect(records).toEqual([...t.provider.dataset.records('Contacts')]);
      });
    });
  });

  describe('$filter and $orderby', () => {
    const contacts = () => [...h.provider.dataset.records('Contacts')];
    const query = async (set: EntitySetName, options: string) => (await readAll(`${h.base}/odata/${set}?${options}`)).records;

    it('filters updated with an inclusive lower and exclusive upper bound, served in updated order', async () => {
      const all = contacts().sort(byUpdatedThenId);
      const from = String(all[50]!.updated);
      const to = String(all[200]!.updated);
      const served = await query('Contacts', `$filter=${encodeURIComponent(`updated ge ${from} and updated lt ${to}`)}`);
      const expected = all.filter((c) => ms(c.updated) >= ms(from) && ms(c.updated) < ms(to));
      expect(served).toEqual(expected);
      expect(served[0]!.updated).toBe(from);
      expect(served.some((c) => c.updated === to)).toBe(false);
      // Some of them were created before the window and updated into it.
      expect(served.some((c) => ms(c.created) < ms(from))).toBe(true);
    });

    it('reads instants at any offset, including a + that arrived unencoded as a space', async () => {
      const instant = DateTime.fromISO(String(contacts()[120]!.updated)).setZone('UTC+2');
      const expected = contacts().filter((c) => ms(c.updated) > instant.toMillis()).length;
      for (const literal of [instant.toISO(), instant.toISO()!.replace('+', ' '), instant.toUTC().toISO()]) {
        const { status, body } = await get(`${h.base}/odata/Contacts?$count=true&$top=0&$filter=updated gt ${literal}`);
        expect(status, literal!).toBe(200);
        expect(body['@odata.count'], literal!).toBe(expected);
      }
    });

    it('filters created_at windows on the created_at sets', async () => {
      const insights = [...h.provider.dataset.records('Insights')];
      const from = String(insights[100]!.created_at);
      const to = String(insights[300]!.created_at);
      const served = await query('Insights', `$filter=created_at ge ${from} and created_at lt ${to}`);
      expect(served).toEqual(insights.slice(100, 300));
    });

    it('combines comparisons on any field with and, parentheses and literals of every kind', async () => {
      const from = String(contacts()[40]!.updated);
      const served = await query('Contacts', `$filter=${encodeURIComponent(`(region eq 'EMEA') and updated ge ${from} and phone ne null`)}`);
      expect(served).toEqual(contacts().filter((c) => c.region === 'EMEA' && ms(c.updated) >= ms(from) && c.phone !== null).sort(byUpdatedThenId));

      const leads = [...h.provider.dataset.records('Leads')];
      expect(await query('Leads', '$filter=number_of_employees gt 50000 and is_converted eq false')).toEqual(leads.filter((l) => Number(l.number_of_employees) > 50000 && !l.is_converted));
      expect(await query('Leads', '$filter=converted_date eq null')).toEqual(leads.filter((l) => l.converted_date === null));
      const owner = String(leads[3]!.owner_id);
      expect(await query('Leads', `$filter=owner_id eq ${owner.toUpperCase()}`)).toEqual(leads.filter((l) => l.owner_id === owner));
      expect(await query('Leads', `$filter=${encodeURIComponent("company eq 'O''Brien'")}`)).toEqual([]);
    });

    it('narrows a child set to one parent by its parent id', async () => {
      const conversation = [...h.provider.dataset.records('Conversations')][17]!;
      const fragments = await query('Fragments', `$filter=conversation_id eq ${conversation.id}`);
      expect(fragments.length).toBeGreaterThanOrEqual(4);
      expect(fragments.map((f) => f.sequence)).toEqual(fragments.map((_, i) => i));
      expect(fragments).toEqual([...h.provider.dataset.records('Fragments')].filter((f) => f.conversation_id === conversation.id));
    });

    it('sorts descending with ties broken by id, stable across pages', async () => {
      const served = await query('Contacts', '$orderby=updated desc');
      expect(served).toEqual(contacts().sort(byUpdatedThenId).reverse());
      const { records: byName } = await readAll(`${h.base}/odata/Contacts?$orderby=last_name,first_name desc`, '@odata.nextLink', pagesOf(30));
      const expected = contacts().sort((a, b) => String(a.last_name).localeCompare(String(b.last_name)) || String(b.first_name).localeCompare(String(a.first_name)) || String(a.id).localeCompare(String(b.id)));
      expect(byName.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    });

    it.each([
      ['an unknown property', '$filter=nope eq 1', 400, /Could not find a property named 'nope' on type 'FourFour.Contact'/],
      ['a type mismatch', "$filter=updated ge '2024-01-01'", 400, /incompatible types/],
      ['a local time without offset', '$filter=updated ge 2024-01-01T00:00:00', 400, /RFC 3339/],
      ['bad syntax', '$filter=updated ge', 400, /ends unexpectedly/],
      ['an unknown operator', '$filter=updated after 2024-01-01T00:00:00Z', 400, /unknown operator/],
      ['or', "$filter=region eq 'NA' or region eq 'EMEA'", 501, /'or'/],
      ['a function', "$filter=contains(email,'x')", 501, /contains/],
      ['an unknown $orderby property', '$orderby=nope desc', 400, /nope/],
      ['an unknown $select property', '$select=id,nope', 400, /nope/],
      ['a negative $top', '$top=-1', 400, /non-negative integer/],
      ['$top twice', '$top=5&top=6', 400, /more than once/],
      ['an unknown system option', '$foo=1', 400, /\$foo/],
      ['$expand', '$expand=account', 501, /expand/],
    ])('answers %s with an OData error body', async (_case, options, status, message) => {
      const response = await get(`${h.base}/odata/Contacts?${options}`);
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: { code: expect.any(String), message: expect.stringMatching(message) } });
    });

    it('has no change field on the full-table sets', async () => {
      expect(h.provider.dataset.incrementalField('Labels')).toBeUndefined();
      const response = await get(`${h.base}/odata/Labels?$filter=updated ge 2024-01-01T00:00:00Z`);
      expect(response.status).toBe(400);
    });
  });

  describe('resources', () => {
    it('answers an unknown or wrongly cased entity set with 404 and the OData error body', async () => {
      for (const set of ['Widgets', 'contacts']) {
        const { status, body } = await get(`${h.base}/odata/${set}`);
        expect(status).toBe(404);
        expect(body).toEqual({ error: { code: 'NotFound', message: expect.stringContaining(set) } });
      }
    });

    it('is read-only', async () => {
      const response = await fetch(`${h.base}/odata/Contacts`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(405);
    });

    it('lists the entity sets in the service document', async () => {
      const { body } = await get(`${h.base}/odata`);
      expect(body.value.map((entry: { name: string }) => entry.name)).toEqual([...ENTITY_SET_NAMES, 'me']);
    });

    it('answers a rate-limit breach with 429, Retry-After and an OData error', async () => {
      const t = await harness({ requestsPerSecond: 5 }, { unlimited: false });
      try {
        const responses = await Promise.all(Array.from({ length: 8 }, () => get(`${t.base}/odata/Labels`)));
        const limited = responses.filter((r) => r.status === 429);
        expect(limited).toHaveLength(3);
        expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(limited[0]!.body).toEqual({ error: { code: 'TooManyRequests', message: expect.any(String) } });
      } finally {
        await t.server.close();
      }
    });
  });

  describe('data over time', () => {
    it('anchors history on the start of the creation day, so a restart the same day serves the same data', async () => {
      const later = await harness();
      later.clock.now = START.plus({ hours: 6 });
      try {
        expect(h.provider.dataset.anchor.toISO()).toBe('2026-03-10T00:00:00.000Z');
        const atStart = { visibleAt: START };
        expect([...later.provider.dataset.records('Contacts', atStart)]).toEqual([...h.provider.dataset.records('Contacts', atStart)]);
        const beforeAnchor = [...h.provider.dataset.records('Contacts', { visibleAt: h.provider.dataset.anchor })];
        expect(ms(beforeAnchor.at(-1)!.created)).toBeLessThanOrEqual(h.provider.dataset.anchor.toMillis());
        expect(ms(beforeAnchor[0]!.created)).toBeGreaterThanOrEqual(h.provider.dataset.anchor.minus({ days: 90 }).toMillis());
      } finally {
        await later.server.close();
      }
    });

    it('shows records created and updated later once the clock passes them', async () => {
      const t = await harness();
      try {
        const before = [...t.provider.dataset.records('Contacts')];
        const watermark = before.reduce((max, c) => Math.max(max, ms(c.updated)), 0);
        t.clock.now = START.plus({ days: 2 });
        const filter = `updated gt ${DateTime.fromMillis(watermark, { zone: 'utc' }).toISO({ suppressMilliseconds: true })}`;
        const changed = (await readAll(`${t.base}/odata/Contacts?$filter=${encodeURIComponent(filter)}`)).records;
        const previous = new Map(before.map((c) => [c.id, c]));
        const created = changed.filter((c) => !previous.has(c.id));
        const updated = changed.filter((c) => previous.has(c.id));
        expect(created.length).toBeGreaterThan(0);
        expect(updated.length).toBeGreaterThan(0);
        for (const c of updated) expect(ms(previous.get(c.id)!.updated)).toBeLessThan(ms(c.updated));
        expect(updated.some((c) => c.title !== previous.get(c.id)!.title || c.owner_id !== previous.get(c.id)!.owner_id)).toBe(true);
        expect(t.provider.dataset.count('Contacts')).toBe(before.length + created.length);
      } finally {
        await t.server.close();
      }
    });

    it('keeps foreign keys pointing at records that exist', () => {
      const { dataset } = h.provider;
      const ids = new Map(ENTITY_SET_NAMES.map((set) => [set, new Set([...dataset.records(set)].map((r) => r.id))]));
      const references: Array<[EntitySetName, string, EntitySetName]> = [
        ['Contacts', 'account_id', 'Accounts'], ['Contacts', 'owner_id', 'Owners'], ['Fragments', 'conversation_id', 'Conversations'],
        ['Fragments', 'participant_id', 'Participants'], ['Participants', 'conversation_id', 'Conversations'], ['ChatMessages', 'chat_id', 'Chats'],
        ['TrackerIssues', 'project_id', 'TrackerProjects'], ['TrackerComments', 'issue_id', 'TrackerIssues'], ['Insights', 'conversation_id', 'Conversations'],
        ['Topics', 'topic_model_id', 'TopicModels'], ['Leads', 'converted_opportunity_id', 'Opportunities'], ['Cases', 'contact_id', 'Contacts'],
      ];
      for (const [set, property, target] of references) {
        const values = [...dataset.records(set)].map((r) => r[property]).filter((v) => v !== null);
        expect(values.length, `${set}.${property}`).toBeGreaterThan(0);
        for (const value of values) expect(ids.get(target)!.has(value), `${set}.${property} → ${target}`).toBe(true);
      }
      const participants = new Map([...dataset.records('Participants')].map((p) => [p.id, p]));
      for (const fragment of dataset.records('Fragments')) expect(participants.get(fragment.participant_id)!.conversation_id).toBe(fragment.conversation_id);
    });
  });

  describe('determinism and scale', () => {
    it('serves the same bytes for the same seed and different data for another', async () => {
      const again = await harness();
      const other = await harness({}, { seed: 8 });
      try {
        const path = '/odata/Leads?$top=20&$count=true';
        const texts = await Promise.all([h, again, other].map(async (s) => (await get(`${s.base}${path}`)).text.replaceAll(s.base, '')));
        expect(texts[1]).toBe(texts[0]);
        expect(texts[2]).not.toBe(texts[0]);
      } finally {
        await Promise.all([again.server.close(), other.server.close()]);
      }
    });

    it('scales record counts, children with their parents', async () => {
      const double = await harness({}, { scale: 2 });
      try {
        for (const set of ['Contacts', 'ChatMessages', 'Fragments'] as const) {
          const ratio = double.provider.dataset.count(set) / h.provider.dataset.count(set);
          expect(ratio, set).toBeGreaterThan(1.9);
          expect(ratio, set).toBeLessThan(2.1);
        }
      } finally {
        await double.server.close();
      }
    });

    it('serves pages deep into a million records quickly, without generating the ones before', async () => {
      const big = await harness({}, { scale: 3400 });
      try {
        const { dataset } = big.provider;
        const total = dataset.count('Contacts');
        expect(total).toBeGreaterThan(1_000_000);
        const started = performance.now();
        const deep = await get(`${big.base}/odata/Contacts?$skip=${total - 150}&$count=true`, pagesOf(100));
        expect(deep.body['@odata.count']).toBe(total);
        expect(deep.body.value).toHaveLength(100);
        expect(deep.body.value[0]).toEqual(dataset.record('Contacts', total - 150));

        const from = String(dataset.record('Contacts', Math.floor(total / 2)).created);
        const filter = encodeURIComponent(`updated ge ${from}`);
        const [a, b, counted] = await Promise.all([
          get(`${big.base}/odata/Contacts?$filter=${filter}&$skip=300000`, pagesOf(100)),
          get(`${big.base}/odata/Contacts?$filter=${filter}&$skip=300050`, pagesOf(100)),
          get(`${big.base}/odata/Contacts?$filter=${encodeURIComponent(`updated lt ${from}`)}&$top=0&$count=true&$orderby=updated desc`),
        ]);
        expect(performance.now() - started).toBeLessThan(3000);
        expect(a.body.value.slice(50)).toEqual(b.body.value.slice(0, 50));
        const keys = a.body.value.map((r: ApiRecord) => ms(r.updated));
        expect(keys.every((k: number, i: number) => k >= ms(from) && (i === 0 || k >= keys[i - 1]))).toBe(true);
        const above = await get(`${big.base}/odata/Contacts?$filter=${filter}&$top=0&$count=true`);
        expect(above.body['@odata.count'] + counted.body['@odata.count']).toBe(total);
      } finally {
        await big.server.close();
      }
    });
  });

  describe('sorted runs', () => {
    const run = (start: number, step: number, size: number, key: (i: number) => number): Run => ({ start, step, size, key });

    it('finds the k-th element of a union with ties broken by index, in both directions', () => {
      // Every key appears once in each run, so each step of the merge breaks a tie.
      const runs = [run(0, 2, 5, (i) => 10 + i * 5), run(1, 2, 5, (i) => 5 + i * 5)];
      const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ i, key: runs[i % 2]!.key(i) })).sort((a, b) => a.key - b.key || a.i - b.i).map((e) => e.i);
      for (let rank = 0; rank <= all.length; rank++) {
        expect([...ascending(runs, cut(runs, rank))], `ascending from ${rank}`).toEqual(all.slice(rank));
        expect([...descending(runs, cut(runs, rank))], `descending before ${rank}`).toEqual(all.slice(0, rank).reverse());
      }
    });
  });
});
