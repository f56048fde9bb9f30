import { DateTime } from 'luxon';
import type { HttpRequest, HttpStatusError } from '../../http/client.js';
import type { ErrorMeaning, RequestContext, RequestSpec, StreamDefinition, SyncWindow } from '../../core/definitions.js';
import { formatInstant, parseInstant } from '../../core/state.js';
import type { JsonRecord } from '../../protocol/messages.js';
import type { GongConfig } from './provider.js';

function errorsText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.join(' ') : '';
}

/**
 * An empty window is a 404 whose errors say "No calls found corresponding to the provided filters" (the
 * live text, NangoHQ/integration-templates integrations/gong/helpers/paginate.ts) or "…for the specified
 * period" (gong-openapi.json, 404 of POST /v2/calls/extensive); any other 404 (a wrong base_url, a
 * missing endpoint) is a failure.
 */
const EMPTY_RESULT = /\bfound (corresponding to the provided filters|for the specified period)/i;

/**
 * Besides the empty 404: 400 "cursor has expired" / "Failed to verify cursor" once a cursor's JWT lapses
 * (AMP providers/gong/errors.go), and a refused GET /v2/flows for one owner, who has no Gong Engage seat
 * (gong-openapi.json documents 401 "Access denied"; AMP providers/gong/flows.go skips such owners).
 */
export function interpretGongError(error: HttpStatusError, stream: StreamDefinition<GongConfig>): ErrorMeaning {
  // An OAuth token without the operation's scope ("this endpoint requires the scope …", Gong API v2): leave that stream out.
  if (error.status === 403 && /\bscope\b/i.test(errorsText(error.body))) return 'skip-stream';
  if (error.status === 404 && EMPTY_RESULT.test(errorsText(error.body))) return 'empty';
  if (error.status === 400 && /cursor has expired|failed to verify cursor/i.test(errorsText(error.body))) return 'restart-window';
  if ((error.status === 401 || error.status === 403) && stream.name === 'gong_flows') return 'skip';
  return undefined;
}

/** Gong's error texts, e.g. the scope a 403 names. */
export const describeGongRefusal = (error: HttpStatusError) => errorsText(error.body) || undefined;

export const gongErrorNotes = {
  empty:
    'Gong answered "No calls found" for a window, read as empty; Gong gives credentials that may not see calls the same answer, so if calls are missing, check that the key can read calls (OAuth: the api:calls:read:extensive and api:calls:read:transcript scopes)',
  skip: 'Gong refuses the flows of users without a Gong Engage seat; if every owner was refused, check that the key can read flows (OAuth: the api:flows:read scope)',
};

/** Gong filters on call start: fromDateTime inclusive, toDateTime exclusive (Gong API v2, POST /v2/calls/extensive, `filter.fromDateTime` and `toDateTime`). */
function dateFilter(window: SyncWindow | undefined): JsonRecord {
  return {
    ...(window?.from ? { fromDateTime: formatInstant(window.from) } : {}),
    ...(window ? { toDateTime: formatInstant(window.to) } : {}),
  };
}

/** Parties, content, interaction and collaboration; media URLs only on request (they need their own scope). */
export function extensiveCallsBody({ config, window }: RequestContext<GongConfig>): JsonRecord {
  const all = (fields: string[]) => Object.fromEntries(fields.map((f) => [f, true]));
  return {
    filter: { ...dateFilter(window), ...(config.workspace_id ? { workspaceId: config.workspace_id } : {}) },
    contentSelector: {
      context: 'Extended',
      // CRM values today and as they were at the call (a deal's stage then); the default is Now only
      // (gong-openapi.json ContentSelector.contextTiming). It costs no request.
      contextTiming: ['Now', 'TimeOfCall'],
      exposedFields: {
        parties: true,
        media: config.expose_media_urls ?? false,
        content: all(['structure', 'topics', 'trackers', 'trackerOccurrences', 'pointsOfInterest', 'brief', 'outline', 'highlights', 'callOutcome', 'keyPoints']),
        interaction: all(['speakers', 'video', 'personInteractionStats', 'questions']),
        collaboration: all(['publicComments']),
      },
    },
  };
}

/**
 * The key and the replication key live in `metaData`; lift them so they are top level. A private call
 * (`metaData.isPrivate`, gong-openapi.json CallBasicData) is left out unless `include_private`: its
 * brief, outline and parties are as private as its transcript, which is then never requested either.
 */
export function syncedCall(call: JsonRecord, { config }: RequestContext<GongConfig>): JsonRecord | undefined {
  const meta = (call.metaData ?? {}) as JsonRecord;
  if (meta.isPrivate === true && config.include_private !== true) return undefined;
  return { id: meta.id, started: meta.started, ...call };
}

/** Transcripts and call access lists carry no time, so each gets its call's start; AMP's fixture spells a transcript's key `callid` (docs/sources.md#gong-records). */
export function attachCallStart(transcript: JsonRecord, { parents }: RequestContext<GongConfig>): JsonRecord {
  const callId = transcript.callId ?? transcript.callid;
  const call = parents.find((p) => p.id === callId);
  const { callid: _, ...rest } = transcript;
  return { ...rest, callId, started: call?.started };
}

/** GET /v2/flows needs an owner; only active users with an address can own flows (Gong API v2, GET /v2/flows: `flowOwnerEmail` is required). */
/** The start a required `from…` filter gets when the run has none (no start_date, no bookmark): the whole history. */
export const HISTORY_START = DateTime.fromMillis(0, { zone: 'utc' });

export const canOwnFlows = (user: JsonRecord) => user.active !== false && typeof user.emailAddress === 'string';

/**
 * Gong's stats and scorecard filters take dates of the company's time zone (`YYYY-MM-DD`; Gong API v2,
 * POST /v2/stats/activity/scorecards and POST /v2/stats/interaction, `filter`), a zone the API does not
 * tell beforehand. Offsets run from UTC-12 to UTC+14, so the company date of an instant t lies between
 * the UTC dates of t-12h and t+14h; noon rounding (t+12h) names the day a bookmark at a local midnight starts.
 */
const utcDate = (instant: DateTime) => instant.toUTC().toISODate()!;
const companyDay = (instant: DateTime) => instant.toUTC().plus({ hours: 12 }).startOf('day');

/** The dates whose company days cover [from, to) in any zone: answered scorecards filter on reviews in them, then the window's own instants are kept. */
export function reviewDates({ window }: RequestContext<GongConfig>): JsonRecord {
  return {
    ...(window?.from ? { reviewFromDate: utcDate(window.from.minus({ hours: 12 })) } : {}),
    ...(window ? { reviewToDate: utcDate(window.to.plus({ hours: 14, days: 1 })) } : {}),
  };
}

/** Keeps an answered scorecard whose review lies in the window: the date filter reaches a day past each end. */
export function reviewInWindow(scorecard: JsonRecord, { window }: RequestContext<GongConfig>): JsonRecord | undefined {
  const reviewed = parseInstant(scorecard.reviewTime);
  if (window && reviewed && ((window.from && reviewed < window.from) || reviewed >= window.to)) return undefined;
  return scorecard;
}

/**
 * How a stats request spans its window: `day`, one company day per request, for the endpoints whose
 * row sums the whole range asked (interaction, aggregate); `days` and `weeks`, the window's whole days
 * or Monday-to-Sunday weeks, for the endpoints with a row per period (day-by-day, aggregate-by-period).
 */
type StatsSpan = 'day' | 'days' | 'weeks';

/**
 * The company days a stats request covers: whole units from the one the window starts in to the one
 * its successor starts in, so consecutive windows neither overlap nor leave a gap; the range's last
 * window runs on to the last whole day — `toDate` is exclusive and "should not exceed the current
 * day", and the company's day may lag UTC's by 12 hours. Undefined when no whole day is readable yet.
 * Without a start (no start_date, no bookmark) the last whole day.
 */
function statsDays({ window, range }: RequestContext<GongConfig>, span: StatsSpan = 'day'): { fromDate: string; toDate: string } | undefined {
  const unit = span === 'weeks' ? 'week' : 'day';
  const end = range?.to ?? window?.to ?? DateTime.utc();
  const lastDay = end.toUTC().minus({ hours: 12 }).startOf('day');
  const from = (window?.from ? companyDay(window.from) : lastDay.minus({ days: 1 })).startOf(unit);
  const rangeGoesOn = window !== undefined && window.to < end;
  const to = span === 'day' ? from.plus({ days: 1 }) : rangeGoesOn ? companyDay(window.to).startOf(unit) : lastDay;
  const until = DateTime.min(to, lastDay);
  return until > from ? { fromDate: utcDate(from), toDate: utcDate(until) } : undefined;
}

/** A stats request for the window's days, or none when no whole day is readable. */
export function statsRequest(path: string, span: StatsSpan = 'day', extra: JsonRecord = {}) {
  return (ctx: RequestContext<GongConfig>): RequestSpec[] => {
    const days = statsDays(ctx, span);
    return days ? [{ method: 'POST', path, body: { filter: days, ...extra } }] : [];
  };
}

/** A per-day stats row: the user's stats, with the company days asked for, which key it. */
export function statsOfDay(row: JsonRecord, _: RequestContext<GongConfig>, request: HttpRequest): JsonRecord {
  const { fromDate, toDate } = (request.body as { filter: { fromDate: string; toDate: string } }).filter;
  return { userId: row.userId, fromDate, toDate, ...row };
}

/** One row per user per period of a user's `periods` list (aggregate-by-period, day-by-day), keyed by the period's start. */
export function perPeriod(periods: string) {
  return (user: JsonRecord): JsonRecord[] =>
    ((user[periods] ?? []) as JsonRecord[]).map((period) => ({ userId: user.userId, userEmailAddress: user.userEmailAddress, ...period }));
}

/** One row per field of an entity schema answer, with the integration and object type it belongs to. */
export function entitySchemaFields(schema: JsonRecord, _: RequestContext<GongConfig>, request: HttpRequest): JsonRecord[] {
  const query = request.query ?? {};
  return Object.entries(schema).flatMap(([objectType, fields]) =>
    ((fields ?? []) as JsonRecord[]).map((field) => ({ integrationId: String(query.integrationId), objectType, ...field })),
  );
}

/** The CRM contacts and leads a call names, on its parties' and its own context (Gong API v2, POST /v2/calls/extensive, `context[].objects[]`). */
function callProspectIds(call: JsonRecord): string[] {
  const contexts = [call.context, ...((call.parties ?? []) as JsonRecord[]).map((party) => party.context)];
  const ids = contexts.flatMap((context) =>
    ((context ?? []) as JsonRecord[]).flatMap((system) =>
      ((system.objects ?? []) as JsonRecord[]).filter((o) => o.objectType === 'Contact' || o.objectType === 'Lead').map((o) => String(o.objectId)),
    ),
  );
  return [...new Set(ids)];
}

/** The CRM contacts and leads a call names, as references for POST /v2/flows/prospects, with the call's start: that stream follows `gong_calls`. */
export function namedProspects(call: JsonRecord): JsonRecord[] {
  return callProspectIds(call).map((id) => ({ id, started: call.started }));
}

/** A flow prospect, with the start of the call that named it. */
export function withNamingCallStart(prospect: JsonRecord, { parents }: RequestContext<GongConfig>): JsonRecord {
  return { ...prospect, started: parents.find((reference) => reference.id === String(prospect.crmProspectId))?.started };
}

/** GET /v2/coaching asks for one manager in one workspace: each manager a user names, in each workspace, as references. */
export function managersAcross(user: JsonRecord, workspaces: readonly JsonRecord[]): JsonRecord[] {
  if (user.managerId === null || user.managerId === undefined) return [];
  return workspaces.map((workspace) => ({ id: `${workspace.id}/${user.managerId}`, workspaceId: String(workspace.id), managerId: String(user.managerId) }));
}

/** The coaching of a manager over the run's range: from start_date (else the whole history) to the run's end. */
export function coachingRequest({ parents, since, until }: RequestContext<GongConfig>): RequestSpec {
  const { workspaceId, managerId } = parents[0]!;
  return { method: 'GET', path: '/v2/coaching', query: { 'workspace-id': String(workspaceId), 'manager-id': String(managerId), from: formatInstant(since ?? HISTORY_START), to: formatInstant(until!) } };
}

/** One row per direct report of a manager's coaching answer (Gong API v2, GET /v2/coaching, `CoachingMetricsData`). */
export function coachingRows(data: JsonRecord, { parents }: RequestContext<GongConfig>): JsonRecord[] {
  const { workspaceId, managerId } = parents[0]!;
  return ((data.directReportsMetrics ?? []) as JsonRecord[]).map((row) => ({
    workspaceId,
    managerId,
    reportId: (row.report as JsonRecord | undefined)?.id,
    manager: data.manager,
    report: row.report,
    metrics: row.metrics,
  }));
}
