import type { DateTime } from 'luxon';
import { ApiError, badRequest } from '../kit/errors.js';
import type { OAuthServer } from '../kit/oauth.js';
import { listSource } from '../kit/paging.js';
import { instant, objectField, queryChoice, queryFlag, stringField, stringListField } from '../kit/request.js';
import { list, lookup, requireScope, respond, type Route } from '../kit/routes.js';
import { activityByDay, activityCounts, AGGREGATION_PERIODS, answeredScorecards, coaching, companyDate, interactionStats, LOG_TYPES, logEntries, manualCrmAssociations, periodsOf, statsFilter, type AggregationPeriod, type LogType, type StatsFilter } from './activity.js';
import {
  callUsersAccess,
  CRM_OBJECT_TYPES,
  crmEntitySchema,
  crmIntegrations,
  flowProspects,
  libraryFolderContent,
  libraryFolders,
  permissionProfiles,
  permissionProfileUsers,
  scorecardSettings,
  trackerSettings,
  userSettingsHistory,
} from './admin.js';
import { GONG_TOKEN_PATH } from './auth.js';
import { mediaFilePart, NEW_CALL_REQUIRED, newCallFields, type NewCall } from './bodies.js';
import { callFrame, callRecord } from './calls.js';
import type { GongData } from './data.js';
import { CallSelection, ServedCalls, type CallFilter } from './selection.js';
import { chooseSections } from './selector.js';
import { callTranscript } from './transcripts.js';
import { writtenCallRecord, writtenMetaData, writtenTranscript, type GongWriteStore } from './writes.js';

/** What Gong's routes read: the tenant, the calls written to it, and the moment whose calls are served (the clock less any visibility lag). */
export interface GongContext {
  data: GongData;
  writes: GongWriteStore;
  visibleAt: () => DateTime;
  oauth: OAuthServer;
}

/** The calls a call list serves: generated and written ones (ServedCalls). */
const servedCalls = (gong: GongContext, filter: CallFilter) => new ServedCalls(gong.data, gong.writes, filter, gong.visibleAt().toMillis());

/**
 * The 404 text Gong sends for an empty calls or transcript window (gong-openapi.json documents the
 * 404, "No calls found for the specified period"; this wording is what clients match, e.g.
 * github.com/NangoHQ/integration-templates integrations/gong/helpers/paginate.ts).
 */
export const NO_CALLS_FOUND = 'No calls found corresponding to the provided filters';

/** Gong fixes the page size; 100 is what its cursors carry (`pageSize`) for calls and transcripts. */
export const GONG_PAGE_SIZE = 100;

/** gong-openapi.json `POST /v2/calls/transcript` gives no bound; a Java-validation-style limit the sandbox assumes. */
const MOST_TRANSCRIPT_CALL_IDS = 100;

/**
 * Every scope gong-openapi.json names ("When accessed through a Bearer token authorization method, this
 * endpoint requires the scope …"): what the sandbox's credentials hold unless its `scopes` option says less.
 */
export const GONG_SCOPES = [
  'api:call-user-access:read', 'api:call-user-access:write', 'api:calls:create', 'api:calls:read:basic', 'api:calls:read:extensive',
  'api:calls:read:media-url', 'api:calls:read:transcript', 'api:coaching:read', 'api:crm-calls:manual-association:read', 'api:crm:get-objects',
  'api:crm:integration:delete', 'api:crm:integration:register', 'api:crm:integrations:read', 'api:crm:schema', 'api:crm:upload',
  'api:data-privacy:delete', 'api:data-privacy:read', 'api:digital-interactions:write', 'api:engagement-data:write', 'api:flows:read',
  'api:flows:write', 'api:integration-settings:write', 'api:library:read', 'api:logs:read', 'api:meetings:integration:status',
  'api:meetings:user:create', 'api:meetings:user:delete', 'api:meetings:user:update', 'api:settings:scorecards:read', 'api:settings:trackers:read',
  'api:stats:interaction', 'api:stats:scorecards', 'api:stats:user-actions', 'api:stats:user-actions:detailed', 'api:users:read', 'api:workspaces:read',
] as const;

/** Gong's answer to a stats or scorecards filter that matches nothing (the operations document a 404). */
const NO_RECORDS_FOUND = 'No records found corresponding to the provided filters';

/** At most this many ids per users-access or prospects request; the operations give no bound, so the sandbox assumes the transcripts' one. */
const MOST_IDS_PER_REQUEST = 100;

/** The routes of the simulated Gong API v2, as gong-openapi.json declares its operations. */
export const GONG_ROUTES: readonly Route<GongContext>[] = [
  respond({
    method: 'POST',
    path: GONG_TOKEN_PATH,
    public: true,
    // The token response names the tenant's regional API host (github.com/amp-labs/connectors providers/gong.go reads it from there).
    respond: (request, gong) => gong.oauth.token(request, { api_base_url_for_customer: request.baseUrl }),
  }),
  list({
    method: 'GET',
    path: '/v2/calls',
    scope: 'api:calls:read:basic',
    required: { query: ['fromDateTime', 'toDateTime'] },
    filters: ({ query }): CallFilter => ({
      ...callWindow(query.get('fromDateTime'), query.get('toDateTime')),
      ...inWorkspace(query.get('workspaceId')),
    }),
    paging: { style: 'cursor', cursorIn: 'query' },
    envelope: 'calls',
    emptyIsNotFound: NO_CALLS_FOUND,
    records: (filter, gong) =>
      servedCalls(gong, filter).source(
        (index) => callFrame(gong.data, index).metaData,
        (call) => writtenMetaData(gong.data, call),
      ),
  }),
  lookup<GongContext, NewCall>({
    method: 'POST',
    path: '/v2/calls',
    scope: 'api:calls:create',
    required: { body: NEW_CALL_REQUIRED },
    filters: ({ body }) => newCallFields(body),
    record: (fields, gong) => ({ callId: gong.writes.createCall(fields).callId }),
  }),
  lookup({
    method: 'PUT',
    path: '/v2/calls/{id}/media',
    scope: 'api:calls:create',
    // gong-openapi.json addCallRecording: 201 "Successfully registered the new call recording".
    status: 201,
    required: { body: ['mediaFile'] },
    filters: ({ body, headers }) => mediaFilePart(body.mediaFile, headers['content-type']),
    record: (file, gong, { params }) => gong.writes.addMedia(params.id!, file, gong.visibleAt().toMillis()),
  }),
  lookup({
    method: 'GET',
    path: '/v2/calls/{id}',
    scope: 'api:calls:read:basic',
    envelope: 'call',
    record(_, gong, { params }) {
      const written = gong.writes.served(params.id!, gong.visibleAt().toMillis());
      if (written) return writtenMetaData(gong.data, written);
      const index = gong.data.callIndex(params.id!);
      const served = index !== undefined && new CallSelection(gong.data, { callIndices: [index] }, gong.visibleAt().toMillis()).count() === 1;
      if (!served) throw new ApiError(404, `Call ${params.id} was not found`);
      return callFrame(gong.data, index).metaData;
    },
  }),
  list({
    method: 'POST',
    path: '/v2/calls/extensive',
    scope: 'api:calls:read:extensive',
    required: { body: ['filter'] },
    filters({ body, scopes }, gong) {
      const sections = chooseSections(body.contentSelector);
      // gong-openapi.json POST /v2/calls/extensive: "clients requesting media download URLs … should also have the scope".
      if (sections.media) requireScope(scopes, 'api:calls:read:media-url');
      return { calls: callFilter(body, gong.data, { primaryUsers: true }), sections };
    },
    paging: { style: 'cursor', cursorIn: 'body' },
    envelope: 'calls',
    emptyIsNotFound: NO_CALLS_FOUND,
    records({ calls, sections }, gong) {
      const requestMs = gong.visibleAt().toMillis();
      return servedCalls(gong, calls).source(
        (index) => callRecord(gong.data, index, sections, requestMs),
        (call) => writtenCallRecord(gong.data, call, sections, requestMs),
      );
    },
  }),
  list({
    method: 'POST',
    path: '/v2/calls/transcript',
    scope: 'api:calls:read:transcript',
    required: { body: ['filter'] },
    filters: ({ body }, gong) => callFilter(body, gong.data, { primaryUsers: false, mostCallIds: MOST_TRANSCRIPT_CALL_IDS }),
    paging: { style: 'cursor', cursorIn: 'body' },
    envelope: 'callTranscripts',
    emptyIsNotFound: NO_CALLS_FOUND,
    records: (filter, gong) =>
      servedCalls(gong, filter).source(
        (index) => callTranscript(gong.data, index),
        (call) => writtenTranscript(call),
      ),
  }),
  list({
    method: 'GET',
    path: '/v2/users',
    scope: 'api:users:read',
    // No date filter is documented, so a `fromDateTime` some clients send is ignored.
    filters: ({ query }) => queryFlag(query, 'includeAvatars', false),
    paging: { style: 'cursor', cursorIn: 'query' },
    envelope: 'users',
    records(includeAvatars, gong) {
      const users = gong.data.usersListed(includeAvatars);
      return listSource(users.count, users.at);
    },
  }),
  list({
    method: 'GET',
    path: '/v2/workspaces',
    scope: 'api:workspaces:read',
    envelope: 'workspaces',
    records: (_, gong) => gong.data.workspaces.map((workspace) => ({ ...workspace })),
  }),
  list({
    method: 'GET',
    path: '/v2/flows',
    scope: 'api:flows:read',
    required: { query: ['flowOwnerEmail'] },
    filters: ({ query }) => ({ email: query.get('flowOwnerEmail')!, workspaceId: query.get('workspaceId') ?? undefined }),
    paging: { style: 'cursor', cursorIn: 'query' },
    envelope: 'flows',
    records({ email, workspaceId }, gong) {
      const userIndex = gong.data.userIndexByEmail(email);
      // How Gong answers for an unknown owner is not documented; github.com/amp-labs/connectors (providers/gong/flows.go) skips owners whose request fails.
      if (userIndex === undefined) throw new ApiError(404, `No user found with email address ${email}`);
      // gong-openapi.json GET /v2/flows documents one refusal, 401 "Access denied": here, an owner without a Gong Engage seat.
      if (!gong.data.userHasEngage(userIndex)) throw new ApiError(401, 'Access denied');
      const flows = gong.data.flowsFor(userIndex, workspaceId);
      return listSource(flows.length, (index) => flows[index]!);
    },
  }),
  list({
    method: 'GET',
    path: '/v2/settings/scorecards',
    scope: 'api:settings:scorecards:read',
    envelope: 'scorecards',
    records: (_, gong) => scorecardSettings(gong.data),
  }),
  list({
    method: 'GET',
    path: '/v2/settings/trackers',
    scope: 'api:settings:trackers:read',
    filters: ({ query }) => query.get('workspaceId') || undefined,
    envelope: 'keywordTrackers',
    records: (workspaceId, gong) => trackerSettings(gong.data, workspaceId),
  }),
  list({
    method: 'GET',
    path: '/v2/library/folders',
    scope: 'api:library:read',
    filters: ({ query }) => query.get('workspaceId') || undefined,
    envelope: 'folders',
    records: (workspaceId, gong) => libraryFolders(gong.data, workspaceId),
  }),
  lookup({
    method: 'GET',
    path: '/v2/library/folder-content',
    scope: 'api:library:read',
    required: { query: ['folderId'] },
    record: (_, gong, { query }) => libraryFolderContent(gong.data, query.get('folderId')!),
  }),
  list({
    method: 'GET',
    path: '/v2/crm/integrations',
    scope: 'api:crm:integrations:read',
    envelope: 'integrations',
    records: (_, gong) => crmIntegrations(gong.data),
  }),
  lookup({
    method: 'GET',
    path: '/v2/crm/entity-schema',
    scope: 'api:crm:schema',
    required: { query: ['integrationId', 'objectType'] },
    filters: ({ query }) => ({ integrationId: query.get('integrationId')!, objectType: queryChoice(query, 'objectType', CRM_OBJECT_TYPES) }),
    envelope: 'objectTypeToSelectedFields',
    record: ({ integrationId, objectType }, gong) => crmEntitySchema(gong.data, integrationId, objectType),
  }),
  list({
    method: 'GET',
    path: '/v2/calls/manual-crm-associations',
    scope: 'api:crm-calls:manual-association:read',
    filters: ({ query }) => instant('fromDateTime', query.get('fromDateTime') ?? undefined),
    paging: { style: 'cursor', cursorIn: 'query' },
    envelope: 'associations',
    records: (fromMs, gong) => manualCrmAssociations(gong.data, fromMs, gong.visibleAt().toMillis()),
  }),
  list({
    method: 'GET',
    path: '/v2/logs',
    scope: 'api:logs:read',
    required: { query: ['logType', 'fromDateTime'] },
    filters: ({ query }) => ({
      logType: queryChoice(query, 'logType', Object.keys(LOG_TYPES) as LogType[])!,
      fromMs: instant('fromDateTime', query.get('fromDateTime'))!,
      toMs: instant('toDateTime', query.get('toDateTime') ?? undefined),
    }),
    paging: { style: 'cursor', cursorIn: 'query' },
    envelope: 'logEntries',
    emptyIsNotFound: NO_RECORDS_FOUND,
    records: ({ logType, fromMs, toMs }, gong) => logEntries(gong.data, logType, fromMs, toMs, gong.visibleAt().toMillis()),
  }),
  list({
    method: 'GET',
    path: '/v2/all-permission-profiles',
    required: { query: ['workspaceId'] },
    envelope: 'profiles',
    records: (_, gong, { query }) => permissionProfiles(gong.data, query.get('workspaceId')!),
  }),
  list({
    method: 'GET',
    path: '/v2/coaching',
    scope: 'api:coaching:read',
    required: { query: ['workspace-id', 'manager-id', 'from', 'to'] },
    filters: ({ query }) => ({ fromMs: instant('from', query.get('from'))!, toMs: instant('to', query.get('to'))! }),
    envelope: 'coachingData',
    records: ({ fromMs, toMs }, gong, { query }) => coaching(gong.data, query.get('workspace-id')!, query.get('manager-id')!, fromMs, toMs, gong.visibleAt().toMillis()),
  }),
  list({
    method: 'GET',
    path: '/v2/permission-profile/users',
    scope: 'api:users:read',
    required: { query: ['profileId'] },
    envelope: 'users',
    records: (_, gong, { query }) => permissionProfileUsers(gong.data, query.get('profileId')!),
  }),
  list({
    method: 'GET',
    path: '/v2/users/{id}/settings-history',
    scope: 'api:users:read',
    envelope: 'userSettingsHistory',
    records: (_, gong, { params }) => userSettingsHistory(gong.data, params.id!),
  }),
  list({
    method: 'POST',
    path: '/v2/calls/users-access',
    scope: 'api:call-user-access:read',
    required: { body: ['filter', 'filter.callIds'] },
    filters: ({ body }) => idList('callIds', objectField('filter', body.filter)!.callIds),
    envelope: 'callAccessList',
    records: (callIds, gong) => callUsersAccess(gong.data, callIds),
  }),
  list({
    method: 'POST',
    path: '/v2/flows/prospects',
    scope: 'api:flows:read',
    required: { body: ['crmProspectsIds'] },
    filters: ({ body }) => idList('crmProspectsIds', body.crmProspectsIds),
    envelope: 'prospectsAssigned',
    records: (ids, gong) => flowProspects(gong.data, ids),
  }),
  list({
    method: 'POST',
    path: '/v2/stats/activity/scorecards',
    scope: 'api:stats:scorecards',
    required: { body: ['filter'] },
    filters({ body }, gong) {
      const filter = objectField('filter', body.filter)!;
      const ids = (name: string) => {
        const list = stringListField(name, filter[name]);
        return list?.length ? { [name]: new Set(list) } : {};
      };
      return {
        callFrom: companyDate(gong.data, 'callFromDate', filter.callFromDate),
        callTo: companyDate(gong.data, 'callToDate', filter.callToDate),
        reviewFrom: companyDate(gong.data, 'reviewFromDate', filter.reviewFromDate),
        reviewTo: companyDate(gong.data, 'reviewToDate', filter.reviewToDate),
        ...ids('reviewedUserIds'),
        ...ids('scorecardIds'),
      };
    },
    paging: { style: 'cursor', cursorIn: 'body' },
    envelope: 'answeredScorecards',
    emptyIsNotFound: NO_RECORDS_FOUND,
    records: (filter, gong) => answeredScorecards(gong.data, filter, gong.visibleAt().toMillis()),
  }),
  statsRoute('/v2/stats/interaction', 'api:stats:interaction', 'peopleInteractionStats', (user, days, gong) => ({
    personInteractionStats: interactionStats(gong.data, user, days.flatMap((day) => day.callsAsHost)),
  })),
  statsRoute('/v2/stats/activity/aggregate', 'api:stats:user-actions', 'usersAggregateActivityStats', (_, days) => ({ userAggregateActivityStats: activityCounts(days) })),
  statsRoute('/v2/stats/activity/aggregate-by-period', 'api:stats:user-actions', 'usersAggregateActivity', (_, days, gong, filter, body) => ({
    userAggregateActivity: periodsOf(filter, aggregationPeriod(body.aggregationPeriod)).map((period) => ({
      ...activityCounts(days.slice(period.first, period.end)),
      fromDate: period.from.toISO({ suppressMilliseconds: true }),
      toDate: period.to.toISO({ suppressMilliseconds: true }),
    })),
  }), ['aggregationPeriod']),
  statsRoute('/v2/stats/activity/day-by-day', 'api:stats:user-actions:detailed', 'usersDetailedActivities', (_, days, gong, filter) => ({
    userDailyActivityStats: days.map((day, offset) => ({
      ...day,
      fromDate: filter.from.plus({ days: offset }).toISO({ suppressMilliseconds: true }),
      toDate: filter.from.plus({ days: offset + 1 }).toISO({ suppressMilliseconds: true }),
    })),
  })),
];

/** The body `filter` of the POST call endpoints (gong-openapi.json CallsRequestFilterWithOwners / CallsFilter). */
function callFilter(body: Readonly<Record<string, unknown>>, data: GongData, rules: { primaryUsers: boolean; mostCallIds?: number }): CallFilter {
  const filter = objectField('filter', body.filter)!;
  const ids = stringListField('callIds', filter.callIds);
  if (ids && rules.mostCallIds !== undefined && ids.length > rules.mostCallIds) throw badRequest(`callIds: size must be between 0 and ${rules.mostCallIds}`);
  const users = rules.primaryUsers ? stringListField('primaryUserIds', filter.primaryUserIds) : undefined;
  const callIndices = ids?.flatMap((id) => data.callIndex(id) ?? []);
  return {
    ...callWindow(filter.fromDateTime, filter.toDateTime),
    ...inWorkspace(filter.workspaceId),
    // An empty list filters nothing out, as an absent one. Written calls are found by id, generated ones by slot.
    ...(callIndices && ids!.length > 0 ? { callIndices: [...new Set(callIndices)].sort((a, b) => a - b), callIds: new Set(ids) } : {}),
    ...(users && users.length > 0 ? { primaryUserIds: new Set(users) } : {}),
  };
}

/**
 * gong-openapi.json: ISO-8601 bounds such as '2018-02-18T02:30:00-07:00' or '…Z', calls that started
 * "on or after" `fromDateTime` and "up to but excluding" `toDateTime`, compared as instants.
 */
function callWindow(from: unknown, to: unknown): Pick<CallFilter, 'fromMs' | 'toMs'> {
  const fromMs = instant('fromDateTime', from);
  const toMs = instant('toDateTime', to);
  return { ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }) };
}

function inWorkspace(value: unknown): Pick<CallFilter, 'workspaceId'> {
  const workspaceId = stringField('workspaceId', value);
  return workspaceId === undefined ? {} : { workspaceId };
}

/** A list of ids in a body, at most MOST_IDS_PER_REQUEST. */
function idList(name: string, value: unknown): string[] {
  const ids = stringListField(name, value) ?? [];
  if (ids.length > MOST_IDS_PER_REQUEST) throw badRequest(`${name}: size must be between 0 and ${MOST_IDS_PER_REQUEST}`);
  return ids;
}

function aggregationPeriod(value: unknown): AggregationPeriod {
  if (typeof value !== 'string' || !(value in AGGREGATION_PERIODS)) throw badRequest(`aggregationPeriod: must be one of ${Object.keys(AGGREGATION_PERIODS).join(', ')}`);
  return value as AggregationPeriod;
}

/**
 * One of the /v2/stats operations over users' days (gong-openapi.json PublicApiBaseRequestV2MultipleUsersWithDates):
 * `filter{fromDate, toDate}` required, one item per user with activity, paged by the body cursor, and
 * the range in the company's zone beside the list (`fromDateTime`, `toDateTime`, `timeZone`).
 */
function statsRoute(
  path: string,
  scope: string,
  envelope: string,
  userStats: (userIndex: number, days: ReturnType<typeof activityByDay>[number]['days'], gong: GongContext, filter: StatsFilter, body: Readonly<Record<string, unknown>>) => Record<string, unknown>,
  required: readonly string[] = [],
): Route<GongContext> {
  return list({
    method: 'POST',
    path,
    scope,
    required: { body: ['filter', 'filter.fromDate', 'filter.toDate', ...required] },
    filters: ({ body }, gong) => statsFilter(gong.data, objectField('filter', body.filter)!, gong.visibleAt().toMillis()),
    head: (filter, _, gong) => ({
      fromDateTime: filter.from.toISO({ suppressMilliseconds: true }),
      toDateTime: filter.to.toISO({ suppressMilliseconds: true }),
      timeZone: gong.data.companyZone,
    }),
    paging: { style: 'cursor', cursorIn: 'body' },
    envelope,
    emptyIsNotFound: NO_RECORDS_FOUND,
    records(filter, gong, { body }) {
      const users = activityByDay(gong.data, filter, gong.visibleAt().toMillis());
      return listSource(users.length, (position) => {
        const { userIndex, days } = users[position]!;
        return { userId: gong.data.userId(userIndex), userEmailAddress: gong.data.userEmail(userIndex), ...userStats(userIndex, days, gong, filter, body) };
      });
    },
  });
}
