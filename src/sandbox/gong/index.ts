import { Duration } from 'luxon';
import { CursorCodec } from '../kit/cursor.js';
import { ApiError } from '../kit/errors.js';
import { OAuthServer } from '../kit/oauth.js';
import { errorResponse, grantedScopes, serveRoutes, type SimulatedApi } from '../kit/routes.js';
import { PeriodQuota } from '../quota.js';
import { rngFor } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider, type SandboxResponse } from '../types.js';
import {
  authenticateGong,
  GONG_SANDBOX_ACCESS_KEY,
  GONG_SANDBOX_ACCESS_KEY_SECRET,
  GONG_SANDBOX_CLIENT_ID,
  GONG_SANDBOX_CLIENT_SECRET,
  GONG_SANDBOX_REFRESH_TOKEN,
} from './auth.js';
import { mustNotBeNull } from './bodies.js';
import { GongData, type GongRecord } from './data.js';
import { createGongDataset, type GongDataset } from './dataset.js';
import { toGongJson } from './json.js';
import { GONG_PAGE_SIZE, GONG_ROUTES, GONG_SCOPES, type GongContext } from './routes.js';
import { GongWriteStore, type GongWrites } from './writes.js';

export {
  GONG_SANDBOX_ACCESS_KEY,
  GONG_SANDBOX_ACCESS_KEY_SECRET,
  GONG_SANDBOX_CLIENT_ID,
  GONG_SANDBOX_CLIENT_SECRET,
  GONG_SANDBOX_REFRESH_TOKEN,
  GONG_TOKEN_PATH,
} from './auth.js';
export type { GongData, GongRecord } from './data.js';
export { GONG_OBJECT_NAMES, type GongDataset, type GongDatasetQuery, type GongObjectName } from './dataset.js';
export { toGongJson } from './json.js';
export { GONG_PAGE_SIZE, GONG_ROUTES, GONG_SCOPES, NO_CALLS_FOUND } from './routes.js';
export { FULL_CONTENT_SELECTOR, type ContentSelector } from './selector.js';
export type { NewCall, NewCallParty } from './bodies.js';
export type { CallMediaFile, CreatedGongCall, GongWriteOperation, GongWrites } from './writes.js';

const PREFIX = 'gong';

export interface GongSandboxSettings {
  /** Calls in the ~90 days of history per unit of `scale`; later calls keep the same pace. Default 300. */
  callsPerScaleUnit?: number;
  /** Users per unit of `scale`. Default 25. */
  usersPerScaleUnit?: number;
  /** Engage flows per unit of `scale`. Default 12. */
  flowsPerScaleUnit?: number;
  /** How far the call history reaches back from the anchor. Default 90 days. */
  history?: Duration;
  /** The longest processing delay after a call ends before the API serves it. Default 20 hours. */
  maxProcessingLatency?: Duration;
  /** OAuth access-token lifetime on the injected clock (Gong's `expires_in`). Default one day. */
  accessTokenLifetime?: Duration;
  /** Cursor lifetime on the injected clock; Gong does not document it. Default 5 minutes. */
  cursorLifetime?: Duration;
  /** API calls allowed per UTC day of the injected clock (gong-openapi.json "Limits": 10,000 by default). */
  dailyQuota?: number;
}

export interface GongSandbox extends SandboxProvider {
  readonly prefix: 'gong';
  readonly configKey: 'gong';
  /** Ground truth: the records this API serves. */
  readonly dataset: GongDataset;
  /** The tenant itself, for the record generators of admin.ts and activity.ts (what each settings, stats and log route serves). */
  readonly data: GongData;
  /** Ground truth of the write endpoints: the calls created, and how often each key was written. */
  readonly writes: GongWrites;
}

/**
 * The simulated Gong API v2 (gong-openapi.json, routes in GONG_ROUTES): calls (basic and extensive),
 * transcripts, users, workspaces and flows under `/v2/`, the writes POST /v2/calls and PUT
 * /v2/calls/{id}/media (whose calls the reads then list), Basic access-key or OAuth Bearer auth, and the
 * OAuth token endpoint at `/oauth2/generate-customer-token`. The dataset is anchored on the creation
 * day (UTC), so a sandbox restarted the same day serves the same calls.
 */
export function createGongSandbox(options: SandboxOptions, settings: GongSandboxSettings = {}): GongSandbox {
  const anchor = options.now().toUTC().startOf('day');
  const data = new GongData(options.seed, options.scale, anchor, {
    callsPerScaleUnit: settings.callsPerScaleUnit ?? 300,
    usersPerScaleUnit: settings.usersPerScaleUnit ?? 25,
    flowsPerScaleUnit: settings.flowsPerScaleUnit ?? 12,
    history: settings.history ?? Duration.fromObject({ days: 90 }),
    maxProcessingLatency: settings.maxProcessingLatency ?? Duration.fromObject({ hours: 20 }),
  });
  const scopes = grantedScopes(GONG_SCOPES, options.scopes);
  const oauth = new OAuthServer({
    clientId: GONG_SANDBOX_CLIENT_ID,
    clientSecret: GONG_SANDBOX_CLIENT_SECRET,
    initialRefreshToken: GONG_SANDBOX_REFRESH_TOKEN,
    accessTokenLifetime: settings.accessTokenLifetime ?? Duration.fromObject({ days: 1 }),
    tokenType: 'bearer',
    // help.gong.io "Create an app for Gong" sends grant_type and refresh_token as query parameters.
    parametersInQuery: true,
    realm: PREFIX,
    scopes,
    now: options.now,
    random: rngFor(options.seed, 'gong', 'tokens'),
  });
  const requestIds = rngFor(options.seed, 'gong', 'request-ids');
  // Gong request ids look like `4al018gzaztcr8nbukw` (gong-openapi.json examples).
  const requestId = () => Array.from({ length: 19 }, () => Math.floor(requestIds() * 36).toString(36)).join('');
  const dailyQuota = new PeriodQuota(settings.dailyQuota ?? 10_000, 'day');
  const writes = new GongWriteStore(data, options.now);

  const api: SimulatedApi<GongContext> = {
    prefix: PREFIX,
    routes: GONG_ROUTES,
    context: { data, writes, visibleAt: () => recordsVisibleAt(options), oauth },
    cursors: new CursorCodec(`gong-sandbox-${options.seed}`, settings.cursorLifetime ?? Duration.fromObject({ minutes: 5 }), options.now, GONG_PAGE_SIZE),
    authenticate: (request) => authenticateGong(request, oauth, scopes),
    admit() {
      // gong-openapi.json "Limits": past the calls allowed per day, 429 with Retry-After; here until the UTC day turns.
      const now = options.now();
      if (!dailyQuota.admit(now)) throw rateLimit(Math.ceil(now.toUTC().startOf('day').plus({ days: 1 }).diff(now).as('seconds')));
    },
    missingParameter: mustNotBeNull,
    ok: (body, headers) => gongResponse(200, { requestId: requestId(), ...body }, headers),
    // gong-openapi.json ErrorResponse: `{requestId, errors[]}`.
    error: (error) => gongResponse(error.status, { requestId: requestId(), errors: [error.message] }),
  };
  return {
    prefix: PREFIX,
    configKey: PREFIX,
    // gong-openapi.json "Limits": 3 API calls per second by default.
    requestsPerSecond: 3,
    rateLimited: (retryAfterSeconds) => errorResponse(api, rateLimit(retryAfterSeconds)),
    handle: serveRoutes(api),
    tapConfig: (baseUrl) => ({ base_url: baseUrl, access_key: GONG_SANDBOX_ACCESS_KEY, access_key_secret: GONG_SANDBOX_ACCESS_KEY_SECRET }),
    dataset: createGongDataset(data, writes, () => recordsVisibleAt(options)),
    data,
    writes,
  };
}

/** gong-openapi.json: 429 with `Retry-After` in seconds and the usual error body. */
function rateLimit(retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'API request limit exceeded', { headers: { 'Retry-After': String(retryAfterSeconds) } });
}

function gongResponse(status: number, body: GongRecord, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: toGongJson(body) };
}
