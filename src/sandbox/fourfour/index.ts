import { Duration } from 'luxon';
import { companyName, rngFor, uuid } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider, type SandboxRequest, type SandboxResponse } from '../types.js';
import { Dataset, type FourfourDataset } from './dataset.js';
import { ENTITY_SET_NAMES, type EntitySetName } from './edm.js';
import { metadataDocument } from './metadata.js';
import {
  FOURFOUR_SANDBOX_CLIENT_ID,
  FOURFOUR_SANDBOX_CLIENT_SECRET,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
  FourfourTokens,
} from './oauth.js';
import { QueryEngine } from './query.js';
import { ODataError, pageSizePreference, parseQueryOptions, systemOptionName, type QueryPlan } from './query-options.js';

export type { ApiRecord, FourfourDataset, VisibilityOptions } from './dataset.js';
export { ENTITY_SET_NAMES, type EntitySetName } from './edm.js';
export {
  FOURFOUR_SANDBOX_CLIENT_ID,
  FOURFOUR_SANDBOX_CLIENT_SECRET,
  FOURFOUR_SANDBOX_PERSONAL_TOKEN,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
} from './oauth.js';

export interface FourfourSandboxSettings {
  /**
   * How control information is spelled (providers.md §3.4, §6.11): `odata` → `@odata.context`,
   * `@odata.count`, `@odata.nextLink` (FF-REF, OData 4.0); `short` → `@context`, `@count`, `@nextLink`
   * (AMP fixture, OData 4.01). Default `odata`.
   */
  annotations?: 'odata' | 'short';
  /** Next links as absolute URLs (default; AMP fixture) or relative to the request URL (OData 4.01 allows it). */
  nextLinks?: 'absolute' | 'relative';
  /**
   * Records per page when the request states no page size. Default 50, at most `maxPageSize`. Four/Four
   * documents neither size; these are the sandbox's own.
   */
  defaultPageSize?: number;
  /**
   * The largest page a request can ask for with `Prefer: odata.maxpagesize=N` (OData 4.01 Protocol,
   * "Preference maxpagesize"); a larger ask gets pages of this size. Default 100.
   */
  maxPageSize?: number;
  /** Access-token lifetime on the injected clock. Default one day (providers.md §3.2, ALCH). */
  accessTokenLifetime?: Duration;
  /** Requests per second before a 429. Four/Four publishes no limit (providers.md §3.4); default 20. */
  requestsPerSecond?: number;
}

export interface FourfourSandbox extends SandboxProvider {
  /** Ground truth: the records this API serves. */
  readonly dataset: FourfourDataset;
}

const ODATA_HEADERS = {
  'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
  'OData-Version': '4.0',
};

/**
 * The simulated Four/Four (Alchemer Voice) API, providers.md §3: a read-only OData v4 service at
 * `/odata` with 21 entity sets, `$metadata`, `me`, and an OAuth token endpoint at `/oauth/token`.
 */
export function createFourfourSandbox(options: SandboxOptions, settings: FourfourSandboxSettings = {}): FourfourSandbox {
  const dataset = new Dataset(options);
  const tokens = new FourfourTokens(options.seed, options.now, settings.accessTokenLifetime ?? Duration.fromObject({ days: 1 }));
  const engine = new QueryEngine();
  const metadata = metadataDocument();
  const maxPageSize = settings.maxPageSize ?? 100;
  const defaultPageSize = Math.min(maxPageSize, settings.defaultPageSize ?? 50);
  const prefix = 'fourfour';
  const names = settings.annotations === 'short'
    ? { context: '@context', count: '@count', nextLink: '@nextLink' }
    : { context: '@odata.context', count: '@odata.count', nextLink: '@odata.nextLink' };
  const workspaceRandom = rngFor(options.seed, prefix, 'workspace');
  const workspace = { id: uuid(workspaceRandom), name: `${companyName(workspaceRandom)} (sandbox)` };

  function serve(request: SandboxRequest): SandboxResponse {
    if (request.path === '/oauth/token') return tokens.token(request);
    const resource = /^\/odata(?:\/(.*))?$/.exec(request.path);
    if (!resource) throw new ODataError(404, 'NotFound', `No resource at ${request.path}; the OData service is at /odata.`);
    const segment = decodePath(resource[1] ?? '');
    // providers.md §3.5: the OData API is read-only.
    if (request.method !== 'GET') throw new ODataError(405, 'MethodNotAllowed', 'The Four/Four OData API is read-only; use GET.');
    if (segment === '$metadata') return { status: 200, headers: { 'content-type': 'application/xml', 'OData-Version': '4.0' }, body: metadata };
    const auth = tokens.check(request);
    if (!auth.ok) return auth.response;

    const serviceRoot = `${origin(request)}/${prefix}/odata`;
    if (segment === '') {
      const value = [...ENTITY_SET_NAMES.map((name) => ({ name, kind: 'EntitySet', url: name })), { name: 'me', kind: 'Singleton', url: 'me' }];
      return odata({ [names.context]: `${serviceRoot}/$metadata`, value });
    }
    if (segment === 'me') return odata({ [names.context]: `${serviceRoot}/$metadata#me`, ...currentUser() });

    const match = /^([A-Za-z]+)(\(.*\))?(\/\$count)?$/.exec(segment);
    const set = ENTITY_SET_NAMES.find((name) => name === match?.[1]);
    // OData identifiers are case-sensitive; whether Four/Four ignores case is open (providers.md §3.3).
    if (!match || !set) throw new ODataError(404, 'NotFound', `Resource not found for the segment '${segment.split('/')[0]}'.`);
    if (match[2]) throw new ODataError(501, 'NotImplemented', 'Reading one entity by key is not simulated by the Four/Four sandbox; filter on id instead.');
    const plan = parseQueryOptions(request.query, dataset.runtime(set).definition);
    const nowMs = recordsVisibleAt(options).toMillis();
    if (match[3]) {
      const { total } = engine.run(dataset.runtime(set), plan, nowMs, 0);
      return { status: 200, headers: { 'content-type': 'text/plain', 'OData-Version': '4.0' }, body: String(total) };
    }
    return collection(request, set, plan, nowMs, serviceRoot);
  }

  /**
   * One page of a collection. Server-driven paging (OData 4.01 Protocol, "Server-Driven Paging"): a page
   * holds the preferred page size (capped at the maximum) or the default, and a next link names the
   * rest. `$top` is strict (URL Conventions, "System Query Options $top and $skip"): at most that many
   * records in all, so the next link carries the budget left, never the page size.
   */
  function collection(request: SandboxRequest, set: EntitySetName, plan: QueryPlan, nowMs: number, serviceRoot: string): SandboxResponse {
    const runtime = dataset.runtime(set);
    const preference = pageSizePreference(request.headers.prefer);
    const pageSize = Math.min(maxPageSize, preference?.size ?? defaultPageSize);
    const { total, page } = engine.run(runtime, plan, nowMs, Math.min(pageSize, plan.top ?? Infinity));
    const body: Record<string, unknown> = { [names.context]: `${serviceRoot}/$metadata#${set}${plan.select ? `(${plan.select.join(',')})` : ''}` };
    if (plan.count) body[names.count] = total;
    body.value = page.map((index) => runtime.record(index, nowMs).toJson(plan.select));
    const nextSkip = plan.skip + page.length;
    const topLeft = plan.top === undefined ? undefined : plan.top - page.length;
    if (page.length > 0 && nextSkip < total && topLeft !== 0) {
      const relative = `${set}?${nextQuery(request.query, nextSkip, topLeft)}`;
      body[names.nextLink] = settings.nextLinks === 'relative' ? relative : `${serviceRoot}/${relative}`;
    }
    // The applied size may differ from the one asked for (OData 4.01 Protocol, "Header Preference-Applied").
    const applied: Record<string, string> = preference ? { 'Preference-Applied': `${preference.name}=${pageSize}` } : {};
    return { status: 200, headers: { ...ODATA_HEADERS, ...applied }, body };
  }

  function currentUser() {
    // The token's user is the workspace's first CRM owner, so `me` agrees with Owners.
    const owner = dataset.runtime('Owners').record(0, options.now().toMillis());
    return { id: owner.id, name: `${String(owner.get('first_name'))} ${String(owner.get('last_name'))}`, email: owner.get('email'), scope: 'api:read', workspace };
  }

  return {
    prefix,
    configKey: 'fourfour',
    requestsPerSecond: settings.requestsPerSecond ?? 20,
    dataset,
    rateLimited(retryAfterSeconds) {
      // providers.md §3.4: limits are unpublished; FF-REF says to honour Retry-After on 429.
      return {
        status: 429,
        headers: { ...ODATA_HEADERS, 'Retry-After': String(retryAfterSeconds) },
        body: new ODataError(429, 'TooManyRequests', 'Rate limit exceeded; retry after the Retry-After delay.').body(),
      };
    },
    handle(request) {
      try {
        return serve(request);
      } catch (error) {
        if (!(error instanceof ODataError)) throw error;
        return { status: error.status, headers: ODATA_HEADERS, body: error.body() };
      }
    },
    tapConfig(baseUrl) {
      return { base_url: baseUrl, client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET, refresh_token: FOURFOUR_SANDBOX_REFRESH_TOKEN };
    },
  };
}

function odata(body: Record<string, unknown>): SandboxResponse {
  return { status: 200, headers: ODATA_HEADERS, body };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new ODataError(400, 'BadRequest', `The path '${path}' is not validly percent-encoded.`);
  }
}

function origin(request: SandboxRequest): string {
  return `http://${request.headers.host ?? '127.0.0.1'}`;
}

/** The request's own query with `$skip`/`$top` replaced (either spelling), the rest kept as sent. */
function nextQuery(query: URLSearchParams, skip: number, top: number | undefined): string {
  const parts: string[] = [];
  for (const [name, value] of query) {
    const option = systemOptionName(name);
    if (option === 'skip' || option === 'top') continue;
    parts.push(`${encodeURIComponent(name).replaceAll('%24', '$')}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skip=${skip}`);
  if (top !== undefined) parts.push(`$top=${top}`);
  return parts.join('&');
}
