import { Duration } from 'luxon';
import { ApiError } from '../kit/errors.js';
import { OAuthServer } from '../kit/oauth.js';
import { errorResponse, grantedScopes, serveRoutes, type SimulatedApi } from '../kit/routes.js';
import { companyName, rngFor, uuid } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider } from '../types.js';
import { Dataset, type FourfourDataset } from './dataset.js';
import { metadataDocument } from './metadata.js';
import {
  authenticateFourfour,
  FOURFOUR_SANDBOX_CLIENT_ID,
  FOURFOUR_SANDBOX_CLIENT_SECRET,
  FOURFOUR_SANDBOX_PERSONAL_TOKEN,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
} from './oauth.js';
import { QueryEngine } from './query.js';
import { FOURFOUR_ROUTES, FOURFOUR_SCOPES, type FourfourContext } from './routes.js';

export type { ApiRecord, FourfourDataset, VisibilityOptions } from './dataset.js';
export { ENTITY_SET_NAMES, type EntitySetName } from './edm.js';
export {
  FOURFOUR_SANDBOX_CLIENT_ID,
  FOURFOUR_SANDBOX_CLIENT_SECRET,
  FOURFOUR_SANDBOX_PERSONAL_TOKEN,
  FOURFOUR_SANDBOX_REFRESH_TOKEN,
} from './oauth.js';
export { FOURFOUR_ROUTES, FOURFOUR_SCOPES } from './routes.js';

export interface FourfourSandboxSettings {
  /**
   * How control information is spelled: `odata` → `@odata.context`, `@odata.count`, `@odata.nextLink`
   * (fourfour.ai/developers/api, OData 4.0); `short` → `@context`, `@count`, `@nextLink` (OData 4.01, as
   * github.com/amp-labs/connectors providers/fourfour/test fixtures show). Default `odata`.
   */
  annotations?: 'odata' | 'short';
  /** Next links as absolute URLs (default; as in those fixtures) or relative to the request URL (OData 4.01 allows it). */
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
  /** Access-token lifetime on the injected clock. Default one day (help.alchemer.com "API access tokens and OAuth clients"). */
  accessTokenLifetime?: Duration;
  /** Requests per second before a 429. Four/Four publishes no limit; default 20. */
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
/** OData v4 JSON Format, "Error Response": `{error{code, message}}`; the codes are the sandbox's, by status. */
const ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  429: 'TooManyRequests',
  501: 'NotImplemented',
};
// help.alchemer.com "API access tokens and OAuth clients": refresh and personal tokens live one year.
const LONG_LIVED_TOKEN = Duration.fromObject({ years: 1 });

/**
 * The simulated Four/Four (Alchemer Voice) API: a read-only OData v4 service at `/odata` with 21 entity
 * sets, `$metadata`, `me`, and an OAuth token endpoint at `/oauth/token` (routes in FOURFOUR_ROUTES).
 */
export function createFourfourSandbox(options: SandboxOptions, settings: FourfourSandboxSettings = {}): FourfourSandbox {
  const prefix = 'fourfour';
  const dataset = new Dataset(options);
  const oauth = new OAuthServer({
    clientId: FOURFOUR_SANDBOX_CLIENT_ID,
    clientSecret: FOURFOUR_SANDBOX_CLIENT_SECRET,
    initialRefreshToken: FOURFOUR_SANDBOX_REFRESH_TOKEN,
    accessTokenLifetime: settings.accessTokenLifetime ?? Duration.fromObject({ days: 1 }),
    refreshTokenLifetime: LONG_LIVED_TOKEN,
    tokenType: 'Bearer',
    tokenPrefixes: { access: 'ffat_', refresh: 'ffrt_' },
    parametersInQuery: false,
    realm: prefix,
    scopes: grantedScopes(FOURFOUR_SCOPES, options.scopes),
    now: options.now,
    random: rngFor(options.seed, prefix, 'tokens'),
  });
  oauth.grantAccessToken(FOURFOUR_SANDBOX_PERSONAL_TOKEN, options.now().plus(LONG_LIVED_TOKEN));
  const short = settings.annotations === 'short';
  const maxPageSize = settings.maxPageSize ?? 100;
  const workspaceRandom = rngFor(options.seed, prefix, 'workspace');

  const api: SimulatedApi<FourfourContext> = {
    prefix,
    routes: FOURFOUR_ROUTES,
    context: {
      dataset,
      engine: new QueryEngine(),
      metadata: metadataDocument(),
      workspace: { id: uuid(workspaceRandom), name: `${companyName(workspaceRandom)} (sandbox)` },
      oauth,
      contextName: short ? '@context' : '@odata.context',
      now: options.now,
      visibleAt: () => recordsVisibleAt(options),
    },
    nextLinks: {
      names: short ? { count: '@count', nextLink: '@nextLink' } : { count: '@odata.count', nextLink: '@odata.nextLink' },
      relative: settings.nextLinks === 'relative',
      defaultPageSize: Math.min(maxPageSize, settings.defaultPageSize ?? 50),
      maxPageSize,
    },
    authenticate: (request) => authenticateFourfour(request, oauth),
    // Four/Four has no required parameters; its refusals are about query options.
    missingParameter: (name) => `The query option '${name}' is required.`,
    ok: (body, headers) => ({ status: 200, headers: { ...ODATA_HEADERS, ...headers }, body }),
    error: (error) => ({ status: error.status, headers: ODATA_HEADERS, body: { error: { code: ERROR_CODES[error.status] ?? 'Error', message: error.message } } }),
  };
  return {
    prefix,
    configKey: 'fourfour',
    requestsPerSecond: settings.requestsPerSecond ?? 20,
    dataset,
    // Four/Four publishes no limits; fourfour.ai/developers/api says to honour Retry-After on a 429.
    rateLimited: (retryAfterSeconds) =>
      errorResponse(api, new ApiError(429, 'Rate limit exceeded; retry after the Retry-After delay.', { headers: { 'Retry-After': String(retryAfterSeconds) } })),
    handle: serveRoutes(api),
    tapConfig: (baseUrl) => ({ base_url: baseUrl, client_id: FOURFOUR_SANDBOX_CLIENT_ID, client_secret: FOURFOUR_SANDBOX_CLIENT_SECRET, refresh_token: FOURFOUR_SANDBOX_REFRESH_TOKEN }),
  };
}
