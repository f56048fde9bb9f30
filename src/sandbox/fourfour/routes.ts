import type { DateTime } from 'luxon';
import { ApiError } from '../kit/errors.js';
import type { OAuthServer } from '../kit/oauth.js';
import type { RecordSource } from '../kit/paging.js';
import { list, lookup, respond, type RecordRequest, type Route } from '../kit/routes.js';
import type { Dataset } from './dataset.js';
import { ENTITY_SET_NAMES, type EntitySetName } from './edm.js';
import { QueryEngine } from './query.js';
import { parseQueryOptions, type QueryPlan } from './query-options.js';

/** What Four/Four's routes read. */
export interface FourfourContext {
  dataset: Dataset;
  engine: QueryEngine;
  /** The CSDL document of `$metadata`. */
  metadata: string;
  workspace: { id: string; name: string };
  oauth: OAuthServer;
  /** The name of the context annotation: `@odata.context` (OData 4.0) or `@context` (4.01). */
  contextName: string;
  now: () => DateTime;
  /** The moment whose records are served: the clock less any visibility lag. */
  visibleAt: () => DateTime;
}

/** help.alchemer.com "API access tokens and OAuth clients": `api:read` is the OData API's scope. */
export const FOURFOUR_SCOPES = ['api:read'] as const;
const READ = FOURFOUR_SCOPES[0];

const TEXT_HEADERS = { 'OData-Version': '4.0' };

/**
 * The routes of the simulated Four/Four OData service (help.alchemer.com/help/odata-api-reference):
 * the token endpoint, `$metadata`, the service document, `me`, and per entity set its collection and
 * its `/$count`.
 */
export const FOURFOUR_ROUTES: readonly Route<FourfourContext>[] = [
  respond({ method: 'POST', path: '/oauth/token', public: true, respond: (request, ff) => ff.oauth.token(request) }),
  respond({
    method: 'GET',
    path: '/odata/$metadata',
    // The reference serves the full schema without authentication.
    public: true,
    respond: (_, ff) => ({ status: 200, headers: { 'content-type': 'application/xml', ...TEXT_HEADERS }, body: ff.metadata }),
  }),
  list({
    method: 'GET',
    path: '/odata',
    scope: READ,
    head: (_, request, ff) => ({ [ff.contextName]: `${serviceRoot(request)}/$metadata` }),
    envelope: 'value',
    records: () => [...ENTITY_SET_NAMES.map((name) => ({ name, kind: 'EntitySet', url: name })), { name: 'me', kind: 'Singleton', url: 'me' }],
  }),
  lookup({
    method: 'GET',
    path: '/odata/me',
    scope: READ,
    head: (_, request, ff) => ({ [ff.contextName]: `${serviceRoot(request)}/$metadata#me` }),
    record(_, ff, request) {
      // The token's user is the workspace's first CRM owner, so `me` agrees with Owners.
      const owner = ff.dataset.runtime('Owners').record(0, ff.now().toMillis());
      return { id: owner.id, name: `${String(owner.get('first_name'))} ${String(owner.get('last_name'))}`, email: owner.get('email'), scope: [...request.scopes].join(' '), workspace: ff.workspace };
    },
  }),
  ...ENTITY_SET_NAMES.flatMap(entitySetRoutes),
  respond({
    method: 'GET',
    path: '/odata/{set}({key})',
    scope: READ,
    respond({ params }) {
      // OData identifiers are case-sensitive; whether Four/Four ignores case is not documented.
      if (!(ENTITY_SET_NAMES as readonly string[]).includes(params.set!)) throw new ApiError(404, `Resource not found for the segment '${params.set}'.`);
      throw new ApiError(501, 'Reading one entity by key is not simulated by the Four/Four sandbox; filter on id instead.');
    },
  }),
];

function entitySetRoutes(set: EntitySetName): Route<FourfourContext>[] {
  const planOf = (query: URLSearchParams, ff: FourfourContext) => parseQueryOptions(query, ff.dataset.runtime(set).definition);
  return [
    list({
      method: 'GET',
      path: `/odata/${set}`,
      scope: READ,
      filters: ({ query }, ff) => planOf(query, ff),
      head: ({ select }, request, ff) => ({ [ff.contextName]: `${serviceRoot(request)}/$metadata#${set}${select ? `(${select.join(',')})` : ''}` }),
      paging: { style: 'next-link' },
      envelope: 'value',
      records: (filters, ff) => entitySetSource(ff, set, filters),
    }),
    respond({
      method: 'GET',
      path: `/odata/${set}/$count`,
      scope: READ,
      respond: ({ query }, ff) => ({ status: 200, headers: { 'content-type': 'text/plain', ...TEXT_HEADERS }, body: String(entitySetSource(ff, set, planOf(query, ff)).total()) }),
    }),
  ];
}

/** The matches of a query in the order the engine serves them; the engine counts them with every page. */
function entitySetSource(ff: FourfourContext, set: EntitySetName, plan: QueryPlan): RecordSource {
  const runtime = ff.dataset.runtime(set);
  const nowMs = ff.visibleAt().toMillis();
  let total: number | undefined;
  return {
    total: () => (total ??= ff.engine.run(runtime, plan, nowMs, 0, 0).total),
    take(position, limit) {
      const result = ff.engine.run(runtime, plan, nowMs, position, limit);
      total = result.total;
      const next = position + result.page.length;
      return { records: result.page.map((index) => runtime.record(index, nowMs).toJson(plan.select)), next, more: next < result.total };
    },
  };
}

function serviceRoot(request: { baseUrl: string }): string {
  return `${request.baseUrl}/odata`;
}
