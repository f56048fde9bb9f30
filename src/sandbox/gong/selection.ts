import type { RecordSource } from '../kit/paging.js';
import type { GongData, GongRecord } from './data.js';

/** The calls filter of Gong's call endpoints, with times as epoch milliseconds. */
export interface CallFilter {
  /** Inclusive, on the call's start (Gong API v2, GET /v2/calls and POST /v2/calls/extensive). */
  fromMs?: number;
  /** Exclusive, on the call's start. */
  toMs?: number;
  workspaceId?: string;
  primaryUserIds?: ReadonlySet<string>;
  /** Call slots named by `callIds`, ascending and distinct. */
  callIndices?: readonly number[];
}

/**
 * The calls a filter matches among those served at `atMs`, in start order, found by index arithmetic:
 * a time window is an index range, so a page deep into millions of calls costs a binary search.
 * Only the workspace and primary-user filters make the count walk the range.
 */
export class CallSelection {
  private readonly first: number;
  private readonly end: number;
  private readonly surelyServedBelow: number;

  constructor(
    private readonly data: GongData,
    private readonly filter: CallFilter,
    private readonly atMs: number,
  ) {
    const { timeline } = data;
    this.first = filter.fromMs === undefined ? 0 : timeline.firstStartingAtOrAfter(filter.fromMs);
    const started = timeline.startedBy(atMs);
    this.end = filter.toMs === undefined ? started : Math.min(started, timeline.firstStartingAtOrAfter(filter.toMs));
    this.surelyServedBelow = timeline.surelyServedBelow(atMs);
  }

  count(): number {
    const { callIndices, workspaceId, primaryUserIds } = this.filter;
    if (callIndices) return callIndices.filter((index) => this.matches(index)).length;
    if (workspaceId === undefined && primaryUserIds === undefined) return this.data.timeline.countServed(this.first, this.end, this.atMs);
    let count = 0;
    for (let index = this.first; index < this.end; index++) if (this.matches(index)) count++;
    return count;
  }

  /** Matching call slots at or after `from`, ascending. */
  *indices(from = 0): Generator<number> {
    if (this.filter.callIndices) {
      for (const index of this.filter.callIndices) if (index >= from && this.matches(index)) yield index;
      return;
    }
    for (let index = Math.max(from, this.first); index < this.end; index++) if (this.matches(index)) yield index;
  }

  private matches(index: number): boolean {
    if (index < this.first || index >= this.end) return false;
    if (index >= this.surelyServedBelow && !this.data.timeline.isServed(index, this.atMs)) return false;
    const { workspaceId, primaryUserIds } = this.filter;
    if (workspaceId === undefined && primaryUserIds === undefined) return true;
    const owner = this.data.callOwnership(index);
    if (workspaceId !== undefined && owner.workspaceId !== workspaceId) return false;
    return primaryUserIds === undefined || primaryUserIds.has(this.data.userId(owner.primaryUserIndex));
  }
}

/**
 * The calls of a selection as a list to page through, addressed by call slot: a page resumes at the slot
 * after the last one it served, so the next page costs a seek, not a count of the calls before it.
 */
export function callSource(selection: CallSelection, record: (index: number) => GongRecord): RecordSource<GongRecord> {
  return {
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
}
