import type { HttpRequest, HttpResponse } from '../http/client.js';
import { SyncError } from '../util/errors.js';
import { valueAt } from '../util/json.js';

/**
 * How an API walks its pages. `next` returns the request for the page after the one answered,
 * or undefined when the answer signals the end. Strategies never loop by themselves: `paginate` does.
 */
export interface Paginator {
  first?(request: HttpRequest): HttpRequest;
  next(request: HttpRequest, body: unknown, records: readonly unknown[]): HttpRequest | undefined;
}

export interface Page {
  request: HttpRequest;
  response: HttpResponse;
  records: unknown[];
}

/** One page only: the endpoint returns everything at once. */
export const singlePage: Paginator = { next: () => undefined };

/** Gong style: the token sits at `tokenPath` in the answer and goes back as a top-level body field. */
export function cursorInBody(tokenPath: string, field: string): Paginator {
  return {
    next(request, body) {
      const token = valueAt(body, tokenPath);
      if (typeof token !== 'string' || token === '') return undefined;
      return { ...request, body: { ...(request.body as object), [field]: token } };
    },
  };
}

/** The token goes back as a query parameter. */
export function cursorInQuery(tokenPath: string, param: string): Paginator {
  return {
    next(request, body) {
      const token = valueAt(body, tokenPath);
      if (typeof token !== 'string' || token === '') return undefined;
      return { ...request, query: { ...request.query, [param]: token } };
    },
  };
}

export interface OffsetOptions {
  skipParam: string;
  limitParam: string;
  pageSize: number;
  /** Where the answer says the next offset; without it the offset advances by the records read. */
  nextOffsetPath?: string;
  /** Where the answer says whether more pages remain. */
  hasMorePath?: string;
}

/** skip/limit paging; ends on an explicit "no more", or on a short page when the API says nothing. */
export function offset(options: OffsetOptions): Paginator {
  return {
    first: (request) => ({ ...request, query: { ...request.query, [options.skipParam]: 0, [options.limitParam]: options.pageSize } }),
    next(request, body, records) {
      const hasMore = options.hasMorePath ? valueAt(body, options.hasMorePath) : undefined;
      if (hasMore === false) return undefined;
      const limit = Number(request.query?.[options.limitParam] ?? options.pageSize);
      if (hasMore === undefined && records.length < limit) return undefined;
      const given = options.nextOffsetPath ? valueAt(body, options.nextOffsetPath) : undefined;
      const skip = typeof given === 'number' ? given : Number(request.query?.[options.skipParam] ?? 0) + records.length;
      if (records.length === 0 && given === undefined) return undefined;
      return { ...request, query: { ...request.query, [options.skipParam]: skip } };
    },
  };
}

/** OData style: follow the link in the answer unchanged; relative links resolve against the request. */
export function nextLink(linkPaths: readonly string[]): Paginator {
  return {
    next(request, body) {
      const record = (body ?? {}) as Record<string, unknown>;
      const link = linkPaths.map((path) => record[path]).find((v): v is string => typeof v === 'string' && v !== '');
      if (!link) return undefined;
      // The link already carries every query option, so the original query must not be added again.
      return { method: request.method, url: new URL(link, request.url).toString(), headers: request.headers };
    },
  };
}

/**
 * Fetches pages until the paginator signals the end, refusing to fetch the same page twice. The
 * next page is requested as soon as this one names it, so it arrives while this one's records are
 * transformed and written.
 */
export async function* paginate(
  send: (request: HttpRequest) => Promise<HttpResponse>,
  first: HttpRequest,
  paginator: Paginator,
  recordsAt: (body: unknown) => unknown[],
): AsyncGenerator<Page> {
  const seen = new Set<string>();
  const fetch = (request: HttpRequest) => {
    const key = JSON.stringify([request.url, request.query, request.body]);
    const response = seen.has(key)
      ? Promise.reject(new SyncError(`the API returned the same page position twice for ${new URL(request.url).pathname}; stopping to avoid an endless loop`))
      : send(request).then((answer) => ({ request, response: answer }));
    seen.add(key);
    // A page prefetched for a reader that stopped early is dropped, its failure with it.
    response.catch(() => undefined);
    return response;
  };
  let next: Promise<{ request: HttpRequest; response: HttpResponse }> | undefined = fetch(paginator.first ? paginator.first(first) : first);
  while (next) {
    const { request, response } = await next;
    const records = recordsAt(response.body);
    const following = paginator.next(request, response.body, records);
    next = following && fetch(following);
    yield { request, response, records };
  }
}
