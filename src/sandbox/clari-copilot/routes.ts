import { ApiError, badRequest } from '../kit/errors.js';
import type { Paging } from '../kit/paging.js';
import { instant, isAbsent, queryChoice, queryFlag, queryInteger, queryList, stringField } from '../kit/request.js';
import { list, lookup, type Route } from '../kit/routes.js';
import { callFields, crmFields } from './bodies.js';
import type { MediaOptions } from './calls.js';
import type { CrmObject } from './crm.js';
import type { ApiRecord, CallQuery, Tenant } from './dataset.js';
import { CALL_STATUSES, CALL_TYPES } from './vocabulary.js';

/** What Clari Copilot's routes read: the tenant, the moment whose records are served, and the templates' key. */
export interface ClariContext {
  tenant: Tenant;
  visibleAtMs: () => number;
  /**
   * The records key of `/scorecard-template`: `scorecardTemplates` is what the live API returns
   * (github.com/amp-labs/connectors PR #2791), `scoreCardTemplates` what CLARI-OAS documents.
   */
  templatesKey: string;
}

/** CLARI-OAS `skip`: "maximum 10000". */
const MAX_SKIP = 10_000;
/** CLARI-OAS `limit` of `/calls`: default 25, at most 100. */
export const CALLS_PAGE_SIZE = 25;
const CRM_OBJECTS: readonly CrmObject[] = ['account', 'contact', 'deal'];
const skipLimit = (defaultLimit: number, paginationFlag?: string): Paging => ({ style: 'skip-limit', defaultLimit, maxLimit: 100, maxSkip: MAX_SKIP, ...(paginationFlag ? { paginationFlag } : {}) });

/**
 * The endpoints of the Clari Copilot REST API (CLARI-OAS, https://api-doc.copilot.clari.com/spec.yaml): the
 * reads, and the writes of calls and CRM objects.
 * Parameters an endpoint does not define are ignored: nothing documents a refusal, and clients send
 * `limit` and `filterModifiedGt` to every object (github.com/amp-labs/connectors providers/claricopilot).
 *
 * Every `…Gt`/`…Lt` filter is strict (after / before the given time), as the parameter names say;
 * CLARI-OAS's prose ("filters out calls … before passed time") leaves the boundary itself open.
 */
export const CLARI_ROUTES: readonly Route<ClariContext>[] = [
  list({
    method: 'GET',
    path: '/calls',
    filters: ({ query }) => callQuery(query),
    paging: skipLimit(CALLS_PAGE_SIZE, 'includePagination'),
    envelope: 'calls',
    records: (query, clari) => clari.tenant.callSource(query, clari.visibleAtMs()),
  }),
  lookup({
    method: 'GET',
    path: '/call-details',
    required: { query: ['id'] },
    filters: ({ query }) => ({ id: query.get('id')!, media: media(query) }),
    envelope: 'call',
    record({ id, media }, clari) {
      // CLARI-OAS gives /call-details no includePrivate: whoever knows a private call's id may read it.
      const details = clari.tenant.callDetailsAt(id, clari.visibleAtMs(), media);
      if (!details) throw new ApiError(404, `Call ${id} not found`);
      return details;
    },
  }),
  list({ method: 'GET', path: '/users', envelope: 'users', records: (_, clari) => clari.tenant.users() }),
  list({ method: 'GET', path: '/topics', envelope: 'topics', records: (_, clari) => clari.tenant.keywordTopics(clari.visibleAtMs()) }),
  list({
    method: 'GET',
    path: '/v2/topics',
    filters: ({ query }) => ({ modifiedGt: instant('filterModifiedGt', query.get('filterModifiedGt')), modifiedLt: instant('filterModifiedLt', query.get('filterModifiedLt')) }),
    envelope: 'topics',
    records: (bounds, clari) => clari.tenant.topics(clari.visibleAtMs(), bounds),
  }),
  list({
    method: 'GET',
    path: '/scorecard',
    filters({ query }) {
      const repId = query.get('filterRepId');
      const scorerId = query.get('filterScorerId');
      return {
        // CLARI-OAS leaves open which time filterTime compares; the sandbox uses the scored call's time.
        bounds: { timeGt: instant('filterTimeGt', query.get('filterTimeGt')), timeLt: instant('filterTimeLt', query.get('filterTimeLt')) },
        accept: repId || scorerId ? (record: ApiRecord) => (!repId || record.rep === repId) && (!scorerId || record.scorer === scorerId) : undefined,
      };
    },
    paging: skipLimit(50),
    envelope: 'scorecards',
    records: (query, clari) => clari.tenant.scorecardSource(query, clari.visibleAtMs()),
  }),
  list({ method: 'GET', path: '/scorecard-template', envelope: (clari) => clari.templatesKey, records: (_, clari) => clari.tenant.scorecardTemplates() }),
  ...CRM_OBJECTS.flatMap(crmRoutes),
  lookup<ClariContext, ApiRecord>({
    method: 'POST',
    path: '/create-call',
    required: { body: ['source_id', 'call_time', 'type', 'audio_url'] },
    filters: ({ body }) => callFields(body),
    record(fields, clari) {
      requireRecordingUser(fields, clari.tenant);
      // CreateCallResponse `{call_id, error}`: the document does not say what `error` holds on success; empty here.
      // Stamped with the moment the API shows records of, as the CRM writes are: /calls lists the call at once.
      return { call_id: clari.tenant.writes.createCall(fields, clari.visibleAtMs()).call_id, error: '' };
    },
  }),
];

/**
 * An account, contact or deal: read (GET /get-account), create (POST /create-account), update (PUT
 * /update-account) and delete (DELETE /delete-account), and the same for contact and deal (Clari
 * Copilot OpenAPI). Every one names the object by its source (CRM) id: GET and DELETE take it as
 * `id`, so `crm_id` is required on create, although `AccountWithoutId` marks nothing required, as
 * a created object could not be read or deleted without it. Create and update answer the full object,
 * delete its last snapshot; the object a write touches is read the way GET reads it, 404 when none.
 */
function crmRoutes(object: CrmObject): Route<ClariContext>[] {
  return [
    lookup<ClariContext, string>({
      method: 'GET',
      path: `/get-${object}`,
      required: { query: ['id'] },
      filters: ({ query }) => query.get('id')!,
      record(crmId, clari) {
        const record = clari.tenant.writes.current(object, crmId, clari.visibleAtMs());
        if (!record) throw new ApiError(404, `No ${object} with id ${crmId}`);
        return record;
      },
    }),
    lookup<ClariContext, ApiRecord>({
      method: 'POST',
      path: `/create-${object}`,
      required: { body: ['crm_id'] },
      filters: ({ body }) => crmFields(object, body, false),
      record: (fields, clari) => clari.tenant.writes.create(object, fields, clari.visibleAtMs()),
    }),
    lookup<ClariContext, ApiRecord>({
      method: 'PUT',
      path: `/update-${object}`,
      filters({ body }) {
        const fields = crmFields(object, body, true);
        // The update body (`Account`, …) carries both ids; the document does not say which one finds the object.
        if (isAbsent(fields.crm_id) && isAbsent(fields.id)) throw badRequest('crm_id or id is required');
        return fields;
      },
      record: (fields, clari) => clari.tenant.writes.update(object, fields, clari.visibleAtMs()),
    }),
    lookup<ClariContext, string>({
      method: 'DELETE',
      path: `/delete-${object}`,
      // The body `{id}`: "source id of account".
      required: { body: ['id'] },
      filters: ({ body }) => stringField('id', body.id)!,
      record: (crmId, clari) => clari.tenant.writes.delete(object, crmId, clari.visibleAtMs()),
    }),
  ];
}

/**
 * Clari Copilot OpenAPI, POST /create-call `user_emails`: '"no recording user" error will be thrown if
 * there are no recording users in (user_emails U source_user_ids)'.
 */
function requireRecordingUser(fields: ApiRecord, tenant: Tenant): void {
  const recording = tenant.createdCalls.usersNamed(fields).some((user) => user.is_recording);
  if (!recording) throw badRequest('no recording user among user_emails and source_user_ids');
}

function callQuery(query: URLSearchParams): CallQuery {
  const sortTime = queryChoice(query, 'sortTime', ['asc', 'desc']);
  const sortProcessed = queryChoice(query, 'sortProcessed', ['asc', 'desc']);
  return {
    bounds: {
      timeGt: instant('filterTimeGt', query.get('filterTimeGt')),
      timeLt: instant('filterTimeLt', query.get('filterTimeLt')),
      modifiedGt: instant('filterModifiedGt', query.get('filterModifiedGt')),
      modifiedLt: instant('filterModifiedLt', query.get('filterModifiedLt')),
    },
    statuses: queryList(query, 'filterStatus', CALL_STATUSES),
    types: queryList(query, 'filterType', CALL_TYPES),
    includePrivate: queryFlag(query, 'includePrivate', false, true),
    accept: callFilter(query),
    // Without a sort the API lists newest calls first (CLARI-OAS example of /calls). "Last processed time" is
    // taken to be last_modified_time; sortTime wins when both are sent (CLARI-OAS does not combine them).
    order: sortTime ? { by: 'time', descending: sortTime === 'desc' } : { by: sortProcessed ? 'modified' : 'time', descending: sortProcessed !== 'asc' },
    media: media(query),
  };
}

/** The filters that look inside a call: users, attendees, topics, source ids and duration. */
function callFilter(query: URLSearchParams): ((record: ApiRecord) => boolean) | undefined {
  const users = queryList(query, 'filterUser');
  const attendees = queryList(query, 'filterAttendees');
  const topics = queryList(query, 'filterTopics');
  const sourceIds = queryList(query, 'filterSourceId');
  const durationGt = queryInteger(query, 'filterDurationGt', { min: 0, max: 7200 });
  const durationLt = queryInteger(query, 'filterDurationLt', { min: 0, max: 7200 });
  const tests: Array<(call: CallView) => boolean> = [];
  if (users) tests.push((call) => call.users.some((user) => users.has(user.userEmail)));
  if (attendees) tests.push((call) => [...call.externalParticipants, ...call.joinedParticipants].some((person) => person.email !== undefined && attendees.has(person.email)));
  if (topics) tests.push((call) => call.metrics.categories.some((category) => topics.has(category.name)));
  if (sourceIds) tests.push((call) => call.source_id !== undefined && sourceIds.has(call.source_id));
  if (durationGt !== undefined) tests.push((call) => call.metrics.call_duration > durationGt);
  if (durationLt !== undefined) tests.push((call) => call.metrics.call_duration < durationLt);
  return tests.length === 0 ? undefined : (record) => tests.every((test) => test(record as unknown as CallView));
}

/** The parts of a `/calls` record the record-level filters read. */
interface CallView {
  source_id?: string;
  users: Array<{ userEmail: string }>;
  externalParticipants: Array<{ email?: string }>;
  joinedParticipants: Array<{ email?: string }>;
  metrics: { call_duration: number; categories: Array<{ name: string }> };
}

function media(query: URLSearchParams): MediaOptions {
  return { audio: queryFlag(query, 'includeAudio', false), video: queryFlag(query, 'includeVideo', false) };
}
