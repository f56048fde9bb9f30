import type { DateTime } from 'luxon';
import { ApiError, badRequest } from '../kit/errors.js';
import type { OAuthServer } from '../kit/oauth.js';
import { listSource } from '../kit/paging.js';
import { instant, objectField, queryFlag, stringField, stringListField } from '../kit/request.js';
import { list, lookup, requireScope, respond, type Route } from '../kit/routes.js';
import { GONG_TOKEN_PATH } from './auth.js';
import { callFrame, callRecord } from './calls.js';
import type { GongData } from './data.js';
import { CallSelection, callSource, type CallFilter } from './selection.js';
import { chooseSections } from './selector.js';
import { callTranscript } from './transcripts.js';

/** What Gong's routes read: the tenant, and the moment whose calls are served (the clock less any visibility lag). */
export interface GongContext {
  data: GongData;
  visibleAt: () => DateTime;
  oauth: OAuthServer;
}

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
    records: (filter, gong) => callSource(new CallSelection(gong.data, filter, gong.visibleAt().toMillis()), (index) => callFrame(gong.data, index).metaData),
  }),
  lookup({
    method: 'GET',
    path: '/v2/calls/{id}',
    scope: 'api:calls:read:basic',
    envelope: 'call',
    record(_, gong, { params }) {
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
      return callSource(new CallSelection(gong.data, calls, requestMs), (index) => callRecord(gong.data, index, sections, requestMs));
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
    records: (filter, gong) => callSource(new CallSelection(gong.data, filter, gong.visibleAt().toMillis()), (index) => callTranscript(gong.data, index)),
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
    // An empty list filters nothing out, as an absent one.
    ...(callIndices && ids!.length > 0 ? { callIndices: [...new Set(callIndices)].sort((a, b) => a - b) } : {}),
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
