import { chainedSource, type RecordSource } from '../kit/paging.js';
import type { GongData, GongRecord } from './data.js';
import type { GongWriteStore, WrittenCall } from './writes.js';

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
  /** `callIds` as given: the written calls they name are found by id. */
  callIds?: ReadonlySet<string>;
}

/** Calls a selection lists, each by an address that grows in the order they are listed (a call slot, a written call's number). */
export interface AddressedCalls {
  count(): number;
  /** Matching addresses at or after `from`, ascending. */
  indices(from?: number): Iterable<number>;
}

/**
 * The calls a filter matches among those served at `atMs`, in start order, found by index arithmetic:
 * a time window is an index range, so a page deep into millions of calls costs a binary search.
 * Only the workspace and primary-user filters make the count walk the range.
 */
export class CallSelection implements AddressedCalls {
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
export function callSource(selection: AddressedCalls, record: (index: number) => GongRecord): RecordSource<GongRecord> {
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

/** Call slots stay far below this (2^52, with 2^53 the cursors' bound); written calls are addressed from it on. */
const WRITTEN_CALLS_FROM = 2 ** 52;

/**
 * What a call endpoint serves for a filter at `atMs`: the generated calls by slot, then the calls
 * written through POST /v2/calls in order of creation. A page position below WRITTEN_CALLS_FROM is a
 * call slot, one from it on WRITTEN_CALLS_FROM plus a written call's number, so a cursor names either
 * kind, a page may end in either, and `records.totalRecords` is the sum of both counts. Gong documents
 * no order for its call lists; written calls come last so the generated ones keep their index
 * arithmetic, and a call written while a client pages through a window lands after what it has read.
 */
export class ServedCalls {
  private readonly generated: CallSelection;
  private readonly written: AddressedCalls;

  constructor(
    data: GongData,
    private readonly writes: GongWriteStore,
    filter: CallFilter,
    atMs: number,
  ) {
    this.generated = new CallSelection(data, filter, atMs);
    this.written = writes.selection(filter, atMs);
  }

  count(): number {
    return this.generated.count() + this.written.count();
  }

  /** The calls to page through, each as `generated` (by slot) or `written` makes its record. */
  source(generated: (index: number) => GongRecord, written: (call: WrittenCall) => GongRecord): RecordSource<GongRecord> {
    const writtenSource = callSource(this.written, (number) => written(this.writes.at(number)));
    return chainedSource(callSource(this.generated, generated), writtenSource, WRITTEN_CALLS_FROM);
  }

  /** The same records, one by one (the dataset's ground truth). */
  *records(generated: (index: number) => GongRecord, written: (call: WrittenCall) => GongRecord): Generator<GongRecord> {
    for (const index of this.generated.indices()) yield generated(index);
    for (const number of this.written.indices()) yield written(this.writes.at(number));
  }
}
