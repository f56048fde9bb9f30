import type { IncomingHttpHeaders } from 'node:http';
import type { CursorCodec } from './cursor.js';
import { ApiError, badRequest } from './errors.js';
import { queryFlag, queryInteger, stringField } from './request.js';

/** A stretch of a list: its records, where the stretch after it starts, and whether there is one. */
export interface Slice<R = unknown> {
  records: R[];
  next: number;
  more: boolean;
}

/**
 * A list as the pagers read it, generated on demand: its size, and a slice from a position. A position
 * is an offset, or whatever the source addresses its records by (Gong's call slots); either way a page
 * deep into millions of records costs what the first page costs.
 */
export interface RecordSource<R = unknown> {
  total(): number;
  take(position: number, limit: number): Slice<R>;
}

/** Records 0 … total-1 by offset. */
export function listSource<R>(total: number, at: (position: number) => R): RecordSource<R> {
  return {
    total: () => total,
    take(position, limit) {
      const end = Math.min(total, position + limit);
      return { records: Array.from({ length: Math.max(0, end - position) }, (_, i) => at(position + i)), next: end, more: end < total };
    },
  };
}

export function arraySource<R>(records: readonly R[]): RecordSource<R> {
  return listSource(records.length, (position) => records[position]!);
}

/**
 * Two sources listed one after the other: positions below `secondFrom` are the first's, those from it
 * on the second's shifted by `secondFrom`, so a page may end in either and the next resumes there.
 * The first source's positions must stay below `secondFrom`.
 */
export function chainedSource<R>(first: RecordSource<R>, second: RecordSource<R>, secondFrom: number): RecordSource<R> {
  const shifted = (slice: Slice<R>): Slice<R> => ({ ...slice, next: secondFrom + slice.next });
  return {
    total: () => first.total() + second.total(),
    take(position, limit) {
      if (position >= secondFrom) return shifted(second.take(position - secondFrom, limit));
      const head = first.take(position, limit);
      if (head.more) return head;
      // Taking none of the second still tells whether it has any.
      const tail = second.take(0, limit - head.records.length);
      return { ...shifted(tail), records: [...head.records, ...tail.records] };
    },
  };
}

/** How a list route splits its records into answers; absent: every record in one answer. */
export type Paging =
  /**
   * Gong: `records{totalRecords, currentPageSize, currentPageNumber, cursor}` beside the list, the cursor
   * only while more pages remain; the client sends it back in the query or in the JSON body, as the
   * OpenAPI operation declares it (a `cursor` query parameter, or a `cursor` property of the requestBody).
   */
  | { style: 'cursor'; cursorIn: 'query' | 'body' }
  /**
   * Clari Copilot: `skip` and `limit` query parameters (CLARI-OAS ranges), and
   * `pagination{matched, nextPageSkip, hasMore}` beside the list; `paginationFlag` names a query flag
   * that, set false, leaves `pagination` out (`GET /calls` `includePagination`).
   */
  | { style: 'skip-limit'; defaultLimit: number; maxLimit: number; maxSkip: number; paginationFlag?: string }
  /**
   * OData server-driven paging (OData 4.01 Protocol, "Server-Driven Paging"): pages of the preferred size
   * (`Prefer: odata.maxpagesize`), a next link to the rest; `$skip`, strict `$top` and `$count`.
   */
  | { style: 'next-link' };

/** OData annotation names and page sizes of a next-link API. */
export interface NextLinkSettings {
  names: { count: string; nextLink: string };
  /** Next links relative to the request URL (OData 4.01 JSON Format, "Control Information nextLink", allows it) instead of absolute. */
  relative: boolean;
  defaultPageSize: number;
  maxPageSize: number;
}

/** What a provider's pagers need besides the request: Gong's cursor codec, OData's page settings. */
export interface PagingRuntime {
  cursors?: CursorCodec;
  nextLinks?: NextLinkSettings;
}

/** The parts of a request a pager reads. */
export interface PageRequest {
  query: URLSearchParams;
  body: Readonly<Record<string, unknown>>;
  headers: IncomingHttpHeaders;
  /** The path below the provider prefix, and the provider's root as the client addressed it. */
  path: string;
  baseUrl: string;
}

export interface PageOptions {
  envelope: string;
  /** Tells one endpoint's cursors from another's. */
  cursorKind: string;
  emptyIsNotFound?: string;
}

/** One answer's body fields (the list under `envelope` and its paging fields) and headers. */
export interface Page {
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export function page(paging: Paging | undefined, source: RecordSource, request: PageRequest, runtime: PagingRuntime, options: PageOptions): Page {
  switch (paging?.style) {
    case undefined:
      return { body: { [options.envelope]: source.take(0, source.total()).records }, headers: {} };
    case 'cursor':
      return cursorPage(paging.cursorIn, source, request, required(runtime.cursors, 'cursor'), options);
    case 'skip-limit':
      return skipLimitPage(paging, source, request.query, options.envelope);
    case 'next-link':
      return nextLinkPage(source, request, required(runtime.nextLinks, 'next-link'), options.envelope);
  }
}

function required<T>(setting: T | undefined, style: string): T {
  if (setting === undefined) throw new Error(`a route pages by ${style}, but its API has no ${style} settings`);
  return setting;
}

/** The total is the first page's, carried in the cursor as Gong's JWT carries it. */
function cursorPage(cursorIn: 'query' | 'body', source: RecordSource, request: PageRequest, cursors: CursorCodec, options: PageOptions): Page {
  const cursor = cursorIn === 'query' ? (request.query.get('cursor') ?? undefined) : stringField('cursor', request.body.cursor);
  const resumed = cursor === undefined ? undefined : cursors.read(cursor, options.cursorKind);
  const total = resumed?.total ?? source.total();
  if (!resumed && total === 0 && options.emptyIsNotFound) throw new ApiError(404, options.emptyIsNotFound);
  const pageNumber = resumed?.pageNumber ?? 0;
  const { records, next, more } = source.take(resumed?.position ?? 0, cursors.pageSize);
  const nextCursor = more ? { cursor: cursors.issue({ kind: options.cursorKind, position: next, total, pageNumber: pageNumber + 1 }) } : {};
  return { body: { records: { totalRecords: total, currentPageSize: records.length, currentPageNumber: pageNumber, ...nextCursor }, [options.envelope]: records }, headers: {} };
}

/** The last page has `hasMore: false` and no `nextPageSkip` (CLARI-OAS Pagination; the shape of AMP's fixtures). */
function skipLimitPage(paging: Extract<Paging, { style: 'skip-limit' }>, source: RecordSource, query: URLSearchParams, envelope: string): Page {
  const skip = queryInteger(query, 'skip', { min: 0, max: paging.maxSkip, fallback: 0 })!;
  const limit = queryInteger(query, 'limit', { min: 1, max: paging.maxLimit, fallback: paging.defaultLimit })!;
  const withPagination = paging.paginationFlag === undefined || queryFlag(query, paging.paginationFlag, true);
  const { records } = source.take(skip, limit);
  const matched = source.total();
  const next = skip + records.length;
  const pagination = next < matched ? { matched, nextPageSkip: next, hasMore: true } : { matched, hasMore: false };
  return { body: withPagination ? { [envelope]: records, pagination } : { [envelope]: records }, headers: {} };
}

/**
 * A page holds the preferred page size (capped at the maximum) or the default, and a next link names
 * the rest. `$top` is strict (OData 4.01 URL Conventions, "System Query Options $top and $skip"): at most that many records in all, so
 * the next link carries the budget left, never the page size.
 */
function nextLinkPage(source: RecordSource, request: PageRequest, settings: NextLinkSettings, envelope: string): Page {
  const { query } = request;
  const skip = nonNegativeOption(query, 'skip') ?? 0;
  const top = nonNegativeOption(query, 'top');
  const count = countOption(query);
  const preference = pageSizePreference(request.headers.prefer);
  const pageSize = Math.min(settings.maxPageSize, preference?.size ?? settings.defaultPageSize);
  const { records } = source.take(skip, Math.min(pageSize, top ?? Infinity));
  const total = source.total();
  const body: Record<string, unknown> = {};
  if (count) body[settings.names.count] = total;
  body[envelope] = records;
  const nextSkip = skip + records.length;
  const topLeft = top === undefined ? undefined : top - records.length;
  if (records.length > 0 && nextSkip < total && topLeft !== 0) {
    const nextQuery = withSkipAndTop(query, nextSkip, topLeft);
    body[settings.names.nextLink] = settings.relative ? `${request.path.split('/').at(-1)}?${nextQuery}` : `${request.baseUrl}${request.path}?${nextQuery}`;
  }
  // The applied size may differ from the one asked for (OData 4.01 Protocol, "Header Preference-Applied").
  return { body, headers: preference ? { 'Preference-Applied': `${preference.name}=${pageSize}` } : {} };
}

/** OData 4.01 URL Conventions, "System Query Options": system query options may be given without the `$` and in any case (`top`, `$TOP`). */
export function odataOptionName(parameter: string): string {
  return parameter.replace(/^\$/, '').toLowerCase();
}

function odataOption(query: URLSearchParams, option: string): string | undefined {
  for (const [name, value] of query) if (odataOptionName(name) === option) return value;
  return undefined;
}

function nonNegativeOption(query: URLSearchParams, option: 'skip' | 'top'): number | undefined {
  const value = odataOption(query, option);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw badRequest(`Invalid value '${value}' for $${option} query option found. The $${option} query option requires a non-negative integer value.`);
  return Number(value.trim());
}

function countOption(query: URLSearchParams): boolean {
  const value = odataOption(query, 'count');
  if (value === undefined) return false;
  const normalised = value.trim().toLowerCase();
  if (normalised !== 'true' && normalised !== 'false') throw badRequest(`'${value}' is not a valid $count value; use true or false.`);
  return normalised === 'true';
}

/** The request's own query with `$skip`/`$top` replaced (either spelling), the rest kept as sent. */
function withSkipAndTop(query: URLSearchParams, skip: number, top: number | undefined): string {
  const parts: string[] = [];
  for (const [name, value] of query) {
    const option = odataOptionName(name);
    if (option === 'skip' || option === 'top') continue;
    parts.push(`${encodeURIComponent(name).replaceAll('%24', '$')}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skip=${skip}`);
  if (top !== undefined) parts.push(`$top=${top}`);
  return parts.join('&');
}

export interface PageSizePreference {
  /** As the client spelled it: `odata.maxpagesize` (OData 4.0) or `maxpagesize` (4.01 allows the bare name). */
  name: string;
  size: number;
}

/**
 * The `maxpagesize` preference of a request's Prefer header(s), RFC 7240 §2: comma-separated
 * preferences, names case-insensitive, values optionally quoted, parameters after `;`. A value that is
 * not a positive integer is ignored, as RFC 7240 has servers ignore preferences they cannot apply.
 */
export function pageSizePreference(prefer: string | string[] | undefined): PageSizePreference | undefined {
  const preferences = [prefer ?? []].flat().flatMap((header) => header.split(','));
  for (const preference of preferences) {
    const [name = '', value = ''] = preference.split(';')[0]!.split('=').map((part) => part.trim());
    if (!/^(odata\.)?maxpagesize$/i.test(name)) continue;
    const size = value.replace(/^"(.*)"$/, '$1');
    if (/^\d+$/.test(size) && Number(size) > 0) return { name, size: Number(size) };
  }
  return undefined;
}
