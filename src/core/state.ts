import { DateTime } from 'luxon';
import { InputError } from '../util/errors.js';
import type { SyncWindow } from './definitions.js';
import type { QuotaUsage } from './quota.js';

/** An incremental stream's position, or (with ACTIVATE_VERSION) a full-table stream's table version. */
export interface Bookmark {
  replication_key?: string;
  replication_key_value?: string;
  /** The table version of a full-table stream's latest sync: a stream without one has never been synced. */
  version?: number;
  [extra: string]: unknown;
}

export interface SingerState {
  bookmarks: Record<string, Bookmark>;
  /** Requests counted against each provider's quota, by provider key; absent in states of older releases. */
  quota?: Record<string, QuotaUsage>;
}

/** Parses an ISO-8601 instant with any offset; invalid → undefined. */
export function parseInstant(value: unknown): DateTime | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = DateTime.fromISO(value, { setZone: true });
  return parsed.isValid ? parsed.toUTC() : undefined;
}

export function formatInstant(value: DateTime): string {
  return value.toUTC().toISO({ suppressMilliseconds: true })!;
}

/**
 * Where an incremental stream's bookmark stands after a window: at the newest replication-key value
 * the server returned, so records the server stamps before its own "now" but shows only later (commit
 * or indexing lag, a clock behind ours) are still ahead of it; never past the signpost (the tap's clock
 * when the sync began), never back. A window that returned nothing moves it only to the window's start:
 * everything visible before that was read, and nothing is known of the server's clock within the window.
 */
export function advanceBookmark(previous: DateTime | undefined, newest: DateTime | undefined, window: SyncWindow, signpost: DateTime): DateTime | undefined {
  const candidates = [previous, newest && DateTime.min(newest, signpost), window.from && DateTime.min(window.from, signpost)].filter((t): t is DateTime => t !== undefined);
  return candidates.length ? DateTime.max(...candidates) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads a state in any shape tap-convo has written or an orchestrator hands back: a Singer state,
 * a whole STATE message, Meltano's `{singer_state: …}` (what `meltano state get` prints), Airbyte
 * per-stream states (a list, or one on its own), or Airbyte's legacy `{data: …}` blob. Airbyte's
 * GLOBAL state (one shared state for all streams, for CDC sources) is refused by name: tap-convo
 * never writes it, and its shared_state has no bookmarks to read.
 * Each bookmark must carry a date-time value, so a broken one fails now rather than mid-sync.
 * Airbyte per-stream states carry the quota counts in their `quota` key (see AirbyteEncoder).
 */
export function parseState(document: unknown, source: string): SingerState {
  const bad = (what: string) => new InputError(`state ${source}: ${what}; pass the last STATE value a sync emitted, or no --state for a full sync`);
  let value: unknown = document;
  // One Airbyte state message on its own is read like a list of one.
  if (isObject(value) && (value.type === 'STREAM' || value.type === 'GLOBAL')) value = [value];
  if (Array.isArray(value)) {
    const bookmarks: Record<string, unknown> = {};
    const quotas: unknown[] = [];
    for (const message of value) {
      if (isObject(message) && typeof message.type === 'string' && message.type !== 'STREAM') {
        throw bad(`an Airbyte ${message.type} state cannot be read; tap-convo reads Airbyte per-stream states (type STREAM), a Singer state {"bookmarks": …} or Airbyte's legacy {"data": …}`);
      }
      const stream = isObject(message) && isObject(message.stream) ? message.stream : undefined;
      const name = stream && isObject(stream.stream_descriptor) ? stream.stream_descriptor.name : undefined;
      if (typeof name !== 'string') throw bad('an Airbyte state entry lacks stream.stream_descriptor.name');
      if (!isObject(stream!.stream_state)) continue;
      const { quota, ...bookmark } = stream!.stream_state;
      bookmarks[name] = bookmark;
      if (quota !== undefined) quotas.push(quota);
    }
    value = { bookmarks, ...(quotas.length ? { quota: latestQuotas(quotas.map((quota) => parseQuota(quota, bad))) } : {}) };
  }
  if (isObject(value) && value.type === 'STATE' && 'value' in value) value = value.value;
  if (isObject(value) && isObject(value.singer_state) && !('bookmarks' in value)) value = value.singer_state;
  if (isObject(value) && isObject(value.data) && !('bookmarks' in value)) value = value.data;
  if (!isObject(value)) throw bad('must be a JSON object');
  if (Object.keys(value).length === 0) return { bookmarks: {} };
  if (!isObject(value.bookmarks)) throw bad('has no "bookmarks" object');
  const bookmarks: Record<string, Bookmark> = {};
  for (const [stream, bookmark] of Object.entries(value.bookmarks)) {
    if (!isObject(bookmark)) throw bad(`bookmark of ${stream} must be an object`);
    if (bookmark.replication_key_value === undefined) {
      if (bookmark.version === undefined) continue;
      if (!Number.isSafeInteger(bookmark.version)) throw bad(`bookmark of ${stream} has version ${JSON.stringify(bookmark.version)}, not an integer`);
      bookmarks[stream] = bookmark as Bookmark;
      continue;
    }
    if (!parseInstant(bookmark.replication_key_value)) {
      throw bad(`bookmark of ${stream} has replication_key_value ${JSON.stringify(bookmark.replication_key_value)}, not a date-time`);
    }
    bookmarks[stream] = bookmark as Bookmark;
  }
  return { bookmarks, ...(value.quota === undefined ? {} : { quota: parseQuota(value.quota, bad) }) };
}

function parseQuota(value: unknown, bad: (what: string) => InputError): Record<string, QuotaUsage> {
  if (!isObject(value)) throw bad('"quota" must be an object of {window_start, requests} by provider');
  for (const [provider, usage] of Object.entries(value)) {
    if (!isObject(usage) || !parseInstant(usage.window_start) || !Number.isInteger(usage.requests) || (usage.requests as number) < 0) {
      throw bad(`quota of ${provider} must be {"window_start": <date-time>, "requests": <count>}`);
    }
  }
  return value as Record<string, QuotaUsage>;
}

/**
 * Of several counts of each provider's quota (each Airbyte stream's, as of its last state; a tap's and a
 * target's), the one that holds: the latest window, most requests, wins.
 */
export function latestQuotas(quotas: ReadonlyArray<Record<string, QuotaUsage>>): Record<string, QuotaUsage> {
  const latest: Record<string, QuotaUsage> = {};
  for (const quota of quotas) {
    for (const [provider, usage] of Object.entries(quota)) {
      const known = latest[provider];
      const order = known ? parseInstant(usage.window_start)!.toMillis() - parseInstant(known.window_start)!.toMillis() : 1;
      if (order > 0 || (order === 0 && usage.requests > known!.requests)) latest[provider] = usage;
    }
  }
  return latest;
}
