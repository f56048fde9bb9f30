import { Duration, type DateTime } from 'luxon';
import { SlotSeries } from '../kit/series.js';
import { intBetween, rngFor } from '../random.js';

// docs/sources.md#gong-processing-latency: a call becomes readable only after Gong processes it; Gong publishes no bound
// (AMP PR #1064 saw "the whole day"). The sandbox draws each call's delay from this floor up to a cap.
const MIN_PROCESSING_LATENCY = Duration.fromObject({ minutes: 5 });
const LONGEST_CALL_SECONDS = 3600;

/**
 * When each call starts, how long it lasts and when the API starts serving it, as pure functions of
 * (seed, index).
 * Calls are a SlotSeries: starts never decrease with the index, so a time maps to an index by binary search. Slots past the history's end are calls "made later": they
 * exist once the clock passes their start and are served once it passes their processing time.
 */
export class CallTimeline {
  private readonly starts: SlotSeries;
  private readonly minLatencyMs: number;
  private readonly maxLatencyMs: number;

  constructor(
    private readonly seed: number,
    anchor: DateTime,
    history: Duration,
    historicalCalls: number,
    maxLatency: Duration,
  ) {
    this.starts = new SlotSeries(anchor.minus(history).toMillis(), history.as('milliseconds') / historicalCalls, (index) => rngFor(seed, 'gong', 'call-start', index)());
    this.maxLatencyMs = maxLatency.as('milliseconds');
    this.minLatencyMs = Math.min(MIN_PROCESSING_LATENCY.as('milliseconds'), this.maxLatencyMs);
  }

  startedMs(index: number): number {
    return this.starts.timeMs(index);
  }

  /** A third are short dials (20 s – 15 min), the rest meetings (10 – 60 min). */
  durationSeconds(index: number): number {
    const random = rngFor(this.seed, 'gong', 'call-length', index);
    return random() < 0.3 ? intBetween(random, 20, 900) : intBetween(random, 600, LONGEST_CALL_SECONDS);
  }

  /** The call's end plus processing latency; cubed so most take minutes and a few most of a day. */
  servedFromMs(index: number): number {
    const draw = rngFor(this.seed, 'gong', 'call-latency', index)();
    const latencyMs = Math.round(this.minLatencyMs + (this.maxLatencyMs - this.minLatencyMs) * draw ** 3);
    return this.startedMs(index) + this.durationSeconds(index) * 1000 + latencyMs;
  }

  /** The first index whose call starts at or after `ms`. */
  firstStartingAtOrAfter(ms: number): number {
    return this.starts.firstAtOrAfter(ms);
  }

  /** Calls below this index have started by `atMs` (later slots are in the clock's future). */
  startedBy(atMs: number): number {
    return this.firstStartingAtOrAfter(atMs + 1);
  }

  /** Calls below this index started so long before `atMs` that even the longest, slowest one is served. */
  surelyServedBelow(atMs: number): number {
    return this.firstStartingAtOrAfter(atMs - LONGEST_CALL_SECONDS * 1000 - this.maxLatencyMs + 1);
  }

  isServed(index: number, atMs: number): boolean {
    return this.servedFromMs(index) <= atMs;
  }

  /** Served calls in [from, to): counted arithmetically, except the last day's slots, checked one by one. */
  countServed(from: number, to: number, atMs: number): number {
    const end = Math.min(to, this.startedBy(atMs));
    if (end <= from) return 0;
    const checkFrom = Math.min(Math.max(from, this.surelyServedBelow(atMs)), end);
    let count = checkFrom - from;
    for (let index = checkFrom; index < end; index++) if (this.isServed(index, atMs)) count++;
    return count;
  }
}
