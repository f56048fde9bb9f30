import type { HttpRequest, HttpResponse } from '../http/client.js';
import { SyncError } from '../util/errors.js';
import { valueAt } from '../util/json.js';

/**
 * How an API walks its pages. `next` returns the request for the page after the one answered,
 * or undefined when the answer signals the end. `peek`, when a strategy has it, guesses that
 * request from the unparsed body, so it can be sent while the body is parsed; only a guess that
 * `next` then confirms is used. Strategies never loop by themselves: `paginate` does.
 */
export interface Paginator {
  first?(request: HttpRequest): HttpRequest;
  next(request: HttpRequest, body: unknown, records: readonly unknown[]): HttpRequest | undefined;
  peek?(request: HttpRequest, text: string): HttpRequest | undefined;
}

export interface Page {
  request: HttpRequest;
  response: HttpResponse;
  records: unknown[];
}

/** One page only: the endpoint returns everything at once. */
export const singlePage: Paginator = { next: () => undefined };

/**
 * Finds the string under the nested `keys` in JSON text without parsing it: for `a`, `b` the first
 * `"a": {… "b": "…"` with no object in between and no escape in the value. A record holding the
 * same keys can fool it, which is why its answer is only ever a guess.
 */
function stringInText(keys: readonly string[]): (text: string) => string | undefined {
  const members = keys.map((key) => `"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*`);
  const pattern = new RegExp(`${members.join('\\{[^{}]*?')}"([^"\\\\]+)"`);
  return (text) => pattern.exec(text)?.[1];
}

/** A paginator whose next request carries a string token found at `tokenPath` in the answer. */
function tokenPaginator(tokenPath: string, withToken: (request: HttpRequest, token: string) => HttpRequest): Paginator {
  const tokenInText = stringInText(tokenPath.split('.'));
  return {
    next(request, body) {
      const token = valueAt(body, tokenPath);
      return typeof token === 'string' && token !== '' ? withToken(request, token) : undefined;
    },
    peek(request, text) {
      const token = tokenInText(text);
      return token ? withToken(request, token) : undefined;
    },
  };
}

/** Gong style: the token sits at `tokenPath` in the answer and goes back as a top-level body field. */
export function cursorInBody(tokenPath: string, field: string): Paginator {
  return tokenPaginator(tokenPath, (request, token) => ({ ...request, body: { ...(request.body as object), [field]: token } }));
}

/** The token goes back as a query parameter. */
export function cursorInQuery(tokenPath: string, param: string): Paginator {
  return tokenPaginator(tokenPath, (request, token) => ({ ...request, query: { ...request.query, [param]: token } }));
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
  const linksInText = linkPaths.map((path) => stringInText([path]));
  // The link already carries every query option, so the original query must not be added again.
  const follow = (request: HttpRequest, link: string | undefined): HttpRequest | undefined =>
    link ? { method: request.method, url: new URL(link, request.url).toString(), headers: request.headers } : undefined;
  return {
    next(request, body) {
      const record = (body ?? {}) as Record<string, unknown>;
      return follow(request, linkPaths.map((path) => record[path]).find((v): v is string => typeof v === 'string' && v !== ''));
    },
    peek: (request, text) => follow(request, linksInText.map((linkIn) => linkIn(text)).find(Boolean)),
  };
}

/** A page request on its way, and the guessed request for the page after it, if one was sent. */
interface Fetch {
  key: string;
  answer: Promise<{ request: HttpRequest; response: HttpResponse }>;
  guess?: Fetch;
}

const positionOf = (request: HttpRequest) => JSON.stringify([request.url, request.query, request.body]);

/**
 * Fetches pages until the paginator signals the end, refusing to fetch the same page twice. The
 * next page is requested as soon as this one names it, so it arrives while this one's records are
 * transformed and written; with a paginator that can `peek`, as soon as the awaited page's text
 * arrives, before it is parsed. A guess the parsed page does not confirm is dropped unread. Only
 * the awaited page may start another, so reading never runs more than one page ahead.
 */
export async function* paginate(
  send: (request: HttpRequest, peek?: (text: string) => void) => Promise<HttpResponse>,
  first: HttpRequest,
  paginator: Paginator,
  recordsAt: (body: unknown) => unknown[],
): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let awaited: Fetch | undefined;
  /** Starts the guessed next request of the awaited page, once. */
  const guessAfter = (fetching: Fetch, request: HttpRequest, text: string) => {
    if (awaited !== fetching || fetching.guess) return;
    const guess = paginator.peek!(request, text);
    if (guess && !seen.has(positionOf(guess))) fetching.guess = fetch(guess);
  };
  const fetch = (request: HttpRequest): Fetch => {
    const key = positionOf(request);
    const repeated = seen.has(key);
    seen.add(key);
    const fetching: Fetch = {
      key,
      answer: repeated
        ? Promise.reject(new SyncError(`the API returned the same page position twice for ${new URL(request.url).pathname}; stopping to avoid an endless loop`))
        : send(request, paginator.peek && ((text) => guessAfter(fetching, request, text))).then((answer) => ({ request, response: answer })),
    };
    // A page prefetched for a reader that stopped early, or a wrong guess, is dropped, its failure with it.
    fetching.answer.catch(() => undefined);
    return fetching;
  };
  let next: Fetch | undefined = fetch(paginator.first ? paginator.first(first) : first);
  while (next) {
    awaited = next;
    const { request, response } = await next.answer;
    awaited = undefined;
    const records = recordsAt(response.body);
    const following = paginator.next(request, response.body, records);
    const guess: Fetch | undefined = next.guess;
    if (guess && following && guess.key === positionOf(following)) next = guess;
    else {
      if (guess) seen.delete(guess.key);
      next = following && fetch(following);
    }
    yield { request, response, records };
  }
}
