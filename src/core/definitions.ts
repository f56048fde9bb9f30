import type { DateTime } from 'luxon';
import type { AuthStrategy } from '../http/auth.js';
import type { HttpClient, HttpRequest, HttpResponse, HttpStatusError, QueryValue } from '../http/client.js';
import type { Logger } from '../util/log.js';
import type { Paginator } from '../pagination/index.js';
import type { JsonRecord, JsonSchema } from '../protocol/messages.js';
import type { QuotaRule } from './quota.js';

/** A half-open time range [from, to); `from` undefined means the start of history. */
export interface SyncWindow {
  from?: DateTime;
  to: DateTime;
}

/**
 * What a provider's hooks carry from one request to a later one, each under a key of its own. The
 * runner makes a fresh one per run and one per request context, so nothing leaks between runs or
 * windows, even ones that share a config object.
 */
export type Scratch = Map<string, unknown>;

export interface RequestContext<C> {
  config: C;
  /** Set for incremental streams: the slice of time this request covers. */
  window?: SyncWindow;
  /** Set with `window`: the whole range this run walks, of which `window` is one slice. */
  range?: SyncWindow;
  /** Set for child streams: the batch of parent records this request is for. */
  parents: readonly JsonRecord[];
  /** Set by the runner: the instant this run reads up to (its start, or end_date), for a full-table request that needs an end. */
  until?: DateTime;
  /** Set by the runner when the config has a start_date, for a full-table request that needs a start. */
  since?: DateTime;
  /**
   * Made by the runner for each attempt at a window, and each parent batch: shared by all its requests
   * and transforms, for what a later request of the same window needs (Clari: the calls the public pass
   * listed, to tell private ones apart; docs/sources.md#clari-copilot-records).
   */
  scratch: Scratch;
}

/** A request relative to the provider's base URL (or an absolute URL). */
export interface RequestSpec {
  method: HttpRequest['method'];
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/**
 * One stream, declared as data. The runner turns it into requests, pages, records and state;
 * anything a declaration cannot say lives in the provider's hooks.ts and is referenced here by name.
 */
export interface StreamDefinition<C = any> {
  /** `<provider>_<object>`: the stream, catalog file and table name. */
  name: string;
  primaryKey: readonly string[];
  /** Set for incremental streams: the top-level record field the bookmark follows. */
  replicationKey?: string;
  /**
   * Builds the first request of a window / parent batch; pagination adds the rest. Several requests,
   * read in turn, when the API selects a window only as a union of queries (Clari: calls modified in
   * it, plus calls whose time lies in it).
   */
  request(ctx: RequestContext<C>): RequestSpec | readonly RequestSpec[];
  /** Dot paths to the records in an answer (an array, or one object for single-record endpoints; `''`: the answer itself); the first one present wins. */
  recordsAt: readonly string[];
  /** Defaults to the provider's paginator. */
  paginator?: Paginator;
  /**
   * Judged on the first answer to each request: narrower requests to read instead when paging cannot
   * reach everything the request matches (Clari: skip stops at 10,000). That answer's records are
   * dropped, and each narrower request is read (and judged) in turn.
   */
  split?(request: HttpRequest, body: unknown): readonly HttpRequest[] | undefined;
  incremental?: {
    /** Re-read this ISO-8601 duration before the bookmark on every run (late-arriving data). */
    lookback?(config: C): string;
    /** Walk the range in slices of this ISO-8601 duration; state is emitted after each slice. */
    windowSize?: string;
    /** Records arrive in replication-key order, so a bookmark may be emitted after every page. */
    sorted?: boolean;
  };
  /**
   * Child streams are read per batch of parent records, as soon as a batch is full: batches fill
   * across parent pages and windows, so N parents cost ⌈N / batchSize⌉ requests.
   */
  parent?: {
    /** The stream whose records this one is read for: the root of a family, or a child of it (then this one is read full table). */
    stream: string;
    /** Parents per request (Gong transcripts: 100 call ids). */
    batchSize: number;
    /** Child requests in flight at once, within the provider's rate limit. */
    concurrency?: number;
    accept?(parent: JsonRecord, config: C): boolean;
    /**
     * Read a parent's children once per parent version, the parent's replication-key value: a parent
     * read again (inside the lookback) at the version whose children an earlier run emitted is
     * skipped. The versions read are kept in the child's bookmark, for the parents the next run re-reads.
     */
    oncePerVersion?: boolean;
    /**
     * The records this child reads are named by its parents rather than being them (Clari: the CRM
     * account a call names): each distinct reference, told apart by its `id`, is queued once per run
     * in place of the parent, and requests are batched over references. Not with oncePerVersion.
     * `across`: the records of the stream `across` names, when set.
     */
    references?(parent: JsonRecord, across: readonly JsonRecord[]): readonly JsonRecord[];
    /**
     * A small full-table root stream whose records the references are drawn across (Gong coaching: each
     * manager in each workspace), read once when the family starts: one more request.
     */
    across?: string;
  };
  /** Reshapes an API record; undefined drops it, a list makes it several rows (a user's periods, a folder's calls). */
  transform?(record: JsonRecord, ctx: RequestContext<C>, request: HttpRequest): JsonRecord | readonly JsonRecord[] | undefined;
  /** Emit each primary key once per run although the API repeats records (e.g. per-owner listings). */
  distinct?: boolean;
  /** Defaults to true; false for streams that cost a request per record. */
  selectedByDefault?: boolean;
}

/**
 * What a final HTTP error means to a stream: no data, start the window over, or (for a child request
 * only) leave out the parents of this request and go on, counted in one warning at the stream's end;
 * 'skip-stream': the credentials may not read this stream at all (a missing OAuth scope), so it is left
 * out with a warning naming why, and the sync goes on (a child stream: as 'skip', for each of its requests).
 */
export type ErrorMeaning = 'empty' | 'restart-window' | 'skip' | 'skip-stream' | undefined;

export interface ProviderContext {
  /** Persists changed config values (a rotated refresh token) where the config came from. */
  persistConfig(patch: Record<string, unknown>): Promise<void>;
  /** Throws unless a change to these settings could be saved; asked before a single-use credential is spent. */
  ensurePersistable?(keys: readonly string[]): void;
  /** The run's scratch, which `baseUrl` and `beforeSend` are handed too (Gong: the API host a token answer names). */
  scratch: Scratch;
}

export interface ProviderDefinition<C extends ProviderConfig = ProviderConfig> {
  /** Config block and stream-name prefix: `gong`, `clari_copilot`, `fourfour`. */
  key: string;
  title: string;
  defaultBaseUrl: string;
  defaultRequestsPerSecond: number;
  /** JSON Schema of the provider's config block. */
  settings: JsonRecord;
  /** Cross-field checks JSON Schema cannot say clearly; returns one message per problem. */
  validate?(config: C): string[];
  streams: readonly StreamDefinition<C>[];
  paginator: Paginator;
  auth(config: C, context: ProviderContext): AuthStrategy;
  /** The settings to check after a 401/403. */
  credentialHint(config: C): string;
  interpretError?(error: HttpStatusError, stream: StreamDefinition<C>): ErrorMeaning;
  /** What the API said of a refusal, for the warning that skips a stream (Gong: its `errors`, naming the missing scope). */
  describeRefusal?(error: HttpStatusError): string | undefined;
  /**
   * What an error of that meaning may hide, for the user: said once per run at warning the first
   * time it is met ('skip': in the warning that counts the skipped parents).
   */
  errorNotes?: Partial<Record<NonNullable<ErrorMeaning>, string>>;
  /** Resolves the base URL, e.g. from a token response the auth kept in the run's scratch (Gong's api_base_url_for_customer); undefined: `base_url`, else `defaultBaseUrl`. */
  baseUrl?(config: C, scratch: Scratch): string | undefined;
  /**
   * Shapes each request of a sync just before it is sent, from what the provider's HTTP client has seen
   * this run (Clari: smaller pages once server failures repeat, a warning as the weekly quota nears).
   * Retrying stays in the HTTP client; this only decides what the next request asks for.
   */
  beforeSend?(request: HttpRequest, run: { traffic: Readonly<HttpClient['requests']>; logger: Logger; scratch: Scratch }): HttpRequest;
  /** The API's request budget per day or week, counted across runs in the state. */
  quota?: QuotaRule<C>;
  /** The cheapest authenticated request that proves the credentials work (Airbyte `check`). */
  check: RequestSpec;
  /**
   * Schemas read from the live API at discovery (Four/Four's `$metadata`), keyed by stream name and
   * merged over the static catalog files. Throwing falls back to the static files with a warning.
   */
  discoverSchemas?(config: C, send: (request: HttpRequest) => Promise<HttpResponse>, logger: Logger): Promise<Record<string, JsonSchema>>;
}

/** A provider's config block; the settings with a schema default are always set (withDefaults, when the config is loaded). */
export interface ProviderConfig {
  base_url?: string;
  requests_per_second?: number;
  request_timeout?: number;
  [key: string]: unknown;
}
