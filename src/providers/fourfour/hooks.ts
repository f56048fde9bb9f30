import type { SyncWindow } from '../../core/definitions.js';
import { formatInstant } from '../../core/state.js';
import { nextLink, type Paginator } from '../../pagination/index.js';
import { SyncError } from '../../util/errors.js';

/** Records per request; the server may send fewer and a next link (providers.md §3.4: server-driven paging). */
export const PAGE_SIZE = 1000;

/** `TopicModels` → `fourfour_topic_models`. */
export function streamNameOf(entitySet: string): string {
  return 'fourfour_' + entitySet.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toLowerCase();
}

/**
 * The first request of an entity set. The query is written out here because OData's URL grammar
 * reads only `%20` as a space (OData 4.01 URL conventions, ABNF `RWS`), while URLSearchParams would send `+`.
 * providers.md §3.4: `<field> ge <instant>` filters, bounded above by the window end so a record
 * changed during the sync is left for the next run, and `$orderby` so each page may be bookmarked.
 */
export function entitySetPath(entitySet: string, since: string | undefined, window: SyncWindow | undefined): string {
  const options: Array<[string, string]> = [['$top', String(PAGE_SIZE)]];
  if (since && window) {
    const bounds = [...(window.from ? [`${since} ge ${formatInstant(window.from)}`] : []), `${since} lt ${formatInstant(window.to)}`];
    options.push(['$filter', bounds.join(' and ')], ['$orderby', since]);
  }
  return `/odata/${entitySet}?` + options.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
}

/** providers.md §3.4 (open question 11): AMP's fixtures spell the link `@nextLink`, FF-REF `@odata.nextLink`. */
const followNextLink = nextLink(['@odata.nextLink', '@nextLink']);

/**
 * Follows the next link (absolute or relative), but only on the host the tap was pointed at: the
 * request carries the bearer token, which must never travel to a host named by a response.
 */
export const fourfourPaginator: Paginator = {
  next(request, body, records) {
    const next = followNextLink.next(request, body, records);
    if (next && new URL(next.url).origin !== new URL(request.url).origin) {
      throw new SyncError(`Four/Four sent a next-page link to another host (${new URL(next.url).origin}); refusing to send credentials there`);
    }
    return next;
  },
};
