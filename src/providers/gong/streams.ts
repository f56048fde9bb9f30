import type { StreamDefinition } from '../../core/definitions.js';
import { cursorInQuery } from '../../pagination/index.js';
import { attachCallStart, canOwnFlows, extensiveCallsBody, syncedCall } from './hooks.js';
import type { GongConfig } from './provider.js';

const lookback = (config: GongConfig) => config.lookback ?? 'P1D';
const queryCursor = cursorInQuery('records.cursor', 'cursor');

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
];
