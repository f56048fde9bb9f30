import type { StreamDefinition } from '../../core/definitions.js';
import { singlePage } from '../../pagination/index.js';
import { callsRequests, clariPages, crmReferences, hasPublicDetails, keywordTopicRow, markPrivate, splitUnreachable, withNamingCall } from './hooks.js';
import type { ClariCopilotConfig } from './provider.js';

export const clariCopilotStreams: StreamDefinition<ClariCopilotConfig>[] = [
  {
    name: 'clari_copilot_calls',
    primaryKey: ['id'],
    replicationKey: 'last_modified_time',
    request: callsRequests,
    recordsAt: ['calls'],
    paginator: clariPages,
    split: splitUnreachable,
    incremental: { lookback: (config) => config.lookback!, windowSize: 'P30D' },
    transform: markPrivate,
  },
  {
    name: 'clari_copilot_call_details',
    primaryKey: ['id'],
    replicationKey: 'last_modified_time',
    // CLARI-OAS GET /calls: "To get transcript, deal live stage fetch call individually using call-details endpoint".
    // A call re-read inside the lookback has its details read again only once its status, and with it
    // last_modified_time, has moved (oncePerVersion): daily runs would otherwise read each call's ~8 times.
    parent: { stream: 'clari_copilot_calls', batchSize: 1, concurrency: 10, accept: hasPublicDetails, oncePerVersion: true },
    request: ({ parents }) => ({ method: 'GET', path: '/call-details', query: { id: String(parents[0]!.id) } }),
    recordsAt: ['call'],
    // Each call costs one request of the 100,000 a week (Clari Copilot OpenAPI, "Rate limit"; docs/sources.md#clari-copilot-rate-limits).
    selectedByDefault: false,
  },
  // Clari has no list of CRM objects, only reads by source id (CLARI-OAS GET /get-account, /get-contact,
  // /get-deal): each id the synced calls name is read once per run, one request each, and the streams
  // follow the calls' bookmark, so a daily run reads the objects its new and changed calls name.
  crmStream('clari_copilot_accounts', '/get-account', 'account_id'),
  crmStream('clari_copilot_contacts', '/get-contact', 'contact_ids'),
  crmStream('clari_copilot_deals', '/get-deal', 'deal_id'),
  {
    name: 'clari_copilot_users',
    primaryKey: ['id'],
    request: () => ({ method: 'GET', path: '/users' }),
    recordsAt: ['users'],
  },
  {
    name: 'clari_copilot_topics',
    primaryKey: ['topic_id'],
    // Clari Copilot OpenAPI, GET /v2/topics and GET /topics: /v2/topics has topic objects; /topics only bare keyword names.
    request: () => ({ method: 'GET', path: '/v2/topics' }),
    recordsAt: ['topics'],
  },
  {
    name: 'clari_copilot_keyword_topics',
    primaryKey: ['topic'],
    request: () => ({ method: 'GET', path: '/topics' }),
    recordsAt: ['topics'],
    transform: keywordTopicRow,
  },
  {
    name: 'clari_copilot_scorecards',
    primaryKey: ['id'],
    request: () => ({ method: 'GET', path: '/scorecard' }),
    recordsAt: ['scorecards'],
    paginator: clariPages,
    split: splitUnreachable,
  },
  {
    name: 'clari_copilot_scorecard_templates',
    primaryKey: ['id'],
    request: () => ({ method: 'GET', path: '/scorecard-template' }),
    // docs/sources.md#clari-copilot-records: the spec says scoreCardTemplates, the live API (per AMP's fix) scorecardTemplates.
    recordsAt: ['scorecardTemplates', 'scoreCardTemplates'],
  },
];

function crmStream(name: string, path: string, field: Parameters<typeof crmReferences>[0]): StreamDefinition<ClariCopilotConfig> {
  return {
    name,
    primaryKey: ['id'],
    replicationKey: 'last_modified_time',
    parent: { stream: 'clari_copilot_calls', batchSize: 1, concurrency: 10, references: crmReferences(field) },
    request: ({ parents }) => ({ method: 'GET', path, query: { id: String(parents[0]!.id) } }),
    recordsAt: [''],
    paginator: singlePage,
    transform: withNamingCall,
    selectedByDefault: false,
  };
}
