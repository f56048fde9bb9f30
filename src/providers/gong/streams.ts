import type { StreamDefinition } from '../../core/definitions.js';
import { formatInstant } from '../../core/state.js';
import { cursorInQuery } from '../../pagination/index.js';
import {
  attachCallStart,
  canOwnFlows,
  coachingRequest,
  coachingRows,
  entitySchemaFields,
  extensiveCallsBody,
  HISTORY_START,
  managersAcross,
  namedProspects,
  perPeriod,
  reviewDates,
  reviewInWindow,
  statsOfDay,
  statsRequest,
  syncedCall,
  withNamingCallStart,
} from './hooks.js';
import type { GongConfig } from './provider.js';

const lookback = (config: GongConfig) => config.lookback!;
const queryCursor = cursorInQuery('records.cursor', 'cursor');
/** The workspace filter of the settings lists, when the config names one. */
const inWorkspace = (config: GongConfig) => (config.workspace_id ? { workspaceId: config.workspace_id } : {});
/** GET /v2/logs `logType` (Gong API v2, operation listLogs): each type is its own listing. */
const LOG_TYPES = ['AccessLog', 'UserActivityLog', 'UserCallPlay', 'ExternallySharedCallAccess', 'ExternallySharedCallPlay'];
/** GET /v2/crm/entity-schema `objectType`, one request each. */
const CRM_OBJECT_TYPES = ['ACCOUNT', 'CONTACT', 'DEAL', 'LEAD'];
/** Stats are of whole company days; re-reading from the last one read covers the open day, so no lookback. */
const statsIncremental = (windowSize: string) => ({ windowSize });

export const gongStreams: StreamDefinition<GongConfig>[] = [
  {
    name: 'gong_calls',
    primaryKey: ['id'],
    replicationKey: 'started',
    request: (ctx) => ({ method: 'POST', path: '/v2/calls/extensive', body: extensiveCallsBody(ctx) }),
    recordsAt: ['calls'],
    // Why 30-day windows, although each window's last page is partial (the sandbox: 1,217 calls over
    // four windows in 15 requests, 13 as one range; a daily run's range is one window and costs nothing
    // extra): Gong documents no order for /v2/calls/extensive, so a STATE can only follow a whole
    // window, and its cursors expire (a JWT with `exp`, lifetime undocumented; the Gong OpenAPI
    // "Cursors" section says only to repeat the request with the cursor), restarting the window from
    // its first page. Windows bound both what a killed backfill and an expired cursor read again, at
    // the cost of at most one request per 30 days of history.
    incremental: { lookback, windowSize: 'P30D' },
    transform: syncedCall,
  },
  {
    name: 'gong_transcripts',
    primaryKey: ['callId'],
    replicationKey: 'started',
    parent: { stream: 'gong_calls', batchSize: 100 },
    request: ({ parents }) => ({ method: 'POST', path: '/v2/calls/transcript', body: { filter: { callIds: parents.map((p) => p.id) } } }),
    recordsAt: ['callTranscripts'],
    incremental: { lookback },
    transform: attachCallStart,
  },
  {
    name: 'gong_users',
    primaryKey: ['id'],
    request: () => ({ method: 'GET', path: '/v2/users' }),
    recordsAt: ['users'],
    paginator: queryCursor,
  },
  {
    name: 'gong_workspaces',
    primaryKey: ['id'],
    request: () => ({ method: 'GET', path: '/v2/workspaces' }),
    recordsAt: ['workspaces'],
  },
  {
    name: 'gong_flows',
    primaryKey: ['id'],
    parent: { stream: 'gong_users', batchSize: 1, accept: canOwnFlows },
    request: ({ parents, config }) => ({
      method: 'GET',
      path: '/v2/flows',
      query: { flowOwnerEmail: String(parents[0]!.emailAddress), workspaceId: config.workspace_id },
    }),
    recordsAt: ['flows'],
    paginator: queryCursor,
    distinct: true,
  },
  {
    name: 'gong_scorecards',
    primaryKey: ['scorecardId'],
    request: () => ({ method: 'GET', path: '/v2/settings/scorecards' }),
    recordsAt: ['scorecards'],
  },
  {
    name: 'gong_answered_scorecards',
    primaryKey: ['answeredScorecardId'],
    replicationKey: 'reviewTime',
    request: (ctx) => ({ method: 'POST', path: '/v2/stats/activity/scorecards', body: { filter: reviewDates(ctx) } }),
    recordsAt: ['answeredScorecards'],
    incremental: { lookback, windowSize: 'P30D' },
    transform: reviewInWindow,
  },
  {
    name: 'gong_trackers',
    primaryKey: ['trackerId'],
    request: ({ config }) => ({ method: 'GET', path: '/v2/settings/trackers', query: inWorkspace(config) }),
    recordsAt: ['keywordTrackers'],
  },
  {
    name: 'gong_library_folders',
    primaryKey: ['id'],
    request: ({ config }) => ({ method: 'GET', path: '/v2/library/folders', query: inWorkspace(config) }),
    recordsAt: ['folders'],
  },
  {
    name: 'gong_library_folder_calls',
    primaryKey: ['folderId', 'id'],
    parent: { stream: 'gong_library_folders', batchSize: 1 },
    request: ({ parents }) => ({ method: 'GET', path: '/v2/library/folder-content', query: { folderId: String(parents[0]!.id) } }),
    recordsAt: ['calls'],
    transform: (call, { parents }) => ({ folderId: parents[0]!.id, ...call }),
    selectedByDefault: false,
  },
  {
    name: 'gong_crm_integrations',
    primaryKey: ['integrationId'],
    request: () => ({ method: 'GET', path: '/v2/crm/integrations' }),
    recordsAt: ['integrations'],
  },
  {
    name: 'gong_crm_entity_schemas',
    primaryKey: ['integrationId', 'objectType', 'uniqueName'],
    parent: { stream: 'gong_crm_integrations', batchSize: 1 },
    request: ({ parents }) =>
      CRM_OBJECT_TYPES.map((objectType) => ({ method: 'GET' as const, path: '/v2/crm/entity-schema', query: { integrationId: String(parents[0]!.integrationId), objectType } })),
    recordsAt: ['objectTypeToSelectedFields'],
    transform: entitySchemaFields,
    selectedByDefault: false,
  },
  {
    name: 'gong_call_crm_associations',
    primaryKey: ['callId', 'created'],
    replicationKey: 'created',
    request: ({ window }) => ({ method: 'GET', path: '/v2/calls/manual-crm-associations', query: window?.from ? { fromDateTime: formatInstant(window.from) } : {} }),
    recordsAt: ['associations'],
    paginator: queryCursor,
    // "Actions will be listed in the ascending order of their timing" (Gong API v2, listCRMCallsManualAssociation).
    incremental: { lookback, sorted: true },
  },
  {
    name: 'gong_interaction_stats',
    primaryKey: ['userId', 'fromDate'],
    replicationKey: 'fromDate',
    request: statsRequest('/v2/stats/interaction'),
    recordsAt: ['peopleInteractionStats'],
    incremental: statsIncremental('P1D'),
    transform: statsOfDay,
    selectedByDefault: false,
  },
  {
    name: 'gong_activity_aggregates',
    primaryKey: ['userId', 'fromDate'],
    replicationKey: 'fromDate',
    request: statsRequest('/v2/stats/activity/aggregate'),
    recordsAt: ['usersAggregateActivityStats'],
    incremental: statsIncremental('P1D'),
    transform: statsOfDay,
    selectedByDefault: false,
  },
  {
    name: 'gong_activity_by_period',
    primaryKey: ['userId', 'fromDate'],
    replicationKey: 'fromDate',
    // Whole Monday-to-Sunday weeks, so a week's row has the same key whichever run reads it.
    request: statsRequest('/v2/stats/activity/aggregate-by-period', 'weeks', { aggregationPeriod: 'WEEK' }),
    recordsAt: ['usersAggregateActivity'],
    incremental: statsIncremental('P28D'),
    transform: perPeriod('userAggregateActivity'),
  },
  {
    name: 'gong_activity_day_by_day',
    primaryKey: ['userId', 'fromDate'],
    replicationKey: 'fromDate',
    request: statsRequest('/v2/stats/activity/day-by-day', 'days'),
    recordsAt: ['usersDetailedActivities'],
    incremental: statsIncremental('P28D'),
    transform: perPeriod('userDailyActivityStats'),
  },
  {
    name: 'gong_logs',
    primaryKey: ['logType', 'eventTime', 'userId'],
    replicationKey: 'eventTime',
    request: ({ window }) =>
      LOG_TYPES.map((logType) => ({
        method: 'GET' as const,
        path: '/v2/logs',
        query: { logType, fromDateTime: formatInstant(window?.from ?? HISTORY_START), ...(window ? { toDateTime: formatInstant(window.to) } : {}) },
      })),
    recordsAt: ['logEntries'],
    paginator: queryCursor,
    incremental: { lookback, windowSize: 'P30D' },
    transform: (entry, _, request) => ({ logType: request.query?.logType, ...entry }),
  },
  {
    name: 'gong_permission_profiles',
    primaryKey: ['id'],
    parent: { stream: 'gong_workspaces', batchSize: 1 },
    request: ({ parents }) => ({ method: 'GET', path: '/v2/all-permission-profiles', query: { workspaceId: String(parents[0]!.id) } }),
    recordsAt: ['profiles'],
    transform: (profile, { parents }) => ({ workspaceId: parents[0]!.id, ...profile }),
    selectedByDefault: false,
  },
  {
    name: 'gong_permission_profile_users',
    primaryKey: ['profileId', 'id'],
    parent: { stream: 'gong_permission_profiles', batchSize: 1 },
    request: ({ parents }) => ({ method: 'GET', path: '/v2/permission-profile/users', query: { profileId: String(parents[0]!.id) } }),
    recordsAt: ['users'],
    transform: (user, { parents }) => ({ profileId: parents[0]!.id, ...user }),
    selectedByDefault: false,
  },
  {
    name: 'gong_coaching',
    primaryKey: ['workspaceId', 'managerId', 'reportId'],
    parent: { stream: 'gong_users', batchSize: 1, references: managersAcross, across: 'gong_workspaces' },
    request: coachingRequest,
    recordsAt: ['coachingData'],
    transform: coachingRows,
    selectedByDefault: false,
  },
  {
    name: 'gong_user_settings_history',
    primaryKey: ['userId', 'setting', 'time'],
    parent: { stream: 'gong_users', batchSize: 1 },
    request: ({ parents }) => ({ method: 'GET', path: `/v2/users/${encodeURIComponent(String(parents[0]!.id))}/settings-history` }),
    recordsAt: ['userSettingsHistory'],
    transform: (change, { parents }) => ({ userId: parents[0]!.id, ...change }),
    selectedByDefault: false,
  },
  {
    name: 'gong_call_users_access',
    primaryKey: ['callId'],
    replicationKey: 'started',
    parent: { stream: 'gong_calls', batchSize: 100 },
    request: ({ parents }) => ({ method: 'POST', path: '/v2/calls/users-access', body: { filter: { callIds: parents.map((p) => p.id) } } }),
    recordsAt: ['callAccessList'],
    incremental: { lookback },
    transform: attachCallStart,
  },
  {
    name: 'gong_flow_prospects',
    primaryKey: ['crmProspectId', 'flowInstanceId'],
    replicationKey: 'started',
    // Each prospect once per run, 100 per request: POST /v2/flows/prospects gives no bound, so the transcripts' is assumed.
    parent: { stream: 'gong_calls', batchSize: 100, references: namedProspects },
    request: ({ parents }) => ({ method: 'POST', path: '/v2/flows/prospects', body: { crmProspectsIds: parents.map((prospect) => String(prospect.id)) } }),
    recordsAt: ['prospectsAssigned'],
    incremental: { lookback },
    transform: withNamingCallStart,
  },
];
