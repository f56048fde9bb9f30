import { DateTime } from 'luxon';
import type { ErrorMeaning, RequestContext, RequestSpec, Scratch, StreamDefinition } from '../../core/definitions.js';
import { formatInstant, parseInstant } from '../../core/state.js';
import type { HttpClient, HttpRequest, HttpStatusError } from '../../http/client.js';
import { offset, type Paginator } from '../../pagination/index.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { SyncError } from '../../util/errors.js';
import { valueAt } from '../../util/json.js';
import type { Logger } from '../../util/log.js';
import type { ClariCopilotConfig } from './provider.js';

/** Clari Copilot OpenAPI, GET /calls and GET /scorecard: `skip` is declared with maximum 10000. */
const MAX_SKIP = 10_000;
/** Clari Copilot OpenAPI, GET /calls: `limit` ranges 1–100; AMP settled on 25 after persistent 502s (docs/sources.md#clari-copilot-rate-limits). */
const LARGEST_PAGE = 100;
const SMALLEST_PAGE = 25;
/** Server failures retried in a run before the page size is halved again. */
const FAILURES_PER_HALVING = 3;
/** Clari Copilot OpenAPI, "Rate limit": 100k requests per week, the week starting Sunday 00:00 GMT. */
export const WEEKLY_REQUEST_QUOTA = 100_000;

/** The time ranges a query can bound (Clari Copilot OpenAPI, GET /calls `filterTime…`, `filterModified…`); /scorecard knows only the first. */
const RANGES = [
  { name: 'time', gt: 'filterTimeGt', lt: 'filterTimeLt' },
  { name: 'last_modified_time', gt: 'filterModifiedGt', lt: 'filterModifiedLt' },
] as const;
type Range = (typeof RANGES)[number];

/**
 * skip/limit with `pagination.hasMore` / `nextPageSkip` (Clari Copilot OpenAPI, `PaginationInfo`). `split` keeps every
 * request within reach of skip ≤ 10,000; should the API still ask for more, the sync stops loudly
 * instead of silently missing records.
 */
const offsetPages = offset({ skipParam: 'skip', limitParam: 'limit', pageSize: LARGEST_PAGE, nextOffsetPath: 'pagination.nextPageSkip', hasMorePath: 'pagination.hasMore' });
export const clariPages: Paginator = {
  first: offsetPages.first,
  next(request, body, records) {
    const next = offsetPages.next(request, body, records);
    if (next && Number(next.query?.skip) > MAX_SKIP) {
      throw new SyncError(`Clari Copilot: ${new URL(request.url).pathname} has more records than skip can reach (it stops at ${MAX_SKIP}) and the answer gave no pagination.matched to narrow the request by`);
    }
    return next;
  },
};

/**
 * A window's calls: those modified in it, plus those whose call time lies in it but that were last
 * modified before the run's range. `last_modified_time` moves only when the status changes
 * (docs/sources.md#clari-copilot-records), so the second query is what re-reads other edits to calls inside the lookback.
 *
 * Private calls carry no marker (docs/sources.md#clari-copilot-records), so with include_private every query runs twice: public calls
 * first, then with includePrivate=true, where `markPrivate` knows the calls it has not seen as private.
 */
export function callsRequests({ config, window, range }: RequestContext<ClariCopilotConfig>): RequestSpec[] {
  const queries: Array<Record<string, string | undefined>> = [{ filterModifiedGt: window?.from && after(window.from), filterModifiedLt: window && formatInstant(window.to) }];
  if (window?.from && range?.from) queries.push({ filterTimeGt: after(window.from), filterTimeLt: formatInstant(window.to), filterModifiedLt: formatInstant(range.from) });
  const passes = config.include_private ? ['false', 'true'] : ['false'];
  return passes.flatMap((includePrivate) =>
    queries.map((bounds): RequestSpec => ({
      method: 'GET',
      path: '/calls',
      // The split needs pagination.matched (on by default: Clari Copilot OpenAPI, GET /calls `includePagination`); a fixed order keeps
      // skip/limit pages from overlapping or leaving gaps.
      query: { includePrivate, includePagination: 'true', sortTime: 'asc', ...bounds },
    })),
  );
}

/**
 * The value of a `…Gt` filter that keeps `instant` itself: CLARI-OAS's names say strictly after, its
 * prose "filters out calls … before" says from; a millisecond earlier is right either way (timestamps
 * carry milliseconds, docs/sources.md#clari-copilot-records), at worst repeating a record that sits on the boundary.
 */
function after(instant: DateTime): string {
  return formatInstant(instant.minus({ milliseconds: 1 }));
}

/**
 * `GET /topics` lists keyword topics as bare strings (Clari Copilot OpenAPI, `TopicsResponse`); a
 * row needs an object, and the name, unique in that list, is its key.
 */
export function keywordTopicRow(name: unknown): JsonRecord | undefined {
  return typeof name === 'string' ? { topic: name } : undefined;
}

/**
 * Tags each call `is_private`: what a public query (includePrivate=false) lists is public; what only
 * the includePrivate=true pass of the same window adds is private, and what it repeats is dropped.
 */
export function markPrivate(call: JsonRecord, ctx: RequestContext<ClariCopilotConfig>, request: HttpRequest): JsonRecord | undefined {
  if (request.query?.includePrivate !== 'true') {
    if (ctx.config.include_private) publicCallIds(ctx.scratch).add(call.id);
    return { ...call, is_private: false };
  }
  return publicCallIds(ctx.scratch).has(call.id) ? undefined : { ...call, is_private: true };
}

/** The window's scratch key of the ids of the calls its public pass listed, which its includePrivate pass leaves out. */
const PUBLIC_CALL_IDS = 'clari_copilot.public_call_ids';

function publicCallIds(scratch: Scratch): Set<unknown> {
  let ids = scratch.get(PUBLIC_CALL_IDS) as Set<unknown> | undefined;
  if (!ids) scratch.set(PUBLIC_CALL_IDS, (ids = new Set()));
  return ids;
}

/**
 * The statuses after which a call has its transcript and summary: CLARI-OAS `CallStatus` orders the
 * lifecycle WAITING_IN_QUEUE → PROCESSING → PROCESSED (→ POST_PROCESSING_DONE); before it, or after
 * a failed or missed recording, /call-details has nothing /calls lacks but the live deal stage.
 */
const PROCESSED_STATUSES = new Set(['PROCESSED', 'POST_PROCESSING_DONE']);

/** Details are requested only for processed calls, never for a private one (their transcripts stay in Copilot). */
export const hasPublicDetails = (call: JsonRecord) => call.is_private === false && PROCESSED_STATUSES.has(String(call.status));

/**
 * When more records match than skip ≤ 10,000 can reach (docs/sources.md#clari-copilot-paging), cut the request in two by
 * time: halve a bounded range, step a year back from an open start, or cut an unbounded one at now.
 * The range the query selects on is cut first; a range too narrow to cut falls back to the other field.
 */
export function splitUnreachable(request: HttpRequest, body: unknown): HttpRequest[] | undefined {
  const matched = valueAt(body, 'pagination.matched');
  if (typeof matched !== 'number' || matched <= MAX_SKIP) return undefined;
  const query = request.query ?? {};
  const rank = (range: Range) => (query[range.gt] !== undefined ? 0 : query[range.lt] !== undefined ? 1 : 2);
  for (const range of [...RANGES].sort((a, b) => rank(a) - rank(b))) {
    const from = parseInstant(query[range.gt]);
    const to = parseInstant(query[range.lt]);
    const at = cutPoint(from, to);
    if (!at) continue;
    const part = (gt: string | undefined, lt: DateTime | undefined): HttpRequest => ({ ...request, query: { ...query, [range.gt]: gt, [range.lt]: lt && formatInstant(lt) } });
    return [part(query[range.gt] === undefined ? undefined : String(query[range.gt]), at), part(after(at), to)];
  }
  const bounds = RANGES.map((r) => `${r.name} ${String(query[r.gt] ?? '…')} to ${String(query[r.lt] ?? '…')}`).join(', ');
  throw new SyncError(
    `Clari Copilot: ${matched} records of ${new URL(request.url).pathname} match ${bounds} and the range cannot be cut further; skip stops at ${MAX_SKIP}, so they cannot all be read`,
  );
}

const ONE_SECOND = 1000;
const UNIX_EPOCH = DateTime.fromMillis(0, { zone: 'utc' });

function cutPoint(from: DateTime | undefined, to: DateTime | undefined): DateTime | undefined {
  if (from && to) return to.diff(from).toMillis() > ONE_SECOND ? DateTime.fromMillis(Math.floor((from.toMillis() + to.toMillis()) / 2), { zone: 'utc' }) : undefined;
  if (to) {
    const yearBefore = to.minus({ years: 1 });
    return yearBefore > UNIX_EPOCH ? yearBefore : undefined;
  }
  // An open end beyond a lower bound only holds calls scheduled ahead; nothing sensible to cut there.
  if (from) return undefined;
  return DateTime.utc();
}

/** A 404 from a read by id is a record gone since a call named it: no records, said at debug (CLARI-OAS GET /call-details, /get-account …: "Not found"). */
export function interpretClariError(error: HttpStatusError, stream: StreamDefinition<ClariCopilotConfig>): ErrorMeaning {
  return error.status === 404 && READS_BY_ID.has(stream.name) ? 'empty' : undefined;
}

/** The streams that read one record by id. */
const READS_BY_ID = new Set(['clari_copilot_call_details', 'clari_copilot_accounts', 'clari_copilot_contacts', 'clari_copilot_deals']);

/**
 * The CRM ids of one kind that a call names (CLARI-OAS `Call.crm_info`), as references for the stream
 * that reads them, with the call's `last_modified_time`: that stream follows `clari_copilot_calls`.
 */
export function crmReferences(field: 'account_id' | 'deal_id' | 'contact_ids') {
  return (call: JsonRecord): JsonRecord[] => {
    const named = (call.crm_info as JsonRecord | undefined)?.[field];
    return [named ?? []].flat().filter((id): id is string => typeof id === 'string' && id !== '').map((id) => ({ id, last_modified_time: call.last_modified_time }));
  };
}

/** A CRM record, with the `last_modified_time` of the call that named it. */
export function withNamingCall(record: JsonRecord, { parents }: RequestContext<ClariCopilotConfig>): JsonRecord {
  return { ...record, last_modified_time: parents[0]!.last_modified_time };
}

/**
 * How Clari signals a spent weekly quota is undocumented (docs/sources.md#clari-copilot-rate-limits); a 429 whose body names
 * the quota (the sandbox's assumption) is told apart from the per-second limit, which is worth a retry.
 */
export function isWeeklyQuotaAnswer(status: number, body: unknown): boolean {
  const message = (body as { errorMessage?: unknown } | undefined)?.errorMessage;
  return status === 429 && typeof message === 'string' && /quota/i.test(message);
}

/** The run's scratch key of the smallest page size asked for so far, so the warning comes once per size. */
const SMALLEST_PAGE_ASKED = 'clari_copilot.smallest_page_asked';

/**
 * Clari answers large pages with persistent 502s (docs/sources.md#clari-copilot-rate-limits): once server
 * failures repeat in a run, ask for smaller pages (100 → 50 → 25). The HTTP client still does every retry.
 */
export function shapeRequest(request: HttpRequest, { traffic, logger, scratch }: { traffic: Readonly<HttpClient['requests']>; logger: Logger; scratch: Scratch }): HttpRequest {
  if (request.query?.limit === undefined) return request;
  const failures = Math.max(0, traffic.retried - traffic.rateLimited);
  const pageSize = Math.max(SMALLEST_PAGE, LARGEST_PAGE >> Math.floor(failures / FAILURES_PER_HALVING));
  if (pageSize < ((scratch.get(SMALLEST_PAGE_ASKED) as number | undefined) ?? LARGEST_PAGE)) {
    scratch.set(SMALLEST_PAGE_ASKED, pageSize);
    logger.warn(`Clari Copilot: ${failures} requests failed on the server side so far; asking for pages of ${pageSize} instead, as Clari answers large pages with 502s`);
  }
  return pageSize < Number(request.query.limit) ? { ...request, query: { ...request.query, limit: pageSize } } : request;
}
