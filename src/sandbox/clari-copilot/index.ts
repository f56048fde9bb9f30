import { ApiError } from '../kit/errors.js';
import { errorResponse, serveRoutes, type SimulatedApi } from '../kit/routes.js';
import { PeriodQuota } from '../quota.js';
import { rngFor } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider, type SandboxRequest } from '../types.js';
import { Tenant, type ClariCopilotDataset } from './dataset.js';
import { CALLS_PAGE_SIZE, CLARI_ROUTES, type ClariContext } from './routes.js';
import type { ClariWrites } from './writes.js';

export type { ApiRecord, ClariCopilotDataset, ClariObject, ClariRecordTypes, DatasetOptions } from './dataset.js';
export { CLARI_ROUTES } from './routes.js';
export type { ClariWrites, CreatedCall, WriteOperation, WrittenObject } from './writes.js';

/** The credentials the sandbox accepts (CLARI-OAS security schemes `api_key`, `api_password`: headers `X-Api-Key`, `X-Api-Password`). */
export const CLARI_COPILOT_SANDBOX_API_KEY = 'sandbox-clari-copilot-api-key';
export const CLARI_COPILOT_SANDBOX_API_PASSWORD = 'sandbox-clari-copilot-api-password';

export interface ClariSandboxSettings {
  /** Calls in the 90 days of history at scale 1 (default 1,500, ~17 a day); `scale` multiplies it. */
  historicalCalls?: number;
  /** Users of the workspace; default 12 × scale, between 4 and 1,000 (`/users` is not paged). */
  users?: number;
  /**
   * The records key of `/scorecard-template`: `scorecardTemplates` is what the live API returns
   * (github.com/amp-labs/connectors PR #2791), `scoreCardTemplates` what CLARI-OAS documents.
   */
  scorecardTemplatesKey?: 'scorecardTemplates' | 'scoreCardTemplates';
  /**
   * Share of requests answered 502 at a page size of 25 or less; larger pages fail more often, with the
   * square of their size (persistent 502s at 100 made github.com/amp-labs/connectors
   * providers/claricopilot/handlers.go cut its page size to 25). Default 0.02. Drawn from the seed, so a
   * run's failures repeat.
   */
  flaky502Rate?: number;
  /** Requests allowed per week starting Sunday 00:00 GMT (CLARI-OAS: 100k). */
  weeklyQuota?: number;
}

export interface ClariSandbox extends SandboxProvider {
  /** Ground truth: the records this API serves. */
  readonly dataset: ClariCopilotDataset;
  /** Ground truth of the write endpoints: what was written, and how often each key was. */
  readonly writes: ClariWrites;
}

const DOCUMENTATION = 'see documentation: https://api-doc.copilot.clari.com';

/**
 * The simulated Clari Copilot REST API (CLARI-OAS): the read endpoints `/calls`, `/call-details`,
 * `/users`, `/topics`, `/v2/topics`, `/scorecard`, `/scorecard-template` and `/get-account|contact|deal`,
 * and the writes `/create-call` and `/create-|update-|delete-account|contact|deal` (routes in CLARI_ROUTES).
 * Calls created through `/create-call` are served by `/calls` and `/call-details` among the generated ones.
 */
export function createClariCopilotSandbox(options: SandboxOptions, settings: ClariSandboxSettings = {}): ClariSandbox {
  const tenant = new Tenant(options, {
    historicalCalls: Math.max(1, Math.round((settings.historicalCalls ?? 1500) * options.scale)),
    users: settings.users ?? Math.min(1000, Math.max(4, Math.round(12 * options.scale))),
  });
  const quota = new PeriodQuota(settings.weeklyQuota ?? 100_000, 'week');
  const flakiness = rngFor(options.seed, 'clari-copilot', 'flaky-502');
  const flakyRate = settings.flaky502Rate ?? 0.02;

  const api: SimulatedApi<ClariContext> = {
    prefix: 'clari-copilot',
    routes: CLARI_ROUTES,
    context: { tenant, visibleAtMs: () => recordsVisibleAt(options).toMillis(), templatesKey: settings.scorecardTemplatesKey ?? 'scorecardTemplates' },
    authenticate,
    admit(request) {
      // CLARI-OAS states the quota, not how a breach looks: answered like the rate limit.
      if (!quota.admit(options.now())) throw new ApiError(429, `Weekly quota of ${quota.limit} requests used up; it resets on Sunday 00:00 GMT`);
      if (flakiness() < failureChance(flakyRate, request.query)) {
        // The gateway's own body: clients see "HTTP status 502: internal server error".
        throw new ApiError(502, 'Internal server error', { body: { message: 'Internal server error' } });
      }
    },
    missingParameter: (name) => `${name} is required`,
    ok: (body, headers) => ({ status: 200, headers, body }),
    // CLARI-OAS gives error schemas as bare objects; the body seen in the wild is `{errorMessage}`.
    error: (error) => ({ status: error.status, body: { errorMessage: error.message } }),
  };
  return {
    prefix: 'clari-copilot',
    configKey: 'clari_copilot',
    requestsPerSecond: 10,
    dataset: tenant,
    writes: tenant.writes,
    // CLARI-OAS documents 10 requests/s, not the breach signal. Assumed: a 429 without Retry-After (Clari
    // sends no rate-limit headers) and the usual error body.
    rateLimited: () => errorResponse(api, new ApiError(429, 'Rate limit exceeded: at most 10 requests per second')),
    handle: serveRoutes(api),
    tapConfig: (baseUrl) => ({ base_url: baseUrl, api_key: CLARI_COPILOT_SANDBOX_API_KEY, api_password: CLARI_COPILOT_SANDBOX_API_PASSWORD }),
  };
}

/** Both headers on every request, else 401 with the body the API is seen to send. */
function authenticate({ headers }: SandboxRequest): ReadonlySet<string> {
  const key = headers['x-api-key'];
  const password = headers['x-api-password'];
  if (!key || !password) throw new ApiError(401, `Credentials not provided!, ${DOCUMENTATION}`);
  // The body for wrong credentials has not been observed; this message is the sandbox's own.
  if (key !== CLARI_COPILOT_SANDBOX_API_KEY || password !== CLARI_COPILOT_SANDBOX_API_PASSWORD) throw new ApiError(401, `Invalid credentials!, ${DOCUMENTATION}`);
  // Clari Copilot's API keys have no scopes.
  return new Set();
}

/** Larger pages fail more: the base rate at 25 records, four times it at 50, sixteen times at 100. */
function failureChance(rate: number, query: URLSearchParams): number {
  const limit = Number(query.get('limit'));
  const pageSize = Number.isInteger(limit) && limit > 0 ? limit : CALLS_PAGE_SIZE;
  return Math.min(0.9, rate * Math.max(1, pageSize / CALLS_PAGE_SIZE) ** 2);
}
