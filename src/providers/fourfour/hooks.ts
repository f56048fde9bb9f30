import type { SyncWindow } from '../../core/definitions.js';
import { formatInstant } from '../../core/state.js';
import { nextLink, type Paginator } from '../../pagination/index.js';
import { SyncError } from '../../util/errors.js';

/**
 * Records per page, asked for with `Prefer: odata.maxpagesize` (OData 4.01 Protocol, "Preference
 * maxpagesize"; https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part1-protocol.html). The
 * server may page smaller and says so with a next link. Not `$top`: in OData `$top` caps the whole
 * result (URL Conventions, "System Query Options $top and $skip"), so a set larger than it would end early.
 */
export const PAGE_SIZE = 1000;

/** The header that asks for pages of PAGE_SIZE; next links are followed with it too. */
export const PAGE_SIZE_PREFERENCE = { prefer: `odata.maxpagesize=${PAGE_SIZE}` };

/** `TopicModels` → `fourfour_topic_models`. */
export function streamNameOf(entitySet: string): string {
  return 'fourfour_' + entitySet.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toLowerCase();
}

/**
 * The first request of an entity set. The query is written out here because OData's URL grammar
 * reads only `%20` as a space (OData 4.01 URL conventions, ABNF `RWS`), while URLSearchParams would send `+`.
 * docs/sources.md#fourfour-paging-and-filters: `<field> ge <instant>` filters, bounded above by the window end so a record
 * changed during the sync is left for the next run, and `$orderby` so each page may be bookmarked.
 */
export function entitySetPath(entitySet: string, since: string | undefined, window: SyncWindow | undefined): string {
  const options: Array<[string, string]> = [];
  if (since && window) {
    const bounds = [...(window.from ? [`${since} ge ${formatInstant(window.from)}`] : []), `${since} lt ${formatInstant(window.to)}`];
    options.push(['$filter', bounds.join(' and ')], ['$orderby', since]);
  }
  const query = options.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  return `/odata/${entitySet}` + (query ? `?${query}` : '');
}

/** docs/sources.md#fourfour-paging-and-filters: AMP's fixtures spell the link `@nextLink`, fourfour.ai `@odata.nextLink`. */
const followNextLink = nextLink(['@odata.nextLink', '@nextLink']);

/**
 * Asks for the page size on the first request; follows the next link (absolute or relative), which
 * keeps the request's headers and so the preference, but only on the host the tap was pointed at: the
 * request carries the bearer token, which must never travel to a host named by a response.
 */
export const fourfourPaginator: Paginator = {
  first: (request) => ({ ...request, headers: { ...request.headers, ...PAGE_SIZE_PREFERENCE } }),
  next(request, body, records) {
    const next = followNextLink.next(request, body, records);
    if (next && new URL(next.url).origin !== new URL(request.url).origin) {
      throw new SyncError(`Four/Four sent a next-page link to another host (${new URL(next.url).origin}); refusing to send credentials there`);
    }
    return next;
  },
};
