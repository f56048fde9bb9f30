import { Agent, FormData, request, type Dispatcher } from 'undici';
import PQueue from 'p-queue';
import { SyncError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { parseJsonExact } from '../util/json.js';
import type { AuthStrategy } from './auth.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, Retryable, type RetryPolicy } from './retry.js';

export type QueryValue = string | number | boolean | undefined | Array<string | number>;

/** A body that is not JSON, sent as it is under its own media type (Four/Four's CSV imports). */
export class TextBody {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL; `query` is added to it. */
  url: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON, unless a TextBody or an undici FormData (multipart, RFC 7578: Gong's media upload). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent without credentials, for an endpoint that needs none; asking for them could rotate a refresh token. */
  anonymous?: boolean;
  /** The answer's body is handed back as text, not parsed as JSON (an XML document). */
  text?: boolean;
  /**
   * A write that must not be sent twice (a create without a de-duplication key): retried only when the
   * server cannot have applied it (429, or a connection refused); any other failure is an UncertainWrite.
   */
  unsafeToRepeat?: boolean;
}

/** A write whose answer was lost after it may have reached the server: the caller finds out (a read-back), never resends blindly. */
export class UncertainWrite extends SyncError {
  constructor(readonly endpoint: string, reason: string) {
    super(`${endpoint} may or may not have been applied (${reason})`, 'transient_error');
  }
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A final non-2xx answer, after retries. Providers read `status` and `body` to classify it. */
export class HttpStatusError extends SyncError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly endpoint: string,
    message: string,
    /** The server's Retry-After, when it asked for a wait longer than the client will make. */
    readonly retryAfterMs?: number,
  ) {
    super(message, status === 401 || status === 403 ? 'config_error' : status === 429 || status >= 500 ? 'transient_error' : 'system_error');
  }
}

export interface HttpClientOptions {
  /** Human name used in messages, e.g. "Gong". */
  provider: string;
  auth: AuthStrategy;
  /** What to tell the user to check after a 401/403, e.g. "check gong.access_key and gong.access_key_secret". */
  credentialHint: string;
  requestsPerSecond: number;
  concurrency?: number;
  /** How long to wait for an answer: the provider's `request_timeout`. */
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
  /** An answer no retry will fix (Clari's used-up weekly quota): handed back at once as an HttpStatusError. */
  isFinalAnswer?(status: number, body: unknown): boolean;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  dispatcher?: Dispatcher;
}

/**
 * The rate limit's window: one second and a margin for the delay between our start stamp and the
 * server's arrival stamp, which grows when either side's event loop is busy. Against the sandbox,
 * 25 ms let a few of Clari's concurrent call-details requests through as 429s; 40 ms held zero,
 * giving up 4 % of the limit.
 */
const RATE_WINDOW_MS = 1040;

/**
 * Resolves once a request dispatched now has been written. undici reuses a keep-alive socket one
 * full event-loop turn after its response completes (client-h1 `onMessageComplete`), then checks the
 * idle socket in one more check phase before writing (GHSA-35p6-xmwp-9g52); a synchronous parse
 * started any sooner holds the next request back for as long as it runs.
 */
const onTheWire = async () => {
  for (let turn = 0; turn < 2; turn++) await new Promise(setImmediate);
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The only place in tap-convo that retries. Every request of a provider passes one strict
 * sliding-window rate limit, so the limit holds across streams, retries and concurrent children.
 */
export class HttpClient {
  readonly requests = { sent: 0, retried: 0, rateLimited: 0 };
  private readonly queue: PQueue;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: HttpClientOptions) {
    const perSecond = options.requestsPerSecond;
    this.queue =
      perSecond >= 1
        ? new PQueue({ concurrency: options.concurrency ?? 4, intervalCap: Math.floor(perSecond), interval: RATE_WINDOW_MS, strict: true })
        : new PQueue({ concurrency: 1, intervalCap: 1, interval: Math.ceil(RATE_WINDOW_MS / perSecond), strict: true });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs;
    this.sleep = options.sleep ?? defaultSleep;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  }

  /**
   * Sends a request, retrying what can be retried. `peek` sees the raw text of a 2xx body before it
   * is parsed; the parse then waits until a request `peek` started has gone out (see `onTheWire`).
   */
  async send(req: HttpRequest, peek?: (text: string) => void): Promise<HttpResponse> {
    const endpoint = `${req.method} ${new URL(req.url).pathname}`;
    let waited = 0;
    let refreshed = false;
    // The 401 that asked for renewed credentials; renewing is part of the next attempt, so a token
    // endpoint that fails for a moment is retried like any other request.
    let renewalFor: HttpStatusError | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (renewalFor) {
          if (!(await this.options.auth.refresh!())) throw renewalFor;
          renewalFor = undefined;
        }
        return await this.queue.add(() => this.once(req, endpoint, peek));
      } catch (error) {
        if (error instanceof HttpStatusError && (error.status === 401 || error.status === 403)) {
          if (error.status === 401 && !refreshed && this.options.auth.refresh) {
            refreshed = true;
            renewalFor = error;
            attempt--;
            continue;
          }
          const what = error.status === 401 ? 'refused the credentials' : 'denied access';
          // Still an HttpStatusError, so a provider can tell a refusal of one request (Gong flows of a user without Engage) from bad credentials.
          throw new HttpStatusError(error.status, error.body, endpoint, `${this.options.provider} ${what} (HTTP ${error.status} on ${endpoint}); ${this.options.credentialHint}`);
        }
        if (!(error instanceof Retryable)) throw error;
        if (req.unsafeToRepeat && error.answer?.status !== 429 && error.message !== 'ECONNREFUSED') throw new UncertainWrite(endpoint, error.message);
        const delay = error.retryAfterMs ?? backoffDelay(attempt, this.retry);
        // A wait longer than the whole retry budget (Gong's daily quota: Retry-After until midnight) is not slept on.
        if (error.answer && (delay > this.retry.maxTotalWaitMs || this.options.isFinalAnswer?.(error.answer.status, error.answer.body))) {
          const { status, body } = error.answer;
          throw new HttpStatusError(status, body, endpoint, `${this.options.provider}: ${endpoint} answered HTTP ${status}${describeBody(body)}`, error.retryAfterMs);
        }
        if (attempt >= this.retry.attempts || waited + delay > this.retry.maxTotalWaitMs) {
          throw new SyncError(
            `${this.options.provider}: ${endpoint} still failing after ${attempt} attempts (${error.message}); try again later`,
            'transient_error',
          );
        }
        this.requests.retried++;
        this.options.logger.warn(`${this.options.provider}: ${endpoint} ${error.message}; retry ${attempt} in ${(delay / 1000).toFixed(1)} s`);
        waited += delay;
        await this.sleep(delay);
      }
    }
  }

  private async once(req: HttpRequest, endpoint: string, peek?: (text: string) => void): Promise<HttpResponse> {
    const url = new URL(req.url);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tap-convo', ...req.headers, ...(req.anonymous ? {} : await this.options.auth.headers()) };
    const payload = encodeBody(req.body, headers);
    this.requests.sent++;
    this.options.logger.debug(`${req.method} ${url.pathname}${url.search}${typeof payload === 'string' ? ' ' + payload : ''}`);
    const started = performance.now();
    let status = 0;
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        body: payload,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = response.statusCode;
      // The whole body is read before anything is emitted, so a truncated page is retried, never half-used.
      const text = await response.body.text();
      if (isRetryableStatus(status)) {
        if (status === 429) this.requests.rateLimited++;
        const retryAfter = response.headers['retry-after'];
        const answer = { status, body: text.length ? this.parse(text, status) : undefined };
        throw new Retryable(`HTTP ${status}`, parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter), answer);
      }
      if (peek && status >= 200 && status < 300) {
        peek(text);
        await onTheWire();
      }
      const body = text.length ? (req.text ? text : this.parse(text, status)) : undefined;
      if (status < 200 || status >= 300) {
        // The whole URL (no query, no user info): a 404 from a wrong base_url must show which host and path were asked.
        throw new HttpStatusError(status, body, endpoint, `${this.options.provider}: ${req.method} ${url.origin}${url.pathname} answered HTTP ${status}${describeBody(body)}`);
      }
      return { status, headers: response.headers, body };
    } catch (error) {
      if (error instanceof Retryable || error instanceof HttpStatusError) throw error;
      throw new Retryable(networkReason(error));
    } finally {
      this.options.logger.metric({
        type: 'timer',
        metric: 'http_request_duration',
        value: Number(((performance.now() - started) / 1000).toFixed(4)),
        tags: { endpoint, http_status_code: status, status: status >= 200 && status < 300 ? 'succeeded' : 'failed' },
      });
    }
  }

  private parse(text: string, status: number): unknown {
    try {
      return parseJsonExact(text);
    } catch {
      if (status >= 200 && status < 300) throw new Retryable('unreadable JSON body (truncated?)');
      return text.slice(0, 200);
    }
  }

  async close(): Promise<void> {
    await this.queue.onIdle();
    if (!this.options.dispatcher) await this.dispatcher.close();
  }
}

/** The body on the wire, its content type set in `headers`; undici writes a FormData's multipart boundary itself. */
function encodeBody(body: unknown, headers: Record<string, string>): string | FormData | undefined {
  if (body === undefined || body instanceof FormData) return body;
  if (body instanceof TextBody) {
    headers['content-type'] = body.contentType;
    return body.text;
  }
  headers['content-type'] = 'application/json';
  return JSON.stringify(body);
}

function networkReason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ? `${e.code}` : (e.message ?? String(error));
}

/** A short, secret-free excerpt of an error body for messages. */
function describeBody(body: unknown): string {
  if (body === undefined) return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.length > 200 ? text.slice(0, 200) + '…' : text}`;
}
