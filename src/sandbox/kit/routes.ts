import type { SandboxRequest, SandboxResponse } from '../types.js';
import { ApiError, badRequest } from './errors.js';
import { arraySource, page, type Paging, type PagingRuntime, type RecordSource } from './paging.js';
import { fieldAt, isAbsent, jsonObjectBody } from './request.js';

/**
 * A simulated API is a table of routes, one per endpoint, over this kit: the kit matches the method
 * and path, authenticates, checks the route's scope, runs the API's admission (quotas), checks the
 * required parameters, reads the filters, and pages the records into the vendor's envelope.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A request as a route sees it: the server's request, with its path parameters and context. */
export interface RouteRequest extends SandboxRequest {
  /** Path parameters by the names the route's path gives them (`/v2/calls/{id}` → `params.id`). */
  params: Readonly<Record<string, string>>;
  /** The provider's root as the client addressed it, e.g. `http://127.0.0.1:PORT/gong`. */
  baseUrl: string;
  /** The scopes the request's credentials hold (none for a public route). */
  scopes: ReadonlySet<string>;
}

/** What a list or lookup route reads: the request with its body parsed as a JSON object (`{}` for a GET, which has none). */
export interface RecordRequest extends RouteRequest {
  body: Readonly<Record<string, unknown>>;
}

/** Parameters an OpenAPI operation marks `required`, by where they travel; a body parameter may be a dotted path. */
export interface RequiredParameters {
  query?: readonly string[];
  body?: readonly string[];
}

interface RouteBase {
  method: Method;
  /** Below the provider prefix, as the OpenAPI document writes it; `{name}` is a path parameter. */
  path: string;
  /** The scope the credentials need (Gong: "this endpoint requires the scope …"); 403 without it. */
  scope?: string;
  /** Served without credentials, quotas or admission (OAuth token endpoints, OData `$metadata`). */
  public?: boolean;
}

interface ReadRoute<C, F> extends RouteBase {
  /** 400 in the vendor's error shape when one is absent. */
  required?: RequiredParameters;
  /** Reads and checks the request's filters (400 on a bad value); the records are selected by them. */
  filters?: (request: RecordRequest, context: C) => F;
  /** Fields the answer carries before the records (OData's `@odata.context`). */
  head?: (filters: F, request: RecordRequest, context: C) => Record<string, unknown>;
}

/** A list endpoint: records under `envelope`, paged as `paging` says. */
export interface ListRoute<C, F> extends ReadRoute<C, F> {
  envelope: string | ((context: C) => string);
  paging?: Paging;
  /** Gong's call lists: an empty first page is a 404 with this message. */
  emptyIsNotFound?: string;
  /** The records the filters select: a source read page by page, or a short list. */
  records: (filters: F, context: C, request: RecordRequest) => RecordSource | readonly unknown[];
}

/**
 * One record under `envelope`, or as the whole body without one (an OData singleton): a per-id lookup,
 * or the object a write answers with.
 */
export interface LookupRoute<C, F> extends ReadRoute<C, F> {
  envelope?: string;
  /** The status of the answer, where the operation documents another than 200 (Gong's media upload: 201). */
  status?: number;
  /** The record; throws a 404 `ApiError` when there is none. */
  record: (filters: F, context: C, request: RecordRequest) => unknown;
}

/** An endpoint that is no read of records (a token endpoint, a metadata document): it answers in full. */
export interface ResponderRoute<C> extends RouteBase {
  respond: (request: RouteRequest, context: C) => SandboxResponse;
}

/** A route as a table holds it: the declared method, path and access, and how it answers. */
export interface Route<C> extends RouteBase {
  answer(request: RouteRequest, context: C, api: ApiRuntime): SandboxResponse;
}

/** How an API frames what its routes answer. */
export interface ApiRuntime extends PagingRuntime {
  /** A successful answer in the vendor's framing (Gong: `requestId` first; OData: its headers). */
  ok(body: Record<string, unknown>, headers: Record<string, string>): SandboxResponse;
  /** The message of the 400 for a missing required parameter, in the vendor's wording. */
  missingParameter(name: string): string;
}

/** One simulated API: its routes over a context (the generated tenant), and how it checks and answers requests. */
export interface SimulatedApi<C> extends ApiRuntime {
  readonly routes: readonly Route<C>[];
  readonly context: C;
  readonly prefix: string;
  /** The scopes the request's credentials hold; throws a 401 `ApiError` for missing or wrong ones. */
  authenticate(request: SandboxRequest): ReadonlySet<string>;
  /** Refuses, with an `ApiError`, a request the API would not serve now (a spent quota, a flaky gateway). */
  admit?(request: SandboxRequest): void;
  /** An `ApiError` in the vendor's error shape. */
  error(error: ApiError): SandboxResponse;
}

export function list<C, F = undefined>(definition: ListRoute<C, F>): Route<C> {
  return {
    ...access(definition),
    answer(request, context, api) {
      const { filters, recordRequest } = readRequest(definition, request, context, api);
      const records = definition.records(filters, context, recordRequest);
      const source = isRecordSource(records) ? records : arraySource(records);
      const envelope = typeof definition.envelope === 'function' ? definition.envelope(context) : definition.envelope;
      const options = { envelope, cursorKind: `${definition.method} ${definition.path}`, emptyIsNotFound: definition.emptyIsNotFound };
      const { body, headers } = page(definition.paging, source, recordRequest, api, options);
      return api.ok({ ...definition.head?.(filters, recordRequest, context), ...body }, headers);
    },
  };
}

export function lookup<C, F = undefined>(definition: LookupRoute<C, F>): Route<C> {
  return {
    ...access(definition),
    answer(request, context, api) {
      const { filters, recordRequest } = readRequest(definition, request, context, api);
      const record = definition.record(filters, context, recordRequest);
      const body = definition.envelope === undefined ? (record as Record<string, unknown>) : { [definition.envelope]: record };
      const response = api.ok({ ...definition.head?.(filters, recordRequest, context), ...body }, {});
      return definition.status === undefined ? response : { ...response, status: definition.status };
    },
  };
}

export function respond<C>(definition: ResponderRoute<C>): Route<C> {
  return { ...access(definition), answer: (request, context) => definition.respond(request, context) };
}

function access({ method, path, scope, public: isPublic }: RouteBase): RouteBase {
  return { method, path, ...(scope === undefined ? {} : { scope }), ...(isPublic ? { public: true } : {}) };
}

function readRequest<C, F>(definition: ReadRoute<C, F>, request: RouteRequest, context: C, api: ApiRuntime) {
  const recordRequest: RecordRequest = { ...request, body: definition.method === 'GET' ? {} : jsonObjectBody(request) };
  for (const name of definition.required?.query ?? []) if (isAbsent(recordRequest.query.get(name))) throw badRequest(api.missingParameter(name));
  for (const name of definition.required?.body ?? []) if (isAbsent(fieldAt(recordRequest.body, name))) throw badRequest(api.missingParameter(name));
  return { recordRequest, filters: definition.filters?.(recordRequest, context) as F };
}

function isRecordSource(records: RecordSource | readonly unknown[]): records is RecordSource {
  return typeof (records as Partial<RecordSource>).take === 'function';
}

/** The scopes a sandbox's credentials hold: those of `granted` the API knows, or all it knows by default. */
export function grantedScopes(known: readonly string[], granted: readonly string[] | undefined): ReadonlySet<string> {
  return new Set(granted === undefined ? known : known.filter((scope) => granted.includes(scope)));
}

/** A 403 naming the scope, unless the credentials hold it. */
export function requireScope(scopes: ReadonlySet<string>, scope: string): void {
  if (!scopes.has(scope)) throw new ApiError(403, `Access denied: this endpoint requires the scope ${scope}`);
}

/** The request handler of a simulated API: every request goes through its route table. */
export function serveRoutes<C>(api: SimulatedApi<C>): (request: SandboxRequest) => SandboxResponse {
  const table = new RouteTable(api.routes);
  return (request) => {
    try {
      const path = decodePath(request.path);
      const { route, params } = table.find(request.method, path);
      let scopes: ReadonlySet<string> = new Set();
      if (!route.public) {
        scopes = api.authenticate(request);
        if (route.scope !== undefined) requireScope(scopes, route.scope);
        api.admit?.(request);
      }
      const baseUrl = `http://${request.headers.host ?? '127.0.0.1'}/${api.prefix}`;
      return route.answer({ ...request, path, params, baseUrl, scopes }, api.context, api);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(api, error);
      throw error;
    }
  };
}

/** An `ApiError` as the API answers it: its own body where it has one, else the vendor's shape; its headers always. */
export function errorResponse(api: Pick<SimulatedApi<unknown>, 'error'>, error: ApiError): SandboxResponse {
  const response = error.body === undefined ? api.error(error) : { status: error.status, body: error.body };
  return { ...response, headers: { ...response.headers, ...error.headers } };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw badRequest(`The path '${path}' is not validly percent-encoded.`);
  }
}

interface Template<C> {
  pattern: RegExp;
  names: string[];
  routes: Route<C>[];
}

/**
 * Routes by path template. A path matches the template with the fewest parameters first, as OpenAPI
 * has concrete paths win over templated ones (`/v2/calls/extensive` before `/v2/calls/{id}`); a path
 * known under other methods only is a 405 with `Allow` (RFC 9110 §15.5.6), an unknown path a 404.
 */
class RouteTable<C> {
  private readonly templates: Template<C>[] = [];

  constructor(routes: readonly Route<C>[]) {
    const byPath = new Map<string, Template<C>>();
    for (const route of routes) {
      let template = byPath.get(route.path);
      if (!template) {
        template = { ...compile(route.path), routes: [] };
        byPath.set(route.path, template);
        this.templates.push(template);
      }
      if (template.routes.some((other) => other.method === route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
      template.routes.push(route);
    }
    this.templates.sort((a, b) => a.names.length - b.names.length);
  }

  find(method: string, path: string): { route: Route<C>; params: Record<string, string> } {
    for (const template of this.templates) {
      const match = template.pattern.exec(path);
      if (!match) continue;
      const route = template.routes.find((candidate) => candidate.method === method);
      if (!route) {
        const allowed = template.routes.map((candidate) => candidate.method).join(', ');
        throw new ApiError(405, `Method ${method} is not supported for ${path}; use ${allowed}`, { headers: { Allow: allowed } });
      }
      return { route, params: Object.fromEntries(template.names.map((name, i) => [name, match[i + 1]!])) };
    }
    throw new ApiError(404, `No API endpoint at ${path}`);
  }
}

function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  // split with a capture group alternates literal text and parameter names.
  const source = path
    .split(/\{(\w+)\}/)
    .map((part, i) => {
      if (i % 2 === 0) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(part);
      return '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), names };
}
