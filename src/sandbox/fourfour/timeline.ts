import { Duration } from 'luxon';
import { intBetween, rngFor } from '../random.js';

/**
 * Where records sit in time, computed arithmetically so millions of records need no memory: record i
 * of a series occupies slot i (start + i × spacing, plus jitter inside the slot), so times are
 * strictly increasing in i and "how many records exist at t" is a division.
 */
export class Series {
  private readonly spacingMs: number;
  private readonly granularityMs: number;

  constructor(
    private readonly seed: number,
    private readonly name: string,
    private readonly startMs: number,
    historyMs: number,
    count: number,
  ) {
    // Whole seconds, as real timestamps look, while rounding the slot to seconds keeps the count within 1%;
    // milliseconds at larger scales.
    this.granularityMs = historyMs / count >= 100_000 ? 1000 : 1;
    this.spacingMs = Math.max(1, Math.floor(historyMs / count / this.granularityMs)) * this.granularityMs;
  }

  timeOf(index: number): number {
    const steps = this.spacingMs / this.granularityMs;
    return this.startMs + index * this.spacingMs + Math.floor(rngFor(this.seed, this.name, 'slot', index)() * steps) * this.granularityMs;
  }

  /** How many records exist at `ms` (their time is at or before it). */
  countAt(ms: number): number {
    if (ms < this.startMs) return 0;
    const slot = Math.floor((ms - this.startMs) / this.spacingMs);
    return this.timeOf(slot) <= ms ? slot + 1 : slot;
  }
}

/**
 * Children laid out in parent order: parent p has `sizeOf(p)` children, and the sizes repeat in a
 * seeded cycle so the first child of any parent is found arithmetically.
 */
export class ChildLayout {
  private static readonly CYCLE = 16;
  private readonly sizes: number[];
  /** offsets[j] = children of the first j parents of a cycle. */
  private readonly offsets: number[];

  constructor(seed: number, name: string, [min, max]: readonly [number, number]) {
    const random = rngFor(seed, name, 'layout');
    this.sizes = Array.from({ length: ChildLayout.CYCLE }, () => intBetween(random, min, max));
    this.offsets = [0];
    for (const size of this.sizes) this.offsets.push(this.offsets.at(-1)! + size);
  }

  /** Index of the first child of `parent`, which is also the number of children of the parents before it. */
  startOf(parent: number): number {
    const perCycle = this.offsets[ChildLayout.CYCLE]!;
    return Math.floor(parent / ChildLayout.CYCLE) * perCycle + this.offsets[parent % ChildLayout.CYCLE]!;
  }

  sizeOf(parent: number): number {
    return this.sizes[parent % ChildLayout.CYCLE]!;
  }

  locate(child: number): { parent: number; position: number } {
    const perCycle = this.offsets[ChildLayout.CYCLE]!;
    const cycle = Math.floor(child / perCycle);
    const rest = child - cycle * perCycle;
    let j = 0;
    while (this.offsets[j + 1]! <= rest) j++;
    return { parent: cycle * ChildLayout.CYCLE + j, position: rest - this.offsets[j]! };
  }
}

/**
 * Later updates: record i of a versioned set belongs to class i mod 8; a class with a delay gets one
 * update that long after creation. A fixed delay per class keeps `updated` strictly increasing within
 * a class, which is what lets a filter or sort on `updated` work on index ranges.
 */
export const UPDATE_DELAYS_MS: readonly number[] = [0, 0, 0, 0, 0, 1, 7, 30].map((days) => Duration.fromObject({ days }).toMillis());
