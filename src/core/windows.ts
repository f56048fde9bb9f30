import { DateTime, Duration } from 'luxon';
import type { StreamPlan } from './catalog.js';
import type { ProviderConfig, StreamDefinition, SyncWindow } from './definitions.js';
import { parseInstant, type Bookmark } from './state.js';

/** The instant a run reads up to: its start, or end_date when that comes first (README.md, "How incremental works": the signpost). */
export function signpostOf(started: DateTime, endDate: DateTime | undefined): DateTime {
  return endDate && endDate < started ? endDate : started;
}

export interface WindowInputs {
  /** The family's root stream, whose replication key and `incremental` settings the windows follow. */
  rootStream: StreamDefinition;
  /** The family's selected streams: each incremental one needs the windows from its own bookmark on. */
  members: readonly StreamPlan[];
  bookmarks: Readonly<Record<string, Bookmark>>;
  /** The provider's config block, which the root's lookback reads. */
  config: ProviderConfig;
  startDate: DateTime | undefined;
  signpost: DateTime;
}

/**
 * The windows a family walks: from the earliest start any member needs (its bookmark less the
 * lookback, never before start_date), up to the signpost, in slices of the root's windowSize. A member
 * with neither bookmark nor start_date reads all history in one window; a root read full table has
 * one window, undefined.
 */
export function planWindows({ rootStream, members, bookmarks, config, startDate, signpost }: WindowInputs): Array<SyncWindow | undefined> {
  const incremental = rootStream.incremental;
  if (!rootStream.replicationKey || !incremental) return [undefined];
  let from: DateTime | undefined;
  let unbounded = false;
  for (const plan of members) {
    const bookmark = plan.incremental ? parseInstant(bookmarks[plan.stream.name]?.replication_key_value) : undefined;
    const lookback = bookmark && incremental.lookback ? Duration.fromISO(incremental.lookback(config)) : undefined;
    let start = bookmark && lookback ? bookmark.minus(lookback) : bookmark;
    if (startDate && (!start || start < startDate)) start = startDate;
    if (!start) unbounded = true;
    else if (!from || start < from) from = start;
  }
  if (unbounded || !from) return [{ to: signpost }];
  if (from >= signpost) return [];
  const size = incremental.windowSize ? Duration.fromISO(incremental.windowSize) : undefined;
  const slices: SyncWindow[] = [];
  for (let start = from; start < signpost; ) {
    const end = size ? DateTime.min(start.plus(size), signpost) : signpost;
    slices.push({ from: start, to: end });
    start = end;
  }
  return slices;
}
