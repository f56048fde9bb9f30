import { DateTime, Duration } from 'luxon';
import { ApiError, badRequest } from '../kit/errors.js';
import { listSource, type RecordSource } from '../kit/paging.js';
import { SlotSeries } from '../kit/series.js';
import { intBetween, pick, rngFor } from '../random.js';
import { callFrame, callScorecards, salesforceId, type CallFrame } from './calls.js';
import { gongId, isoInZone, type GongData, type GongRecord } from './data.js';
import { CallSelection } from './selection.js';

/**
 * What happened in the tenant over time, as the Gong API v2 operations GET /v2/logs,
 * GET /v2/calls/manual-crm-associations, POST /v2/stats/activity/scorecards, the /v2/stats activity
 * and interaction operations and GET /v2/coaching shape it
 * (https://gong.app.gong.io/settings/api/documentation). Events are SlotSeries; stats derive from the calls.
 */

/** GET /v2/logs `logType`, and how often each kind of entry happens. */
export const LOG_TYPES = { AccessLog: 2, UserActivityLog: 3, UserCallPlay: 5, ExternallySharedCallAccess: 24, ExternallySharedCallPlay: 36 } as const;
export type LogType = keyof typeof LOG_TYPES;
const USER_AGENTS = ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/126.0', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/126.0', 'Gong/5.2 (iPhone; iOS 17.5)'];
const USER_ACTIONS = ['LOGIN', 'SEARCH_CALLS', 'VIEW_DEAL', 'EXPORT_REPORT', 'EDIT_SCORECARD'];
const ASSOCIATION_SPACING = Duration.fromObject({ hours: 7 });

function series(data: GongData, name: string, spacing: Duration): SlotSeries {
  const startMs = data.timeline.startedMs(0);
  return new SlotSeries(startMs, spacing.as('milliseconds'), (index) => rngFor(data.seed, 'gong', name, 'time', index)());
}

/** Slots of a series whose time lies in [fromMs, toMs) and is not after `atMs`. */
function slotsBetween(events: SlotSeries, fromMs: number | undefined, toMs: number | undefined, atMs: number): { first: number; end: number } {
  return events.between(fromMs, Math.min(toMs ?? Number.POSITIVE_INFINITY, atMs + 1));
}

/** GET /v2/logs: the entries of one type in [fromMs, toMs), oldest first. */
export function logEntries(data: GongData, logType: LogType, fromMs: number, toMs: number | undefined, atMs: number): RecordSource<GongRecord> {
  const events = series(data, `log-${logType}`, Duration.fromObject({ hours: LOG_TYPES[logType] }));
  const { first, end } = slotsBetween(events, fromMs, toMs, atMs);
  return listSource(end - first, (position) => {
    const index = first + position;
    const random = rngFor(data.seed, 'gong', 'log', logType, index);
    const userIndex = intBetween(random, 0, data.userCount - 1);
    const { first: firstName, last } = data.userName(userIndex);
    const impersonated = logType === 'AccessLog' && random() < 0.05;
    const shared = logType.startsWith('ExternallyShared');
    const call = data.callId(intBetween(random, 0, Math.max(0, data.timeline.firstStartingAtOrAfter(events.timeMs(index)) - 1)));
    return {
      userId: data.userId(userIndex),
      userEmailAddress: data.userEmail(userIndex),
      userFullName: `${firstName} ${last}`,
      impersonatorUserId: impersonated ? gongId(random) : null,
      impersonatorEmailAddress: impersonated ? 'support@gong.io' : null,
      impersonatorFullName: impersonated ? 'Gong Support' : null,
      impersonatorCompanyId: impersonated ? gongId(random) : null,
      eventTime: isoInZone(events.timeMs(index), 'UTC'),
      logRecord:
        logType === 'AccessLog'
          ? { ipAddress: `203.0.113.${intBetween(random, 1, 254)}`, userAgent: pick(random, USER_AGENTS), success: random() < 0.97 }
          : logType === 'UserActivityLog'
            ? { action: pick(random, USER_ACTIONS), ipAddress: `198.51.100.${intBetween(random, 1, 254)}` }
            : { callId: call, ...(shared ? { externalEmailAddress: `guest${intBetween(random, 1, 99)}@partner.example.com` } : { playedSeconds: intBetween(random, 5, 1800) }) },
    };
  });
}

/** GET /v2/calls/manual-crm-associations: the associations made after `fromMs`, in the order they were made. */
export function manualCrmAssociations(data: GongData, fromMs: number | undefined, atMs: number): RecordSource<GongRecord> {
  const events = series(data, 'manual-crm-association', ASSOCIATION_SPACING);
  // "Only the associations made after that time": strictly after.
  const { first, end } = slotsBetween(events, fromMs === undefined ? undefined : fromMs + 1, undefined, atMs);
  return listSource(end - first, (position) => {
    const index = first + position;
    const random = rngFor(data.seed, 'gong', 'manual-crm-association', index);
    const createdMs = events.timeMs(index);
    const callSlot = Math.max(0, data.timeline.firstStartingAtOrAfter(createdMs - intBetween(random, 1, 72) * 3_600_000) - 1);
    const deal = random() < 0.6;
    return {
      callId: data.callId(callSlot),
      userId: data.userId(intBetween(random, 0, data.userCount - 1)),
      created: isoInZone(createdMs, data.companyZone),
      associatedCrmObjects: [{ accountCrmId: salesforceId(random, '001'), dealCrmId: deal ? salesforceId(random, '006') : null }],
    };
  });
}

/** A `YYYY-MM-DD` date of the company's zone, the stats filters' format, as the start of that day. */
export function companyDate(data: GongData, name: string, value: unknown): DateTime | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = typeof value === 'string' && /^\d{4}-\d\d-\d\d$/.test(value) ? DateTime.fromISO(value, { zone: data.companyZone }) : undefined;
  if (!parsed?.isValid) throw badRequest(`${name}: must be a date in the format YYYY-MM-DD`);
  return parsed;
}

/** Served calls that started in [from, to) of the clock at `atMs`, with their frames. */
function callsBetween(data: GongData, fromMs: number, toMs: number, atMs: number): CallFrame[] {
  return [...new CallSelection(data, { fromMs, toMs }, atMs).indices()].map((index) => callFrame(data, index));
}

export interface AnsweredScorecardFilter {
  callFrom?: DateTime;
  callTo?: DateTime;
  reviewFrom?: DateTime;
  reviewTo?: DateTime;
  reviewedUserIds?: ReadonlySet<string>;
  scorecardIds?: ReadonlySet<string>;
}

/** A review is published within hours of the call's end; a day bounds it, so a review window maps to a call window. */
const LONGEST_REVIEW_DELAY_MS = 86_400_000;

/** POST /v2/stats/activity/scorecards: the answered scorecards the filter selects, by call start. */
export function answeredScorecards(data: GongData, filter: AnsweredScorecardFilter, atMs: number): GongRecord[] {
  const fromMs = Math.max(filter.callFrom?.toMillis() ?? 0, (filter.reviewFrom?.toMillis() ?? 0) - LONGEST_REVIEW_DELAY_MS);
  const toMs = Math.min(filter.callTo?.toMillis() ?? atMs + 1, filter.reviewTo?.toMillis() ?? atMs + 1);
  return callsBetween(data, fromMs, toMs, atMs).flatMap((frame) =>
    callScorecards(data, frame)
      .filter((card) => {
        const reviewMs = DateTime.fromISO(String(card.reviewTime)).toMillis();
        if (reviewMs > atMs) return false;
        if (filter.reviewFrom && reviewMs < filter.reviewFrom.toMillis()) return false;
        if (filter.reviewTo && reviewMs >= filter.reviewTo.toMillis()) return false;
        if (filter.reviewedUserIds && !filter.reviewedUserIds.has(String(card.reviewedUserId))) return false;
        return !filter.scorecardIds || filter.scorecardIds.has(String(card.scorecardId));
      })
      .map(({ answers, ...card }) => ({ ...card, callStartTime: frame.metaData.started, answers })),
  );
}

/** The counters of Gong's user activity stats, in the OpenAPI document's order. */
const ACTIVITY_COUNTERS = [
  'callsAsHost', 'callsGaveFeedback', 'callsRequestedFeedback', 'callsReceivedFeedback', 'ownCallsListenedTo', 'othersCallsListenedTo',
  'callsSharedInternally', 'callsSharedExternally', 'callsScorecardsFilled', 'callsScorecardsReceived', 'callsAttended', 'callsCommentsGiven',
  'callsCommentsReceived', 'callsMarkedAsFeedbackGiven', 'callsMarkedAsFeedbackReceived',
] as const;
type Counter = (typeof ACTIVITY_COUNTERS)[number];
/** A user's activity in some stretch of time: the ids of the calls behind each counter. */
type Activity = Record<Counter, string[]>;

const emptyActivity = (): Activity => Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, []])) as unknown as Activity;

/** The stats filter: company-zone days [from, to), and the users asked about (all when absent). */
export interface StatsFilter {
  from: DateTime;
  to: DateTime;
  userIds?: ReadonlySet<string>;
}

/** Reads `filter{fromDate, toDate, userIds}`; toDate is exclusive and "should not exceed the current day". */
export function statsFilter(data: GongData, filter: Readonly<Record<string, unknown>>, atMs: number): StatsFilter {
  const from = companyDate(data, 'fromDate', filter.fromDate)!;
  const to = companyDate(data, 'toDate', filter.toDate)!;
  const today = DateTime.fromMillis(atMs, { zone: data.companyZone }).startOf('day');
  if (to > today) throw badRequest('toDate: must not be after the current day');
  if (to <= from) throw badRequest('toDate: must be after fromDate');
  const ids = filter.userIds;
  if (ids !== undefined && ids !== null && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))) throw badRequest('userIds: must be an array of strings');
  return { from, to, ...(Array.isArray(ids) && ids.length ? { userIds: new Set(ids as string[]) } : {}) };
}

/**
 * Each user's activity per company-zone day of the filter, derived from the calls of those days: the host
 * hosted it; a seeded few listened, shared, commented, asked for and gave feedback; its scorecards were
 * filled by their reviewers. Only users with some activity in the range are listed, by user order.
 */
export function activityByDay(data: GongData, filter: StatsFilter, atMs: number): Array<{ userIndex: number; days: Activity[] }> {
  const days = Math.round(filter.to.diff(filter.from, 'days').days);
  const users = new Map<number, Activity[]>();
  const of = (userIndex: number, day: number): Activity => {
    let list = users.get(userIndex);
    if (!list) users.set(userIndex, (list = Array.from({ length: days }, emptyActivity)));
    return list[day]!;
  };
  for (const frame of callsBetween(data, filter.from.toMillis(), filter.to.toMillis(), atMs)) {
    const day = Math.floor(DateTime.fromMillis(frame.startedMs, { zone: data.companyZone }).startOf('day').diff(filter.from, 'days').days);
    const random = rngFor(data.seed, 'gong', 'call-activity', frame.index);
    const host = frame.primaryUserIndex;
    const other = () => intBetween(random, 0, data.userCount - 1);
    const add = (userIndex: number, counter: Counter) => of(userIndex, day)[counter].push(frame.id);
    add(host, 'callsAsHost');
    if (random() < 0.3) add(host, 'ownCallsListenedTo');
    if (random() < 0.4) add(other(), 'othersCallsListenedTo');
    if (random() < 0.4) add(other(), 'callsAttended');
    if (random() < 0.2) add(host, 'callsSharedInternally');
    if (random() < 0.1) add(host, 'callsSharedExternally');
    if (random() < 0.15) {
      add(host, 'callsRequestedFeedback');
      if (random() < 0.7) {
        add(other(), 'callsGaveFeedback');
        add(host, 'callsReceivedFeedback');
      }
    }
    if (random() < 0.25) {
      add(other(), 'callsCommentsGiven');
      add(host, 'callsCommentsReceived');
    }
    if (random() < 0.1) {
      add(other(), 'callsMarkedAsFeedbackGiven');
      add(host, 'callsMarkedAsFeedbackReceived');
    }
    for (const card of callScorecards(data, frame)) {
      add(data.userIndexById(String(card.reviewerUserId))!, 'callsScorecardsFilled');
      add(host, 'callsScorecardsReceived');
    }
  }
  return [...users.entries()]
    .filter(([userIndex]) => !filter.userIds || filter.userIds.has(data.userId(userIndex)))
    .sort(([a], [b]) => a - b)
    .map(([userIndex, list]) => ({ userIndex, days: list }));
}

/** The counts of a stretch of days: each counter's calls, counted. */
export function activityCounts(days: readonly Activity[]): Record<Counter, number> {
  return Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, days.reduce((sum, day) => sum + day[counter].length, 0)])) as Record<Counter, number>;
}

/** `aggregationPeriod` of POST /v2/stats/activity/aggregate-by-period ("First day of the week is Monday"). */
export const AGGREGATION_PERIODS = { DAY: 'day', WEEK: 'week', MONTH: 'month', QUARTER: 'quarter', YEAR: 'year' } as const;
export type AggregationPeriod = keyof typeof AGGREGATION_PERIODS;

/** The calendar periods of a range, the first and last cut to the range: day offsets [start, end) and their bounds. */
export function periodsOf(filter: StatsFilter, period: AggregationPeriod): Array<{ first: number; end: number; from: DateTime; to: DateTime }> {
  const out = [];
  for (let from = filter.from; from < filter.to; ) {
    const next = DateTime.min(from.startOf(AGGREGATION_PERIODS[period]).plus({ [AGGREGATION_PERIODS[period]]: 1 }), filter.to);
    out.push({ first: Math.round(from.diff(filter.from, 'days').days), end: Math.round(next.diff(filter.from, 'days').days), from, to: next });
    from = next;
  }
  return out;
}

/** Interaction stats of a user's hosted calls over the range (POST /v2/stats/interaction names these). */
export function interactionStats(data: GongData, userIndex: number, hosted: readonly string[]): GongRecord[] {
  const random = rngFor(data.seed, 'gong', 'interaction-stats', userIndex, hosted.length, hosted[0] ?? '');
  const round = (value: number) => Math.round(value * 100) / 100;
  return [
    { name: 'Longest Monologue', value: intBetween(random, 30, 240) },
    { name: 'Longest Customer Story', value: intBetween(random, 20, 180) },
    { name: 'Interactivity', value: round(3 + random() * 5) },
    { name: 'Patience', value: round(0.5 + random() * 1.5) },
    { name: 'Question Rate', value: round(random() * 20) },
    { name: 'Talk Ratio', value: round(0.3 + random() * 0.4) },
  ];
}

/** The coaching metrics GET /v2/coaching lists for a report: which of the report's calls the manager worked on. */
const COACHING_METRICS = { callsListened: 0.4, callsAttended: 0.15, callsGaveFeedback: 0.2, callsCommented: 0.1 } as const;

/**
 * GET /v2/coaching, `coachingData[]`: the manager and, for each direct report, the ids of the report's
 * calls in the workspace and in [from, to) that the manager listened to, attended, gave feedback on or
 * commented on (CoachingMetricsData; `metrics` is free-form there, a list of strings per metric).
 */
export function coaching(data: GongData, workspaceId: string, managerId: string, fromMs: number, toMs: number, atMs: number): GongRecord[] {
  if (!data.workspaces.some((workspace) => workspace.id === workspaceId)) throw new ApiError(404, `Workspace ${workspaceId} was not found`);
  const manager = data.userIndexById(managerId);
  if (manager === undefined) throw new ApiError(404, `User ${managerId} was not found`);
  const reports = Array.from({ length: data.userCount }, (_, index) => index).filter((index) => data.user(index).managerId === managerId);
  const calls = callsBetween(data, fromMs, toMs, atMs).filter((frame) => frame.metaData.workspaceId === workspaceId);
  const person = (index: number) => {
    const user = data.user(index);
    return { id: user.id, emailAddress: user.emailAddress, firstName: user.firstName, lastName: user.lastName, title: user.title };
  };
  return [
    {
      manager: person(manager),
      directReportsMetrics: reports.map((report) => {
        const hosted = calls.filter((frame) => frame.primaryUserIndex === report);
        const metrics = Object.fromEntries(
          Object.entries(COACHING_METRICS).map(([metric, share]) => [metric, hosted.filter((frame) => rngFor(data.seed, 'gong', 'coaching', metric, frame.index)() < share).map((frame) => frame.id)]),
        );
        return { report: person(report), metrics };
      }),
    },
  ];
}
