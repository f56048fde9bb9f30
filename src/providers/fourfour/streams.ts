import type { StreamDefinition } from '../../core/definitions.js';
import { entitySetPath, streamNameOf } from './hooks.js';
import type { FourfourConfig } from './provider.js';

/**
 * The 21 OData entity sets (docs/sources.md#fourfour-service) and the field each is filtered on, as AMP's
 * `objectSinceField` has it (docs/sources.md#fourfour-paging-and-filters); sets without one have no such field and are read whole.
 */
export const ENTITY_SETS: ReadonlyArray<{ entitySet: string; since?: 'created_at' | 'updated' }> = [
  { entitySet: 'Insights', since: 'created_at' },
  { entitySet: 'Topics', since: 'created_at' },
  { entitySet: 'TopicModels', since: 'created_at' },
  { entitySet: 'Conversations' },
  { entitySet: 'Fragments' },
  { entitySet: 'Participants' },
  { entitySet: 'Accounts', since: 'updated' },
  { entitySet: 'Contacts', since: 'updated' },
  { entitySet: 'Cases', since: 'updated' },
  { entitySet: 'Calls', since: 'updated' },
  { entitySet: 'Owners', since: 'updated' },
  { entitySet: 'Opportunities', since: 'updated' },
  { entitySet: 'Leads', since: 'updated' },
  { entitySet: 'CalendarEvents' },
  { entitySet: 'Objects', since: 'updated' },
  { entitySet: 'TrackerProjects', since: 'updated' },
  { entitySet: 'TrackerIssues', since: 'updated' },
  { entitySet: 'TrackerComments', since: 'updated' },
  { entitySet: 'Labels' },
  { entitySet: 'Chats', since: 'created_at' },
  { entitySet: 'ChatMessages', since: 'created_at' },
];

/**
 * Four/Four documents no consistency guarantee for `created_at`/`updated`: a record can become readable
 * after later-stamped ones (commit or indexing lag), so every run re-reads this much before the bookmark.
 */
export const DEFAULT_LOOKBACK = 'PT5M';

export const fourfourStreams: StreamDefinition<FourfourConfig>[] = ENTITY_SETS.map(({ entitySet, since }) => ({
  name: streamNameOf(entitySet),
  // docs/sources.md#fourfour-service: `id` is the OData key in every fixture.
  primaryKey: ['id'],
  replicationKey: since,
  request: ({ window }) => ({ method: 'GET', path: entitySetPath(entitySet, since, window) }),
  // docs/sources.md#fourfour-paging-and-filters: records are in `value`.
  recordsAt: ['value'],
  // `$orderby` on the filter field keeps pages in bookmark order.
  ...(since ? { incremental: { sorted: true, lookback: (config) => config.lookback! } } : {}),
}));
