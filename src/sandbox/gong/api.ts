import { DateTime } from 'luxon';
import type { PeriodQuota } from '../quota.js';
import type { Random } from '../random.js';
import type { SandboxRequest, SandboxResponse } from '../types.js';
import { GONG_TOKEN_PATH, type GongAuth } from './auth.js';
import { callFrame, callRecord } from './calls.js';
import type { CursorCodec } from './cursor.js';
import type { GongData, GongRecord } from './data.js';
import { GongApiError, NO_CALLS_FOUND } from './errors.js';
import { toGongJson } from './json.js';
import { CallSelection, type CallFilter } from './selection.js';
import { chooseSections } from './selector.js';
import { callTranscript } from './transcripts.js';

/** providers.md §1.4: the server fixes the page size; 100 is observed for calls and transcripts. */
export const GONG_PAGE_SIZE = 100;
// Not documented; a Java-validation-style limit the sandbox assumes for transcript requests.
const MOST_TRANSCRIPT_CALL_IDS = 100;

const PATHS = ['/v2/calls', '/v2/calls/extensive', '/v2/calls/transcript', '/v2/users', '/v2/workspaces', '/v2/flows'];

/** One page's worth of a list: its size on the first page, and a slice from a position. */
interface PageSource {
  total(): number;
  /** Up to `limit` records from `position`; `next` is where the page after them starts. */
  take(position: number, limit: number): { records: GongRecord[]; next: number; more: boolean };
}

/**
 * The HTTP surface of the simulated Gong API v2 (providers.md §1): routing, request validation,
 * Gong's envelopes and paging. Data comes from GongData; failures are GongApiErrors, answered with
 * Gong's ErrorResponse `{requestId, errors}`.
 */
export class GongApi {
  constructor(
    private readonly data: GongData,
    private readonly auth: GongAuth,
    private readonly cursors: CursorCodec,
    private readonly now: () => DateTime,
    /** The moment whose calls are served: the clock less any visibility lag. */
    private readonly visibleAt: () => DateTime,
    private readonly requestIds: Random,
    private readonly prefix: string,
    private readonly dailyQuota: PeriodQuota,
  ) {}

  handle(request: SandboxRequest): SandboxResponse {
    if (request.path === GONG_TOKEN_PATH) return this.auth.token(request, `http://${request.headers.host ?? '127.0.0.1'}/${this.prefix}`);
    const requestId = this.requestId();
    try {
      this.auth.authenticate(request);
      // providers.md §1.3: past the calls allowed per day, 429 with Retry-After; here until the UTC day turns.
      const now = this.now();
      if (!this.dailyQuota.admit(now)) return this.rateLimited(Math.ceil(now.toUTC().startOf('day').plus({ days: 1 }).diff(now).as('seconds')));
      return gongResponse(200, { requestId, ...this.route(request) });
    } catch (error) {
      if (error instanceof GongApiError) return gongResponse(error.status, { requestId, errors: error.errors });
      throw error;
    }
  }

  /** providers.md §1.3: 429 with `Retry-After` in seconds and the usual error body. */
  rateLimited(retryAfterSeconds: number): SandboxResponse {
    const response = gongResponse(429, { requestId: this.requestId(), errors: ['API request limit exceeded'] });
    return { ...response, headers: { ...response.headers, 'Retry-After': String(retryAfterSeconds) } };
  }

  private route(request: SandboxRequest): GongRecord {
    const { method, path, query } = request;
    switch (`${method} ${path}`) {
      case 'GET /v2/calls':
        return this.basicCalls(query);
      case 'POST /v2/calls/extensive':
        return this.extensiveCalls(requestBody(request));
      case 'POST /v2/calls/transcript':
        return this.transcripts(requestBody(request));
      case 'GET /v2/users':
        return this.users(query);
      case 'GET /v2/workspaces':
        return { workspaces: this.data.workspaces.map((workspace) => ({ ...workspace })) };
      case 'GET /v2/flows':
        return this.flows(query);
    }
    const callId = /^\/v2\/calls\/(\d+)$/.exec(path)?.[1];
    if (callId && method === 'GET') return this.callById(callId);
    if (PATHS.includes(path) || callId) throw new GongApiError(405, [`Method ${method} is not supported for ${path}`]);
    throw new GongApiError(404, [`No API endpoint at ${path}`]);
  }

  /** `GET /v2/calls`: the basic call list (providers.md §1.5); both window ends may be left out. */
  private basicCalls(query: URLSearchParams): GongRecord {
    const filter = {
      ...windowOf(query.get('fromDateTime') ?? undefined, query.get('toDateTime') ?? undefined),
      ...optionalString('workspaceId', query.get('workspaceId') ?? undefined, (workspaceId) => ({ workspaceId })),
    };
    return this.callPages('calls', query.get('cursor') ?? undefined, filter, (index) => callFrame(this.data, index).metaData);
  }

  /** `POST /v2/calls/extensive`: filter plus contentSelector, cursor in the body (providers.md §1.4–1.5). */
  private extensiveCalls(body: Record<string, unknown>): GongRecord {
    const filter = callFilter(body, this.data, { primaryUsers: true });
    const sections = chooseSections(body.contentSelector);
    const requestMs = this.visibleAt().toMillis();
    return this.callPages('calls/extensive', bodyCursor(body), filter, (index) => callRecord(this.data, index, sections, requestMs), 'calls');
  }

  private transcripts(body: Record<string, unknown>): GongRecord {
    const filter = callFilter(body, this.data, { primaryUsers: false, mostCallIds: MOST_TRANSCRIPT_CALL_IDS });
    return this.callPages('calls/transcript', bodyCursor(body), filter, (index) => callTranscript(this.data, index), 'callTranscripts');
  }

  /** `GET /v2/calls/{id}`: `{requestId, call}`; 404 while the call is not (yet) served. */
  private callById(callId: string): GongRecord {
    const index = this.data.callIndex(callId);
    const served = index !== undefined && new CallSelection(this.data, { callIndices: [index] }, this.visibleAt().toMillis()).count() === 1;
    if (!served) throw new GongApiError(404, [`Call ${callId} was not found`]);
    return { call: callFrame(this.data, index).metaData };
  }

  /**
   * `GET /v2/users`; no date filter is documented (providers.md §6.1), so `fromDateTime` is ignored.
   */
  private users(query: URLSearchParams): GongRecord {
    const users = this.data.usersListed(query.get('includeAvatars') === 'true');
    return this.pages('users', query.get('cursor') ?? undefined, 'users', listSource(users.count, users.at));
  }

  /** `GET /v2/flows?flowOwnerEmail=` (required, providers.md §1.5). */
  private flows(query: URLSearchParams): GongRecord {
    const email = query.get('flowOwnerEmail');
    if (!email) throw new GongApiError(400, ['flowOwnerEmail: must not be blank']);
    const userIndex = this.data.userIndexByEmail(email);
    // How Gong answers for an unknown owner is not documented; AMP (flows.go) skips owners whose request fails.
    if (userIndex === undefined) throw new GongApiError(404, [`No user found with email address ${email}`]);
    // gong-openapi.json GET /v2/flows documents one refusal, 401 "Access denied": here, an owner without a Gong Engage seat.
    if (!this.data.userHasEngage(userIndex)) throw new GongApiError(401, ['Access denied']);
    const flows = this.data.flowsFor(userIndex, query.get('workspaceId') ?? undefined);
    return this.pages('flows', query.get('cursor') ?? undefined, 'flows', listSource(flows.length, (index) => flows[index]!));
  }

  private callPages(kind: string, cursor: string | undefined, filter: CallFilter, record: (index: number) => GongRecord, listKey = 'calls'): GongRecord {
    const selection = new CallSelection(this.data, filter, this.visibleAt().toMillis());
    const source: PageSource = {
      total: () => selection.count(),
      take(position, limit) {
        const indices: number[] = [];
        for (const index of selection.indices(position)) {
          indices.push(index);
          if (indices.length > limit) break;
        }
        const served = indices.slice(0, limit);
        return { records: served.map(record), next: (served.at(-1) ?? position - 1) + 1, more: indices.length > limit };
      },
    };
    return this.pages(kind, cursor, listKey, source, true);
  }

  /**
   * Gong's paging (providers.md §1.4): `records{totalRecords, currentPageSize, currentPageNumber}` and a
   * `cursor` only while more pages remain. The total is the first page's, carried in the cursor as
   * Gong's JWT carries it. Call endpoints answer an empty first page with 404 (providers.md §1.3).
   */
  private pages(kind: string, cursor: string | undefined, listKey: string, source: PageSource, emptyIsNotFound = false): GongRecord {
    const resumed = cursor === undefined ? undefined : this.cursors.read(cursor, kind);
    const total = resumed?.total ?? source.total();
    if (!resumed && total === 0 && emptyIsNotFound) throw new GongApiError(404, [NO_CALLS_FOUND]);
    const pageNumber = resumed?.pageNumber ?? 0;
    const { records, next, more } = source.take(resumed?.position ?? 0, GONG_PAGE_SIZE);
    const nextCursor = more ? { cursor: this.cursors.issue({ kind, position: next, total, pageNumber: pageNumber + 1 }) } : {};
    return { records: { totalRecords: total, currentPageSize: records.length, currentPageNumber: pageNumber, ...nextCursor }, [listKey]: records };
  }

  /** Gong request ids look like `4al018gzaztcr8nbukw` (gong-openapi.json examples). */
  private requestId(): string {
    return Array.from({ length: 19 }, () => Math.floor(this.requestIds() * 36).toString(36)).join('');
  }
}

function listSource(total: number, record: (index: number) => GongRecord): PageSource {
  return {
    total: () => total,
    take(position, limit) {
      const end = Math.min(total, position + limit);
      return { records: Array.from({ length: Math.max(0, end - position) }, (_, i) => record(position + i)), next: end, more: end < total };
    },
  };
}

function gongResponse(status: number, body: GongRecord): SandboxResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: toGongJson(body) };
}

/** POST reads take a JSON object body (gong-openapi.json: requestBody required). */
function requestBody(request: SandboxRequest): Record<string, unknown> {
  let body = request.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      throw new GongApiError(400, ['Malformed request: the body must be JSON']);
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GongApiError(400, ['Malformed request: the body must be a JSON object']);
  return body as Record<string, unknown>;
}

function bodyCursor(body: Record<string, unknown>): string | undefined {
  return optionalString('cursor', body.cursor, (cursor) => cursor);
}

/** The body `filter` of the POST call endpoints (gong-openapi.json CallsRequestFilterWithOwners / CallsFilter). */
function callFilter(body: Record<string, unknown>, data: GongData, rules: { primaryUsers: boolean; mostCallIds?: number }): CallFilter {
  const { filter } = body;
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new GongApiError(400, ['filter: must not be null']);
  const { fromDateTime, toDateTime, workspaceId, callIds, primaryUserIds } = filter as Record<string, unknown>;
  const ids = stringList('callIds', callIds);
  if (ids && rules.mostCallIds !== undefined && ids.length > rules.mostCallIds) {
    throw new GongApiError(400, [`callIds: size must be between 0 and ${rules.mostCallIds}`]);
  }
  const users = rules.primaryUsers ? stringList('primaryUserIds', primaryUserIds) : undefined;
  const callIndices = ids?.flatMap((id) => data.callIndex(id) ?? []);
  return {
    ...windowOf(optionalString('fromDateTime', fromDateTime, (value) => value), optionalString('toDateTime', toDateTime, (value) => value)),
    ...optionalString('workspaceId', workspaceId, (id) => ({ workspaceId: id })),
    // An empty list filters nothing out, as an absent one.
    ...(callIndices && ids!.length > 0 ? { callIndices: [...new Set(callIndices)].sort((a, b) => a - b) } : {}),
    ...(users && users.length > 0 ? { primaryUserIds: new Set(users) } : {}),
  };
}

/** ISO-8601 bounds with any offset, compared as instants (providers.md §1.5); a bound without an offset is UTC. */
function windowOf(from: string | undefined, to: string | undefined): Pick<CallFilter, 'fromMs' | 'toMs'> {
  const instant = (name: string, value: string) => {
    const parsed = DateTime.fromISO(value, { zone: 'utc' });
    if (!parsed.isValid) throw new GongApiError(400, [`${name}: '${value}' is not an ISO-8601 date-time`]);
    return parsed.toMillis();
  };
  return { ...(from === undefined ? {} : { fromMs: instant('fromDateTime', from) }), ...(to === undefined ? {} : { toMs: instant('toDateTime', to) }) };
}

function optionalString<T>(name: string, value: unknown, use: (value: string) => T): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new GongApiError(400, [`${name}: must be a string`]);
  return use(value);
}

function stringList(name: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new GongApiError(400, [`${name}: must be an array of strings`]);
  return value as string[];
}
