import type { IncomingHttpHeaders } from 'node:http';
import { PeriodQuota } from '../quota.js';
import { rngFor } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider, type SandboxRequest, type SandboxResponse } from '../types.js';
import { Tenant, type ApiRecord, type ClariCopilotDataset, type Page } from './dataset.js';
import { ClariError, readChoice, readFlag, readInteger, readList, readTime } from './params.js';
import { CALL_STATUSES, CALL_TYPES } from './vocabulary.js';

export type { ApiRecord, ClariCopilotDataset, ClariObject, ClariRecordTypes, DatasetOptions } from './dataset.js';

/** The credentials the sandbox accepts (headers `X-Api-Key` / `X-Api-Password`, providers.md §2.1). */
export const CLARI_COPILOT_SANDBOX_API_KEY = 'sandbox-clari-copilot-api-key';
export const CLARI_COPILOT_SANDBOX_API_PASSWORD = 'sandbox-clari-copilot-api-password';

export interface ClariSandboxSettings {
  /** Calls in the 90 days of history at scale 1 (default 1,500, ~17 a day); `scale` multiplies it. */
  historicalCalls?: number;
  /** Users of the workspace; default 12 × scale, between 4 and 1,000 (`/users` is not paged). */
  users?: number;
  /**
   * The records key of `/scorecard-template`: `scorecardTemplates` is what the live API returns
   * (AMP's fix #2791, providers.md §6.7), `scoreCardTemplates` what CLARI-OAS documents.
   */
  scorecardTemplatesKey?: 'scorecardTemplates' | 'scoreCardTemplates';
  /**
   * Share of requests answered 502 at a page size of 25 or less; larger pages fail more often, with the
   * square of their size (providers.md §2.2: persistent 502s at 100, AMP cut its page size to 25).
   * Default 0.02. Drawn from the seed, so a run's failures repeat.
   */
  flaky502Rate?: number;
  /** Requests allowed per week starting Sunday 00:00 GMT (CLARI-OAS: 100k). */
  weeklyQuota?: number;
}

export interface ClariSandbox extends SandboxProvider {
  /** Ground truth: the records this API serves. */
  readonly dataset: ClariCopilotDataset;
}

const DOCUMENTATION = 'see documentation: https://api-doc.copilot.clari.com';
const MAX_SKIP = 10_000;
const BASE_PAGE_SIZE = 25;

/**
 * The simulated Clari Copilot REST API (providers.md §2, CLARI-OAS): the read endpoints `/calls`,
 * `/call-details`, `/users`, `/topics`, `/v2/topics`, `/scorecard` and `/scorecard-template`.
 *
 * Every `…Gt`/`…Lt` filter is strict (after / before the given time), as the parameter names say;
 * CLARI-OAS's prose ("filters out calls … before passed time") leaves the boundary itself open.
 */
export function createClariCopilotSandbox(options: SandboxOptions, settings: ClariSandboxSettings = {}): ClariSandbox {
  const tenant = new Tenant(options, {
    historicalCalls: Math.max(1, Math.round((settings.historicalCalls ?? 1500) * options.scale)),
    users: settings.users ?? Math.min(1000, Math.max(4, Math.round(12 * options.scale))),
  });
  const quota = new PeriodQuota(settings.weeklyQuota ?? 100_000, 'week');
  const flakiness = rngFor(options.seed, 'clari-copilot', 'flaky-502');
  const flakyRate = settings.flaky502Rate ?? 0.02;
  const templatesKey = settings.scorecardTemplatesKey ?? 'scorecardTemplates';

  // Parameters an endpoint does not define are ignored: AMP sends limit and filterModifiedGt to every
  // object (providers.md §2.6, §6.9) and nothing documents a refusal.
  const routes: Record<string, (query: URLSearchParams, nowMs: number) => ApiRecord> = {
    '/calls': (query, nowMs) => listCalls(tenant, query, nowMs),
    '/call-details': (query, nowMs) => {
      const id = query.get('id');
      if (!id) throw new ClariError(400, 'id is required');
      const index = tenant.callIndex(id, nowMs);
      // CLARI-OAS gives /call-details no includePrivate: whoever knows a private call's id may read it.
      if (index === undefined) throw new ClariError(404, `Call ${id} not found`);
      return { call: tenant.calls.details(index, nowMs, media(query)) };
    },
    '/users': () => ({ users: tenant.users() }),
    '/topics': (_query, nowMs) => ({ topics: tenant.keywordTopics(nowMs) }),
    '/v2/topics': (query, nowMs) => ({ topics: tenant.topics(nowMs, { modifiedGt: readTime(query, 'filterModifiedGt'), modifiedLt: readTime(query, 'filterModifiedLt') }) }),
    '/scorecard': (query, nowMs) => listScorecards(tenant, query, nowMs),
    '/scorecard-template': () => ({ [templatesKey]: tenant.scorecardTemplates() }),
  };

  function serve(request: SandboxRequest): SandboxResponse {
    const route = routes[request.path];
    if (!route) throw new ClariError(404, `No endpoint at ${request.path}; the sandbox serves the read endpoints of the Clari Copilot API`);
    if (request.method !== 'GET') throw new ClariError(405, `${request.method} is not allowed on ${request.path}; use GET`);
    authenticate(request.headers);
    const now = options.now();
    // CLARI-OAS states the quota, not how a breach looks: answered like the rate limit (providers.md §6.8).
    if (!quota.admit(now)) throw new ClariError(429, `Weekly quota of ${quota.limit} requests used up; it resets on Sunday 00:00 GMT`);
    if (flakiness() < failureChance(flakyRate, request.query)) {
      // AMP's error classifier sees "HTTP status 502: internal server error" (providers.md §2.2): the gateway's own body.
      return { status: 502, body: { message: 'Internal server error' } };
    }
    return { status: 200, body: route(request.query, recordsVisibleAt(options).toMillis()) };
  }

  return {
    prefix: 'clari-copilot',
    configKey: 'clari_copilot',
    requestsPerSecond: 10,
    dataset: tenant,
    rateLimited() {
      // providers.md §2.2, §6.8: 10 requests/s is documented, the breach signal is not. Assumed: a 429
      // without Retry-After (Clari sends no rate-limit headers) and the usual error body.
      return new ClariError(429, 'Rate limit exceeded: at most 10 requests per second').response();
    },
    handle(request) {
      try {
        return serve(request);
      } catch (error) {
        if (error instanceof ClariError) return error.response();
        throw error;
      }
    },
    tapConfig(baseUrl) {
      return { base_url: baseUrl, api_key: CLARI_COPILOT_SANDBOX_API_KEY, api_password: CLARI_COPILOT_SANDBOX_API_PASSWORD };
    },
  };
}

/** providers.md §2.1: both headers on every request, else 401 with the observed body. */
function authenticate(headers: IncomingHttpHeaders): void {
  const key = headers['x-api-key'];
  const password = headers['x-api-password'];
  if (!key || !password) throw new ClariError(401, `Credentials not provided!, ${DOCUMENTATION}`);
  // The body for wrong credentials has not been observed; this message is the sandbox's own.
  if (key !== CLARI_COPILOT_SANDBOX_API_KEY || password !== CLARI_COPILOT_SANDBOX_API_PASSWORD) throw new ClariError(401, `Invalid credentials!, ${DOCUMENTATION}`);
}

function listCalls(tenant: Tenant, query: URLSearchParams, nowMs: number): ApiRecord {
  const skip = readInteger(query, 'skip', { min: 0, max: MAX_SKIP, fallback: 0 })!;
  const limit = readInteger(query, 'limit', { min: 1, max: 100, fallback: BASE_PAGE_SIZE })!;
  const sortTime = readChoice(query, 'sortTime', ['asc', 'desc']);
  const sortProcessed = readChoice(query, 'sortProcessed', ['asc', 'desc']);
  const includePagination = readFlag(query, 'includePagination', true);
  const page = tenant.callPage(
    {
      bounds: {
        timeGt: readTime(query, 'filterTimeGt'),
        timeLt: readTime(query, 'filterTimeLt'),
        modifiedGt: readTime(query, 'filterModifiedGt'),
        modifiedLt: readTime(query, 'filterModifiedLt'),
      },
      statuses: readList(query, 'filterStatus', CALL_STATUSES),
      types: readList(query, 'filterType', CALL_TYPES),
      includePrivate: readFlag(query, 'includePrivate', false, true),
      accept: callFilter(query),
      // Without a sort the API lists newest calls first (calls.json fixture). "Last processed time" is
      // taken to be last_modified_time; sortTime wins when both are sent (CLARI-OAS does not combine them).
      order: sortTime ? { by: 'time', descending: sortTime === 'desc' } : { by: sortProcessed ? 'modified' : 'time', descending: sortProcessed !== 'asc' },
      media: media(query),
    },
    skip,
    limit,
    nowMs,
  );
  return includePagination ? { calls: page.records, pagination: pagination(page, skip) } : { calls: page.records };
}

function listScorecards(tenant: Tenant, query: URLSearchParams, nowMs: number): ApiRecord {
  const skip = readInteger(query, 'skip', { min: 0, max: MAX_SKIP, fallback: 0 })!;
  const limit = readInteger(query, 'limit', { min: 1, max: 100, fallback: 50 })!;
  const repId = query.get('filterRepId');
  const scorerId = query.get('filterScorerId');
  const page = tenant.scorecardPage(
    {
      // providers.md §2.4 leaves open which time filterTime compares; the sandbox uses the scored call's time.
      bounds: { timeGt: readTime(query, 'filterTimeGt'), timeLt: readTime(query, 'filterTimeLt') },
      accept: repId || scorerId ? (record) => (!repId || record.rep === repId) && (!scorerId || record.scorer === scorerId) : undefined,
    },
    skip,
    limit,
    nowMs,
  );
  return { scorecards: page.records, pagination: pagination(page, skip) };
}

/** The filters that look inside a call: users, attendees, topics, source ids and duration. */
function callFilter(query: URLSearchParams): ((record: ApiRecord) => boolean) | undefined {
  const users = readList(query, 'filterUser');
  const attendees = readList(query, 'filterAttendees');
  const topics = readList(query, 'filterTopics');
  const sourceIds = readList(query, 'filterSourceId');
  const durationGt = readInteger(query, 'filterDurationGt', { min: 0, max: 7200 });
  const durationLt = readInteger(query, 'filterDurationLt', { min: 0, max: 7200 });
  const tests: Array<(call: CallView) => boolean> = [];
  if (users) tests.push((call) => call.users.some((user) => users.has(user.userEmail)));
  if (attendees) tests.push((call) => [...call.externalParticipants, ...call.joinedParticipants].some((person) => person.email !== undefined && attendees.has(person.email)));
  if (topics) tests.push((call) => call.metrics.categories.some((category) => topics.has(category.name)));
  if (sourceIds) tests.push((call) => call.source_id !== undefined && sourceIds.has(call.source_id));
  if (durationGt !== undefined) tests.push((call) => call.metrics.call_duration > durationGt);
  if (durationLt !== undefined) tests.push((call) => call.metrics.call_duration < durationLt);
  return tests.length === 0 ? undefined : (record) => tests.every((test) => test(record as unknown as CallView));
}

/** The parts of a `/calls` record the record-level filters read. */
interface CallView {
  source_id?: string;
  users: Array<{ userEmail: string }>;
  externalParticipants: Array<{ email?: string }>;
  joinedParticipants: Array<{ email?: string }>;
  metrics: { call_duration: number; categories: Array<{ name: string }> };
}

function media(query: URLSearchParams) {
  return { audio: readFlag(query, 'includeAudio', false), video: readFlag(query, 'includeVideo', false) };
}

/** providers.md §2.3, AMP fixtures: `{matched, nextPageSkip, hasMore: true}`, and on the last page `{matched, hasMore: false}`. */
function pagination(page: Page, skip: number): ApiRecord {
  const next = skip + page.records.length;
  return next < page.matched ? { matched: page.matched, nextPageSkip: next, hasMore: true } : { matched: page.matched, hasMore: false };
}

/** Larger pages fail more: the base rate at 25 records, four times it at 50, sixteen times at 100. */
function failureChance(rate: number, query: URLSearchParams): number {
  const limit = Number(query.get('limit'));
  const pageSize = Number.isInteger(limit) && limit > 0 ? limit : BASE_PAGE_SIZE;
  return Math.min(0.9, rate * Math.max(1, pageSize / BASE_PAGE_SIZE) ** 2);
}
