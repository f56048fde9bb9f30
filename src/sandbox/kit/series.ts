/**
 * Events at a steady pace, one per slot: slot i happens at `start + (i + jitter) × spacing`, in whole
 * seconds, the jitter in [0, 1) a pure function of i. Times never decrease with i, so a time maps to a slot
 * by binary search and a window of time is a range of slots: a page deep into millions of events costs
 * what the first page costs, and nothing is held in memory.
 */
export class SlotSeries {
  constructor(
    readonly startMs: number,
    readonly spacingMs: number,
    private readonly jitter: (index: number) => number,
  ) {}

  timeMs(index: number): number {
    return Math.floor((this.startMs + (index + this.jitter(index)) * this.spacingMs) / 1000) * 1000;
  }

  /** The first slot whose time is at or after `ms`. */
  firstAtOrAfter(ms: number): number {
    if (ms <= this.startMs) return 0;
    let low = 0;
    // Past this slot even the floored time of a jitter-free slot lies beyond `ms`.
    let high = Math.ceil((ms - this.startMs + 1000) / this.spacingMs) + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (this.timeMs(middle) < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Slots whose time lies in [fromMs, toMs): the first, and the one after the last. */
  between(fromMs: number | undefined, toMs: number): { first: number; end: number } {
    const first = fromMs === undefined ? 0 : this.firstAtOrAfter(fromMs);
    return { first, end: Math.max(first, this.firstAtOrAfter(toMs)) };
  }
}
