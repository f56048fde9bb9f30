import { DateTime, Duration } from 'luxon';
import type { JsonRecord } from '../protocol/messages.js';
import type { Logger } from '../util/log.js';
import type { StreamPlan } from './catalog.js';
import type { ChildQueue } from './children.js';
import type { ProviderConfig, SyncWindow } from './definitions.js';
import type { SyncEvent } from './events.js';
import type { Family } from './families.js';
import { PARENT_VERSIONS_KEY } from './parent-versions.js';
import type { QuotaLedger, QuotaUsage } from './quota.js';
import type { RecordEmitter } from './records.js';
import { advanceBookmark, formatInstant, parseInstant, type Bookmark, type SingerState } from './state.js';

/**
 * A run's own copy of the state it started from. A bookmark in the future (a hand-edited state, a
 * clock that ran fast) would silently read nothing until that day, so it is moved back to the signpost.
 */
export function startingState(initial: SingerState, plans: readonly StreamPlan[], started: DateTime, signpost: DateTime, logger: Logger): SingerState {
  const state: SingerState = { bookmarks: { ...initial.bookmarks }, ...(initial.quota ? { quota: { ...initial.quota } } : {}) };
  for (const plan of plans) {
    const bookmark = state.bookmarks[plan.stream.name];
    const value = parseInstant(bookmark?.replication_key_value);
    if (!plan.incremental || !value || value <= started) continue;
    logger.warn(`${plan.stream.name}: the state's bookmark ${bookmark!.replication_key_value} lies in the future; reading from ${formatInstant(signpost)} instead`);
    state.bookmarks[plan.stream.name] = { ...bookmark, replication_key_value: formatInstant(signpost) };
  }
  return state;
}

/**
 * The run's state as it advances: bookmarks move when a window, a sorted page or a child's batches
 * are done (README.md, "How incremental works"), and every snapshot carries each provider's quota
 * count as of now, so each STATE holds the requests spent so far.
 */
export class Checkpoints {
  private readonly ledgers = new Map<string, QuotaLedger>();

  constructor(
    private readonly state: SingerState,
    /** The whole tap config: each stream's lookback reads its provider's block. */
    private readonly config: Readonly<Record<string, unknown>>,
    private readonly signpost: DateTime,
  ) {}

  get bookmarks(): Readonly<Record<string, Bookmark>> {
    return this.state.bookmarks;
  }

  /** The quota count a provider's ledger starts from. */
  quotaUsage(providerKey: string): QuotaUsage | undefined {
    return this.state.quota?.[providerKey];
  }

  /** Counts the ledger's requests into every snapshot from now on. */
  trackQuota(providerKey: string, ledger: QuotaLedger): void {
    this.ledgers.set(providerKey, ledger);
  }

  snapshot(): SingerState {
    for (const [key, ledger] of this.ledgers) (this.state.quota ??= {})[key] = ledger.usage();
    return structuredClone(this.state);
  }

  /** Keeps a full-table stream's table version in its bookmark; true when it had none: the stream's first sync. */
  keepVersion(stream: string, version: number): boolean {
    const bookmark = this.state.bookmarks[stream];
    this.state.bookmarks[stream] = { ...bookmark, version };
    return bookmark?.version === undefined;
  }

  /** A sorted stream is bookmarked after every page at its last record, never past the signpost (README.md, "How incremental works"). */
  *checkpoint(plan: StreamPlan, records: readonly JsonRecord[]): Generator<SyncEvent> {
    const key = plan.stream.replicationKey!;
    const last = parseInstant(records.at(-1)?.[key]);
    const current = parseInstant(this.state.bookmarks[plan.stream.name]?.replication_key_value);
    if (!last || (current && last <= current)) return;
    this.state.bookmarks[plan.stream.name] = { replication_key: key, replication_key_value: formatInstant(DateTime.min(last, this.signpost)) };
    yield { type: 'state', state: this.snapshot(), streams: [plan.stream.name] };
  }

  /**
   * The incremental members' bookmarks at the end of a window, each where `advanceBookmark` puts it,
   * and the STATE of those set now. A child follows the newest parent the server showed; its bookmark
   * waits for those parents' children.
   */
  *endWindow(family: Family, window: SyncWindow, members: readonly StreamPlan[], queues: readonly ChildQueue[], emitters: ReadonlyMap<string, RecordEmitter>): Generator<SyncEvent> {
    const settled = members.filter((plan) => {
      const queue = queues.find((q) => q.plan === plan);
      const newest = queue ? queue.newestParent : emitters.get(plan.stream.name)!.newest;
      const value = advanceBookmark(parseInstant(this.state.bookmarks[plan.stream.name]?.replication_key_value), newest, window, this.signpost);
      return value !== undefined && this.settle(family, plan, { replication_key: plan.stream.replicationKey!, replication_key_value: formatInstant(value) }, queue);
    });
    if (settled.length) yield { type: 'state', state: this.snapshot(), streams: settled.map((p) => p.stream.name) };
  }

  /** Sets a bookmark, with the parent versions a once-per-version child has read since the next run's start. */
  setBookmark(family: Family, plan: StreamPlan, bookmark: Bookmark, queue: ChildQueue | undefined): void {
    if (!queue?.versions) {
      this.state.bookmarks[plan.stream.name] = bookmark;
      return;
    }
    const lookback = family.rootStream.incremental?.lookback?.(this.config[plan.provider.key] as ProviderConfig);
    const value = parseInstant(bookmark.replication_key_value);
    const horizon = value && lookback ? value.minus(Duration.fromISO(lookback)) : value;
    this.state.bookmarks[plan.stream.name] = { ...bookmark, [PARENT_VERSIONS_KEY]: queue.versions.since(horizon) };
  }

  /**
   * A member's bookmark at the end of a window: set now, or, for a child whose parents read in the
   * window still wait for their batch, held until they are emitted. True when set now.
   */
  private settle(family: Family, plan: StreamPlan, bookmark: Bookmark, queue: ChildQueue | undefined): boolean {
    if (queue?.refused) return false;
    if (queue && queue.delivered < queue.accepted) {
      queue.held.push({ through: queue.accepted, bookmark });
      return false;
    }
    this.setBookmark(family, plan, bookmark, queue);
    return true;
  }
}
