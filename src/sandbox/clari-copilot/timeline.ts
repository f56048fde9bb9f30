import { Duration, type DateTime } from 'luxon';
import { intBetween, pick, rngFor, type Random } from '../random.js';
import { DIALER_TYPES, MEETING_TYPES, type BotNotJoinReason, type CallDisposition, type CallStatus, type CallType } from './vocabulary.js';

/**
 * Calls fall into this many classes by index (class = index mod CLASS_COUNT). Everything a filter or
 * sort of `/calls` looks at (type, privacy, the status lifecycle and its timing) is a property of the
 * class, so the calls matching a query are a few arithmetic runs of indices, never a scan.
 */
export const CLASS_COUNT = 32;

export type CallKind =
  | 'recorded'
  | 'dialer'
  | 'nobody-joined'
  | 'bot-denied'
  | 'ignored'
  | 'bot-disabled'
  | 'cancelled'
  | 'no-data'
  | 'processing-error'
  | 'recording-error'
  | 'unable-to-join';

/** [kind, classes, of which private]: 32 classes in all, shuffled per seed. */
const CLASS_PLAN: ReadonlyArray<readonly [CallKind, number, number]> = [
  ['recorded', 14, 3],
  ['dialer', 8, 1],
  ['nobody-joined', 2, 0],
  ['bot-denied', 1, 0],
  ['ignored', 1, 0],
  ['bot-disabled', 1, 0],
  ['cancelled', 1, 0],
  ['no-data', 1, 0],
  ['processing-error', 1, 0],
  ['recording-error', 1, 0],
  ['unable-to-join', 1, 0],
];

/** A status a call takes `offsetMs` after its `time` (negative: before it, e.g. when the meeting was booked). */
export interface StatusStep {
  status: CallStatus;
  offsetMs: number;
}

export interface CallProfile {
  kind: CallKind;
  type: CallType;
  /** Calendar meetings the bot joins; the rest are dialer calls or uploaded recordings. */
  isMeeting: boolean;
  /**
   * Left out of `/calls` unless `includePrivate` (Clari Copilot OpenAPI, GET /calls `includePrivate`, default false). CLARI-OAS's Call has no field
   * that marks a private call, so the record carries no marker; the dataset answers `isPrivate(id)`.
   */
  isPrivate: boolean;
  /**
   * Strictly increasing offsets. The first is when the call appears in the API; each later one is a
   * status change, the only thing that moves `last_modified_time` (docs/sources.md#clari-copilot-records).
   */
  steps: readonly StatusStep[];
  durationMs: number;
  disposition: CallDisposition;
  botNotJoinReason?: BotNotJoinReason;
  /** Reaches PROCESSED, so it has metrics, a recording and a transcript once there. */
  isRecorded: boolean;
  /** Scored calls get a scorecard `delayMs` after their last status change. */
  scorecard?: { delayMs: number; template: number };
}

export interface TimeBounds {
  /** Strict bounds on `time`, then on `last_modified_time` (ms). */
  timeGt?: number;
  timeLt?: number;
  modifiedGt?: number;
  modifiedLt?: number;
}

/**
 * When every call happens, as pure functions of (seed, index). Call i sits in slot i of the history:
 * `time` = start + i × spacing + a seeded jitter inside the slot, so `time` strictly increases with i
 * and "which calls have time ≤ t" is one division. Slots past the anchor are calls of the future; a
 * call exists once the clock passes its first step.
 */
export class CallTimeline {
  readonly startMs: number;
  readonly spacingMs: number;
  readonly profiles: readonly CallProfile[];

  constructor(
    private readonly seed: number,
    anchor: DateTime,
    history: Duration,
    historicalCalls: number,
  ) {
    const historyMs = history.as('milliseconds');
    this.startMs = anchor.toMillis() - historyMs;
    this.spacingMs = Math.max(1, Math.floor(historyMs / Math.max(1, historicalCalls)));
    this.profiles = buildProfiles(seed);
  }

  timeOf(index: number): number {
    return this.startMs + index * this.spacingMs + Math.floor(rngFor(this.seed, 'clari-copilot', 'slot', index)() * this.spacingMs);
  }

  /** The first index whose `time` is after `ms`: every call below it has time ≤ ms, every call from it on time > ms. */
  firstAfter(ms: number): number {
    if (ms < this.startMs) return 0;
    const slot = Math.floor((ms - this.startMs) / this.spacingMs);
    return this.timeOf(slot) > ms ? slot : slot + 1;
  }

  profileOf(index: number): CallProfile {
    return this.profiles[index % CLASS_COUNT]!;
  }

  /** Which of the call's steps is in effect at `nowMs`; -1 while the call does not exist yet. */
  stepAt(index: number, nowMs: number): number {
    const elapsed = nowMs - this.timeOf(index);
    const { steps } = this.profileOf(index);
    let step = -1;
    while (step + 1 < steps.length && steps[step + 1]!.offsetMs <= elapsed) step++;
    return step;
  }

  /**
   * The index range [from, to) of calls (of any class with these step offsets) that are at step
   * `step` at `nowMs` and satisfy `bounds`, where the step's own time is the `last_modified_time`.
   */
  stepRange(offsets: readonly number[], step: number, nowMs: number, bounds: TimeBounds): [number, number] {
    const offset = offsets[step]!;
    const next = offsets[step + 1];
    let from = next === undefined ? 0 : this.firstAfter(nowMs - next);
    let to = this.firstAfter(nowMs - offset);
    if (bounds.timeGt !== undefined) from = Math.max(from, this.firstAfter(bounds.timeGt));
    if (bounds.timeLt !== undefined) to = Math.min(to, this.firstAfter(bounds.timeLt - 1));
    if (bounds.modifiedGt !== undefined) from = Math.max(from, this.firstAfter(bounds.modifiedGt - offset));
    if (bounds.modifiedLt !== undefined) to = Math.min(to, this.firstAfter(bounds.modifiedLt - 1 - offset));
    return [from, to];
  }
}

/** The indices of class `classIndex` inside [from, to): start, start + CLASS_COUNT, … */
export function classRun(classIndex: number, [from, to]: readonly [number, number]): { start: number; size: number } {
  const start = from + ((((classIndex - from) % CLASS_COUNT) + CLASS_COUNT) % CLASS_COUNT);
  return { start, size: start < to ? Math.floor((to - 1 - start) / CLASS_COUNT) + 1 : 0 };
}

function buildProfiles(seed: number): CallProfile[] {
  const plan = CLASS_PLAN.flatMap(([kind, count, privateCount]) => Array.from({ length: count }, (_, n) => ({ kind, isPrivate: n < privateCount })));
  const order = rngFor(seed, 'clari-copilot', 'class-order');
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(order() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan.map(({ kind, isPrivate }, classIndex) => buildProfile(kind, isPrivate, rngFor(seed, 'clari-copilot', 'class', classIndex)));
}

const MINUTE_MS = Duration.fromObject({ minutes: 1 }).as('milliseconds');
const DAY_MINUTES = Duration.fromObject({ days: 1 }).as('minutes');

function buildProfile(kind: CallKind, isPrivate: boolean, random: Random): CallProfile {
  // Whole minutes plus a random part of a second, as real timestamps carry milliseconds (calls.json fixture).
  const minutes = (min: number, max: number) => intBetween(random, min, max) * MINUTE_MS + intBetween(random, 0, 59_999);
  const isMeeting = kind !== 'dialer';
  const type = pick(random, isMeeting ? MEETING_TYPES : DIALER_TYPES);
  const durationMs = isMeeting ? minutes(15, 60) : minutes(1, 20);
  const steps: StatusStep[] = [];
  const at = (status: CallStatus, offsetMs: number) => steps.push({ status, offsetMs });
  const lead = minutes(60, 7 * DAY_MINUTES);
  const botJoins = -minutes(1, 2);
  const started = minutes(0, 3);
  const processing = (endMs: number, outcome: 'done' | 'error') => {
    const queued = endMs + minutes(1, 10);
    at('WAITING_IN_QUEUE', endMs);
    at('PROCESSING', queued);
    const processed = queued + minutes(5, 30);
    if (outcome === 'error') return at('ERROR_IN_PROCESSING', processed);
    at('PROCESSED', processed);
    at('POST_PROCESSING_DONE', processed + minutes(1, 10));
  };

  if (kind !== 'dialer') at('SCHEDULED', -lead);
  if (['recorded', 'nobody-joined', 'bot-denied', 'no-data', 'processing-error', 'recording-error', 'unable-to-join'].includes(kind)) at('INITIATED', botJoins);
  if (['recorded', 'no-data', 'processing-error', 'recording-error'].includes(kind)) at('INPROGRESS', started);
  switch (kind) {
    case 'recorded':
      processing(durationMs, 'done');
      break;
    case 'processing-error':
      processing(durationMs, 'error');
      break;
    case 'dialer':
      // Dialer calls reach Copilot only once the recording is uploaded after the call.
      processing(durationMs + minutes(1, 15), 'done');
      break;
    case 'nobody-joined':
      at('NOBODY_JOINED_CALL', minutes(5, 15));
      break;
    case 'bot-denied':
      at('BOTJOIN_DENIED', minutes(1, 5));
      break;
    case 'ignored':
      at('IGNORED_BY_USER', -Math.floor(lead / 2));
      break;
    case 'bot-disabled':
      at('BOTJOIN_DISABLED', botJoins);
      break;
    case 'cancelled':
      at('CALL_DID_NOT_HAPPEN', durationMs + minutes(15, 45));
      break;
    case 'no-data':
      at('NO_DATA_INCALL', started + minutes(2, 5));
      break;
    case 'recording-error':
      at('ERROR_IN_RECORDING', durationMs);
      break;
    case 'unable-to-join':
      at('UNABLE_TO_JOIN', minutes(1, 3));
      break;
  }

  const isRecorded = kind === 'recorded' || kind === 'dialer';
  const scored = (kind === 'recorded' && random() < 0.5) || (kind === 'dialer' && random() < 0.3);
  return {
    kind,
    type,
    isMeeting,
    isPrivate,
    steps,
    durationMs,
    disposition: dispositionOf(kind, durationMs),
    ...botNotJoinReasonOf(kind),
    isRecorded,
    ...(scored ? { scorecard: { delayMs: minutes(60, 3 * DAY_MINUTES), template: kind === 'dialer' ? 2 : intBetween(random, 0, 1) } } : {}),
  };
}

function dispositionOf(kind: CallKind, durationMs: number): CallDisposition {
  switch (kind) {
    case 'recorded':
      return 'CALL_CONNECTED_WITH_PROSPECT';
    case 'dialer':
      return durationMs >= 3 * MINUTE_MS ? 'CALL_CONNECTED_WITH_PROSPECT' : 'CALL_DID_NOT_CONNECT_WITH_PROSPECT';
    case 'nobody-joined':
      return 'CALL_NOBODY_JOINED';
    case 'bot-denied':
      return 'CALL_BOTJOIN_DENIED';
    default:
      return 'UNKNOWN_CALL_DISPOSITION';
  }
}

function botNotJoinReasonOf(kind: CallKind): { botNotJoinReason?: BotNotJoinReason } {
  if (kind === 'ignored') return { botNotJoinReason: 'IGNORED_BY_USER' };
  if (kind === 'bot-disabled') return { botNotJoinReason: 'IGNORED_NOT_EXTERNAL_MEETING' };
  if (kind === 'bot-denied') return { botNotJoinReason: 'RECORDING_PERMISSION_DENIED' };
  return {};
}
