import { DateTime, Duration } from 'luxon';
import { HttpStatusError, type HttpClient, type HttpRequest, type HttpResponse } from '../http/client.js';
import type { RetryPolicy } from '../http/retry.js';
import { paginate, type Page } from '../pagination/index.js';
import type { JsonRecord } from '../protocol/messages.js';
import { SyncError } from '../util/errors.js';
import { valueAt } from '../util/json.js';
import type { Logger } from '../util/log.js';
import type { StreamPlan } from './catalog.js';
import { createConformer } from './conform.js';
import { ParentVersions, PARENT_VERSIONS_KEY } from './parent-versions.js';
import { absoluteRequest, createProviderClient } from './provider-client.js';
import { QuotaExhausted, QuotaLedger } from './quota.js';
import type { ProviderConfig, ProviderDefinition, RequestContext, StreamDefinition, SyncWindow } from './definitions.js';
import type { SyncEvent } from './events.js';
import { advanceBookmark, formatInstant, parseInstant, type Bookmark, type SingerState } from './state.js';

export interface SyncOptions {
  /** The whole tap config; provider blocks are read by key. */
  config: JsonRecord;
  plans: readonly StreamPlan[];
  state: SingerState;
  logger: Logger;
  now?: () => DateTime;
  /** Saves changed provider settings (rotated refresh tokens) back where the config came from. */
  persistConfig(providerKey: string, patch: JsonRecord): Promise<void>;
  /** Throws unless changed settings could be saved; asked before a single-use credential is spent. */
  ensurePersistable?(providerKey: string, keys: readonly string[]): void;
  /** Stop each stream after this many records (Meltano's --test). */
  recordLimit?: number;
  retry?: Partial<RetryPolicy>;
  /** Tag records of full-table streams with a version and emit ACTIVATE_VERSION around them. */
  activateVersion?: boolean;
}

/** Restart the current window from its first page (e.g. Gong's expired cursor). */
class RestartWindow extends Error {}

/** A child request the provider says to leave out ('skip'): its parents get no records. */
class SkipParents extends Error {
  constructor(readonly refusal: HttpStatusError) {
    super(refusal.message);
  }
}

/** A stream the credentials may not read ('skip-stream'): it and the streams that hang off it are left out. */
class StreamRefused extends Error {
  constructor(refusal: HttpStatusError, said: string | undefined) {
    super(said ? `HTTP ${refusal.status} on ${refusal.endpoint}: ${said}` : refusal.message);
  }
}

const MAX_WINDOW_RESTARTS = 3;

/** A request failure the user sees (retries spent, credentials refused), told with the stream it stopped. */
function named(error: unknown, stream: StreamDefinition): unknown {
  if (error instanceof SyncError && !(error instanceof QuotaExhausted)) error.message = `${stream.name}: ${error.message}`;
  return error;
}

/** A stream and the selected streams that hang off it, read together so children follow parents. */
interface Family {
  root: StreamPlan | undefined;
  rootStream: StreamDefinition;
  /** The selected streams below the root, each after its parent. */
  children: StreamPlan[];
  /** Unselected streams between the root and a selected child of theirs: read for that child, never emitted. */
  relays: StreamPlan[];
}

/**
 * A child stream's parents waiting for their batch, kept across pages and windows so every batch is
 * full but the last. Parents are counted in arrival order: `waiting` holds those from `delivered` up
 * to `accepted`, and a window's bookmark is held until the parents accepted before its end are delivered.
 */
interface ChildQueue {
  plan: StreamPlan;
  emitter: RecordEmitter;
  waiting: JsonRecord[];
  accepted: number;
  delivered: number;
  held: Array<{ through: number; bookmark: Bookmark }>;
  versions: ParentVersions | undefined;
  /** Set once the API refused the stream ('skip-stream'): its parents are no longer read, and its bookmark stays. */
  refused?: StreamRefused;
  /** The newest replication-key value among the parents read so far, wanted or not. */
  newestParent?: DateTime;
  /** For a child of references: the ids queued so far in this run. */
  referenced?: Set<string>;
  /** A stream read only for the children below it: its records feed them and are not emitted. */
  relay: boolean;
  /** The records of the stream the references are drawn across (`parent.across`), read when the family starts. */
  across?: JsonRecord[];
  /** The queues of the streams whose parent this stream is. */
  below: ChildQueue[];
}

/**
 * Runs a sync: providers in config order, streams in declaration order, each child stream read in
 * batches as soon as the parents read fill one. Yields neutral events; never writes output.
 * A setting a provider changes mid-run (a rotated refresh token) is persisted, then announced as a
 * `config-changed` event before the next event, so an orchestrator that owns the config (Airbyte)
 * can store it; it is announced even when the sync then fails, since the old token is spent.
 */
export async function* runSync(options: SyncOptions): AsyncGenerator<SyncEvent> {
  const changes: SyncEvent[] = [];
  const persistConfig = async (providerKey: string, patch: JsonRecord): Promise<void> => {
    await options.persistConfig(providerKey, patch);
    changes.push({ type: 'config-changed', config: structuredClone(options.config) });
  };
  try {
    for await (const event of syncEvents({ ...options, persistConfig })) {
      yield* changes.splice(0);
      yield event;
    }
  } catch (error) {
    yield* changes.splice(0);
    throw error;
  }
  yield* changes.splice(0);
}

async function* syncEvents(options: SyncOptions): AsyncGenerator<SyncEvent> {
  const now = options.now ?? (() => DateTime.utc());
  const started = now().toUTC();
  const endDate = parseInstant(options.config.end_date);
  const signpost = endDate && endDate < started ? endDate : started;
  const startDate = parseInstant(options.config.start_date);
  const state: SingerState = { bookmarks: { ...options.state.bookmarks }, ...(options.state.quota ? { quota: { ...options.state.quota } } : {}) };
  // A bookmark in the future (a hand-edited state, a clock that ran fast) would silently read nothing until that day.
  for (const plan of options.plans) {
    const bookmark = state.bookmarks[plan.stream.name];
    const value = parseInstant(bookmark?.replication_key_value);
    if (!plan.incremental || !value || value <= started) continue;
    options.logger.warn(`${plan.stream.name}: the state's bookmark ${bookmark!.replication_key_value} lies in the future; reading from ${formatInstant(signpost)} instead`);
    state.bookmarks[plan.stream.name] = { ...bookmark, replication_key_value: formatInstant(signpost) };
  }
  // Each sync's own table version, newer than every earlier one's, even when end_date fixes the signpost.
  const version = started.toMillis();
  const ledgers = new Map<string, QuotaLedger>();
  /** The state with every quota count as of now, so each STATE carries the requests spent so far. */
  const snapshot = (): SingerState => {
    for (const [key, ledger] of ledgers) (state.quota ??= {})[key] = ledger.usage();
    return structuredClone(state);
  };

  // A used-up quota stops only its provider; the others still sync, then the run fails with the first stop.
  let quotaStop: QuotaExhausted | undefined;
  /** The streams left out because the API refused them ('skip-stream'), for the summary at the end. */
  const refusedStreams: string[] = [];
  const providers = [...new Set(options.plans.map((p) => p.provider))];
  for (const provider of providers) {
    const config = options.config[provider.key] as ProviderConfig;
    const client = createProviderClient(provider, config, options);
    const rule = provider.quota;
    const noted = new Set<string>();
    const ledger =
      rule &&
      new QuotaLedger({ provider: provider.title, period: rule.period, limit: rule.limit(config), setting: `${provider.key}.${rule.setting}`, usage: state.quota?.[provider.key], now, traffic: client.requests, logger: options.logger });
    if (ledger) ledgers.set(provider.key, ledger);
    try {
      for (const family of families(provider, options.plans.filter((p) => p.provider === provider))) {
        yield* syncFamily(family, { provider, config, client, ledger, noted });
      }
    } catch (error) {
      if (!(error instanceof QuotaExhausted)) throw error;
      if (quotaStop) options.logger.warn(error.message);
      quotaStop ??= error;
    } finally {
      await client.close();
    }
  }
  yield { type: 'state', state: snapshot(), streams: [] };
  if (refusedStreams.length) options.logger.warn(`the sync left out ${refusedStreams.length} stream(s) the credentials may not read: ${refusedStreams.join(', ')}`);
  if (quotaStop) throw quotaStop;

  async function* syncFamily(family: Family, ctx: ProviderRun): AsyncGenerator<SyncEvent> {
    const members = [family.root, ...family.children].filter((p): p is StreamPlan => p !== undefined);
    for (const plan of members) {
      yield { type: 'schema', stream: plan.stream.name, schema: plan.schema, keyProperties: [...plan.stream.primaryKey], bookmarkProperties: plan.stream.replicationKey ? [plan.stream.replicationKey] : [] };
    }
    const versioned = options.activateVersion ? members.filter((p) => !p.incremental) : [];
    // Singer's convention: the table version lives in the stream's state, and only a stream's first sync
    // opens with ACTIVATE_VERSION, so a target keeps every committed row of an interrupted later sync.
    for (const plan of versioned) {
      const bookmark = state.bookmarks[plan.stream.name];
      if (bookmark?.version === undefined) yield { type: 'activate-version', stream: plan.stream.name, version };
      state.bookmarks[plan.stream.name] = { ...bookmark, version };
    }
    if (versioned.length) yield { type: 'state', state: snapshot(), streams: versioned.map((p) => p.stream.name) };
    for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'STARTED' };

    const emitters = new Map(members.map((plan) => [plan.stream.name, recordEmitter(plan, options.logger, options.recordLimit ?? Number.POSITIVE_INFINITY, versioned.includes(plan) ? version : undefined)]));
    const incrementalMembers = members.filter((p) => p.incremental);
    const queues = [...family.children, ...family.relays]
      .sort((a, b) => depthOf(ctx.provider, a.stream) - depthOf(ctx.provider, b.stream))
      .map((plan) => childQueue(family, plan, emitters.get(plan.stream.name) ?? recordEmitter(plan, options.logger, Number.POSITIVE_INFINITY, undefined), family.relays.includes(plan)));
    for (const queue of queues) queue.below = queues.filter((other) => other.plan.stream.parent!.stream === queue.plan.stream.name);
    try {
      for (const queue of queues) {
        const across = queue.plan.stream.parent!.across;
        if (across) queue.across = await readAll(ctx.provider.streams.find((s) => s.name === across)!, { config: ctx.config, parents: [], until: signpost, since: startDate }, ctx);
      }
      const slices = windows(family, members);
      const range = slices[0] && { from: slices[0].from, to: slices.at(-1)!.to };
      for (const window of slices) {
        yield* syncWindow(family, window, range, ctx, emitters, queues);
        if (window && incrementalMembers.length) {
          const settled = incrementalMembers.filter((plan) => {
            const queue = queues.find((q) => q.plan === plan);
            // A child follows the newest parent the server showed; its bookmark waits for those parents' children.
            const newest = queue ? queue.newestParent : emitters.get(plan.stream.name)!.newest;
            const value = advanceBookmark(parseInstant(state.bookmarks[plan.stream.name]?.replication_key_value), newest, window, signpost);
            return value !== undefined && settle(family, plan, { replication_key: plan.stream.replicationKey!, replication_key_value: formatInstant(value) }, queue);
          });
          if (settled.length) yield { type: 'state', state: snapshot(), streams: settled.map((p) => p.stream.name) };
        }
      }
      // The last batches, short of a full one; their windows' bookmarks follow them.
      for (const queue of queues) yield* syncChildren(family, queue, [], ctx, true);
    } catch (error) {
      if (error instanceof StreamRefused) {
        options.logger.warn(`${members.map((p) => p.stream.name).join(', ')}: skipped, as ${ctx.provider.title} refused ${family.rootStream.name} (${error.message}); the sync goes on without ${members.length > 1 ? 'them' : 'it'}`);
        for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
        refusedStreams.push(...members.map((plan) => plan.stream.name));
        return;
      }
      // The quota's count reaches Airbyte only inside stream states, so it goes out before the streams are given up.
      if (error instanceof QuotaExhausted && incrementalMembers.length) yield { type: 'state', state: snapshot(), streams: incrementalMembers.map((p) => p.stream.name) };
      for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
      throw error;
    }
    // A table cut short by the record limit is not complete: activating it would delete the rows not read.
    for (const plan of versioned) if (!emitters.get(plan.stream.name)!.full) yield { type: 'activate-version', stream: plan.stream.name, version };
    for (const plan of members) {
      const refused = queues.find((queue) => queue.plan === plan)?.refused;
      if (refused) {
        options.logger.warn(`${plan.stream.name}: skipped, as ${ctx.provider.title} refused it (${refused.message}); the sync goes on without it`);
        yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
        refusedStreams.push(plan.stream.name);
        continue;
      }
      const { skipped } = emitters.get(plan.stream.name)!;
      if (skipped.parents) {
        const note = ctx.provider.errorNotes?.skip;
        options.logger.warn(
          `${plan.stream.name}: skipped ${skipped.parents} of ${skipped.parents + skipped.read} ${plan.stream.parent!.stream} records, whose requests were refused (${skipped.reason})${note ? `; ${note}` : ''}`,
        );
      }
      options.logger.metric({ type: 'counter', metric: 'record_count', value: emitters.get(plan.stream.name)!.count, tags: { endpoint: plan.stream.name } });
      yield { type: 'stream-status', stream: plan.stream.name, status: 'COMPLETE' };
    }
  }

  /** The windows a family walks: from the earliest start any member needs, up to the signpost. */
  function windows(family: Family, members: StreamPlan[]): Array<SyncWindow | undefined> {
    const incremental = family.rootStream.incremental;
    if (!family.rootStream.replicationKey || !incremental) return [undefined];
    let from: DateTime | undefined;
    let unbounded = false;
    for (const plan of members) {
      const bookmark = plan.incremental ? parseInstant(state.bookmarks[plan.stream.name]?.replication_key_value) : undefined;
      const config = options.config[plan.provider.key] as ProviderConfig;
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

  /**
   * A member's bookmark at the end of a window: set now, or, for a child whose parents read in the
   * window still wait for their batch, held until they are emitted. True when set now.
   */
  function settle(family: Family, plan: StreamPlan, bookmark: Bookmark, queue: ChildQueue | undefined): boolean {
    if (queue?.refused) return false;
    if (queue && queue.delivered < queue.accepted) {
      queue.held.push({ through: queue.accepted, bookmark });
      return false;
    }
    setBookmark(family, plan, bookmark, queue);
    return true;
  }

  /** Sets a bookmark, with the parent versions a once-per-version child has read since the next run's start. */
  function setBookmark(family: Family, plan: StreamPlan, bookmark: Bookmark, queue: ChildQueue | undefined): void {
    if (!queue?.versions) {
      state.bookmarks[plan.stream.name] = bookmark;
      return;
    }
    const lookback = family.rootStream.incremental?.lookback?.(options.config[plan.provider.key] as ProviderConfig);
    const value = parseInstant(bookmark.replication_key_value);
    const horizon = value && lookback ? value.minus(Duration.fromISO(lookback)) : value;
    state.bookmarks[plan.stream.name] = { ...bookmark, [PARENT_VERSIONS_KEY]: queue.versions.since(horizon) };
  }

  function childQueue(family: Family, plan: StreamPlan, emitter: RecordEmitter, relay: boolean): ChildQueue {
    const once = plan.stream.parent!.oncePerVersion && plan.incremental && family.rootStream.replicationKey;
    const versions = once ? new ParentVersions(family.rootStream.primaryKey, family.rootStream.replicationKey!, state.bookmarks[plan.stream.name]) : undefined;
    return { plan, emitter, waiting: [], accepted: 0, delivered: 0, held: [], versions, relay, below: [], ...(plan.stream.parent!.references ? { referenced: new Set<string>() } : {}) };
  }

  async function* syncWindow(
    family: Family,
    window: SyncWindow | undefined,
    range: SyncWindow | undefined,
    run: ProviderRun,
    emitters: Map<string, RecordEmitter>,
    queues: readonly ChildQueue[],
  ): AsyncGenerator<SyncEvent> {
    // The root feeds its own children; each of those feeds the streams below it.
    const fed = queues.filter((queue) => queue.plan.stream.parent!.stream === family.rootStream.name);
    const acceptedBefore = fed.map((queue) => queue.accepted);
    for (let attempt = 1; ; attempt++) {
      try {
        const root = family.root ? emitters.get(family.root.stream.name) : undefined;
        const context: RequestContext<ProviderConfig> = { config: run.config, window, range, parents: [], until: signpost, since: startDate };
        for await (const page of readPages(family.rootStream, context, run)) {
          const records = transformed(family.rootStream, page, context);
          if (root) yield* root.emit(records, family.rootStream);
          if (root && !root.full && family.root!.incremental && family.rootStream.incremental?.sorted) yield* checkpoint(family.root!, records);
          for (const queue of fed) yield* syncChildren(family, queue, records, run, false);
          if ((!root || root.full) && queues.every((q) => q.relay || q.emitter.full)) break;
        }
        return;
      } catch (error) {
        if (!(error instanceof RestartWindow) || attempt >= MAX_WINDOW_RESTARTS) throw error;
        options.logger.warn(`${family.rootStream.name}: ${error.message}; reading the window again from its first page`);
        // The window's parents still waiting are read again with it; those of earlier windows stay.
        // Below them nothing is read again: their parents' batches already delivered are not re-read.
        fed.forEach((queue, i) => {
          const from = Math.max(acceptedBefore[i]!, queue.delivered);
          for (const reference of queue.waiting.slice(from - queue.delivered)) queue.referenced?.delete(String(reference.id));
          queue.waiting.length = from - queue.delivered;
          queue.accepted = from;
        });
      }
    }
  }

  /** A sorted stream is bookmarked after every page at its last record, never past the signpost (DESIGN.md §4). */
  function* checkpoint(plan: StreamPlan, records: readonly JsonRecord[]): Generator<SyncEvent> {
    const key = plan.stream.replicationKey!;
    const last = parseInstant(records.at(-1)?.[key]);
    const current = parseInstant(state.bookmarks[plan.stream.name]?.replication_key_value);
    if (!last || (current && last <= current)) return;
    state.bookmarks[plan.stream.name] = { replication_key: key, replication_key_value: formatInstant(DateTime.min(last, signpost)) };
    yield { type: 'state', state: snapshot(), streams: [plan.stream.name] };
  }

  /**
   * Queues the parents a child wants and sends every full batch; `flush` sends the rest. Up to
   * `concurrency` batches are in flight, a new one starting as soon as the oldest is emitted, so one
   * slow request does not hold the others back; records come out in parent order. After each batch,
   * the bookmarks held for the windows it completes follow.
   */
  async function* syncChildren(family: Family, queue: ChildQueue, parents: readonly JsonRecord[], run: ProviderRun, flush: boolean): AsyncGenerator<SyncEvent> {
    const { plan, emitter, waiting } = queue;
    if (queue.refused) return;
    const spec = plan.stream.parent!;
    const parentKey = family.rootStream.replicationKey;
    for (const parent of parents) {
      const value = parentKey === undefined ? undefined : parseInstant(parent[parentKey]);
      if (value && (!queue.newestParent || value > queue.newestParent)) queue.newestParent = value;
      if ((spec.accept && !spec.accept(parent, run.config)) || queue.versions?.has(parent)) continue;
      for (const item of spec.references ? unseenReferences(queue.referenced!, spec.references(parent, queue.across ?? [])) : [parent]) {
        waiting.push(item);
        queue.accepted++;
      }
    }
    const inFlight: Array<{ parents: JsonRecord[]; reading: Promise<JsonRecord[]> }> = [];
    try {
      for (;;) {
        while (!emitter.full && inFlight.length < (spec.concurrency ?? 1) && (waiting.length >= spec.batchSize || (flush && waiting.length > 0))) {
          const batch = waiting.splice(0, spec.batchSize);
          const reading = readAll(plan.stream, { config: run.config, parents: batch, until: signpost, since: startDate }, run).then(
            (records) => ((emitter.skipped.read += batch.length), records),
            (error: unknown) => {
              if (error instanceof StreamRefused) {
                refuse(queue, error);
                return [];
              }
              if (!(error instanceof SkipParents)) throw error;
              emitter.skipped.parents += batch.length;
              emitter.skipped.reason ??= `HTTP ${error.refusal.status} on ${error.refusal.endpoint}`;
              return [];
            },
          );
          // Its failure is rethrown when its turn to be emitted comes, or dropped once another failed first.
          reading.catch(() => undefined);
          inFlight.push({ parents: batch, reading });
        }
        const oldest = inFlight[0];
        if (!oldest) break;
        const records = await oldest.reading;
        if (queue.refused) {
          waiting.length = 0;
          inFlight.length = 0;
          queue.held.length = 0;
          return;
        }
        if (!queue.relay) yield* emitter.emit(records, plan.stream);
        for (const below of queue.below) yield* syncChildren(family, below, records, run, false);
        inFlight.shift();
        queue.delivered += oldest.parents.length;
        queue.versions?.record(oldest.parents);
        yield* releaseHeld(family, queue);
      }
    } finally {
      // Batches not emitted go back to the front: a window read again, or the run's end, covers them.
      waiting.unshift(...inFlight.flatMap((batch) => batch.parents));
      await Promise.allSettled(inFlight.map((batch) => batch.reading));
    }
    if (emitter.full) {
      waiting.length = 0;
      queue.delivered = queue.accepted;
      yield* releaseHeld(family, queue);
    }
  }

  /** The latest bookmark held for a child whose parents up to it are now delivered, and its STATE. */
  function* releaseHeld(family: Family, queue: ChildQueue): Generator<SyncEvent> {
    let due: Bookmark | undefined;
    while (queue.held[0] && queue.held[0].through <= queue.delivered) due = queue.held.shift()!.bookmark;
    if (!due) return;
    setBookmark(family, queue.plan, due, queue);
    yield { type: 'state', state: snapshot(), streams: [queue.plan.stream.name] };
  }

  async function readAll(stream: StreamDefinition, context: RequestContext<ProviderConfig>, run: ProviderRun): Promise<JsonRecord[]> {
    const out: JsonRecord[] = [];
    for await (const page of readPages(stream, context, run)) out.push(...transformed(stream, page, context));
    return out;
  }

  async function* readPages(stream: StreamDefinition, context: RequestContext<ProviderConfig>, run: ProviderRun): AsyncGenerator<Page> {
    const send = async (request: HttpRequest, peek?: (text: string) => void): Promise<HttpResponse> => {
      run.ledger?.spend();
      try {
        return await run.client.send(run.provider.beforeSend?.(request, { traffic: run.client.requests, logger: options.logger }) ?? request, peek);
      } catch (error) {
        if (!(error instanceof HttpStatusError)) throw named(error, stream);
        // The client retries every 429 it can wait out; one it hands back is the quota (a long Retry-After, or the provider's quota answer).
        if (error.status === 429 && run.ledger) throw run.ledger.refused(error.message, error.retryAfterMs);
        const meaning = run.provider.interpretError?.(error, stream);
        const note = meaning && meaning !== 'skip' ? run.provider.errorNotes?.[meaning] : undefined;
        if (note && !run.noted.has(meaning!)) {
          run.noted.add(meaning!);
          options.logger.warn(`${run.provider.title}: ${note}`);
        }
        if (meaning === 'skip' && context.parents.length) throw new SkipParents(error);
        if (meaning === 'skip-stream') throw new StreamRefused(error, run.provider.describeRefusal?.(error));
        if (meaning === 'empty') {
          options.logger.debug(`${stream.name}: HTTP ${error.status} on ${error.endpoint}, read as no records`);
          return { status: error.status, headers: {}, body: null };
        }
        if (meaning === 'restart-window') throw new RestartWindow(error.message);
        throw named(error, stream);
      }
    };
    const recordsAt = (body: unknown): unknown[] => {
      for (const path of stream.recordsAt) {
        const found = valueAt(body, path);
        if (Array.isArray(found)) return found;
        if (found !== null && typeof found === 'object') return [found];
      }
      return [];
    };
    const paginator = stream.paginator ?? run.provider.paginator;
    async function* read(request: HttpRequest): AsyncGenerator<Page> {
      let first = true;
      for await (const page of paginate(send, request, paginator, recordsAt)) {
        const narrower = first ? stream.split?.(page.request, page.response.body) : undefined;
        first = false;
        if (narrower) {
          for (const part of narrower) yield* read(part);
          return;
        }
        yield page;
      }
    }
    for (const spec of [stream.request(context)].flat()) yield* read(absoluteRequest(run.provider, run.config, spec));
  }
}

/** A refused stream, and with it every stream below it, is read no further. */
function refuse(queue: ChildQueue, refusal: StreamRefused): void {
  queue.refused ??= refusal;
  for (const below of queue.below) refuse(below, refusal);
}

/** The references whose id was not queued before in this run, remembered from now on. */
function unseenReferences(referenced: Set<string>, references: readonly JsonRecord[]): JsonRecord[] {
  return references.filter((reference) => {
    const id = String(reference.id);
    if (referenced.has(id)) return false;
    referenced.add(id);
    return true;
  });
}

/** A page's records as the stream's transform reshapes them. */
function transformed(stream: StreamDefinition, page: Page, context: RequestContext<ProviderConfig>): JsonRecord[] {
  if (!stream.transform) return page.records as JsonRecord[];
  return page.records.flatMap((raw) => stream.transform!(raw as JsonRecord, context, page.request) ?? []);
}

interface ProviderRun {
  provider: ProviderDefinition;
  config: ProviderConfig;
  client: HttpClient;
  ledger?: QuotaLedger;
  /** The error meanings whose note was told this run. */
  noted: Set<string>;
}

interface RecordEmitter {
  count: number;
  /** Child streams: parents read, and parents left out because their request was to be skipped (and why). */
  skipped: { read: number; parents: number; reason?: string };
  readonly full: boolean;
  /** The newest replication-key value emitted so far (incremental streams): what the server has shown. */
  newest?: DateTime;
  emit(records: readonly JsonRecord[], stream: StreamDefinition): Generator<SyncEvent>;
}

/** Fits, de-duplicates and counts one stream's records, and honours the --test record limit. */
function recordEmitter(plan: StreamPlan, logger: Logger, limit: number, version: number | undefined): RecordEmitter {
  const conform = createConformer(plan.schema, plan.knownFields, (field) =>
    logger.warn(`${plan.stream.name}: the API sent field "${field}", which the schema lacks; it is left out (run --discover after upgrading)`),
  );
  const seen = plan.stream.distinct ? new Set<string>() : undefined;
  const replicationKey = plan.incremental ? plan.stream.replicationKey : undefined;
  let announced = false;
  const emitter: RecordEmitter = {
    count: 0,
    skipped: { read: 0, parents: 0 },
    get full() {
      return emitter.count >= limit;
    },
    *emit(records) {
      if (records.length && !announced) {
        announced = true;
        yield { type: 'stream-status', stream: plan.stream.name, status: 'RUNNING' };
      }
      const timeExtracted = formatInstant(DateTime.utc());
      for (const record of records) {
        if (emitter.full) return;
        if (seen) {
          const key = JSON.stringify(plan.stream.primaryKey.map((k) => record[k]));
          if (seen.has(key)) continue;
          seen.add(key);
        }
        emitter.count++;
        const value = replicationKey === undefined ? undefined : parseInstant(record[replicationKey]);
        if (value && (!emitter.newest || value > emitter.newest)) emitter.newest = value;
        yield { type: 'record', stream: plan.stream.name, record: conform(record), timeExtracted, ...(version === undefined ? {} : { version }) };
      }
    },
  };
  return emitter;
}

/** Groups plans into families: each root stream with the selected children hanging off it. */
function families(provider: ProviderDefinition, plans: StreamPlan[]): Family[] {
  const byName = new Map(plans.map((p) => [p.stream.name, p]));
  const out: Family[] = [];
  for (const stream of provider.streams) {
    if (stream.parent) continue;
    const children = plans.filter((p) => p.stream.parent && lineOf(provider, p.stream).at(-1) === stream);
    // Bookmarks follow the root's windows through one level of children only.
    const deepIncremental = children.find((p) => p.incremental && depthOf(provider, p.stream) > 1);
    if (deepIncremental) throw new Error(`${deepIncremental.stream.name}: a stream below a child stream is read full table; it cannot be incremental`);
    // Between a child and the root: the streams that are not selected themselves, read for it.
    const between = new Set(children.flatMap((child) => lineOf(provider, child.stream).slice(1, -1)).filter((s) => !byName.has(s.name)));
    const relays = [...between].map((relay) => ({ provider, stream: relay, schema: {}, knownFields: new Set<string>(), incremental: false }));
    const root = byName.get(stream.name);
    if (root || children.length) out.push({ root, rootStream: stream, children, relays });
  }
  return out;
}

/** A stream and its ancestors, up to the root stream. */
function lineOf(provider: ProviderDefinition, stream: StreamDefinition): StreamDefinition[] {
  const parent = stream.parent && provider.streams.find((s) => s.name === stream.parent!.stream);
  return parent ? [stream, ...lineOf(provider, parent)] : [stream];
}

const depthOf = (provider: ProviderDefinition, stream: StreamDefinition) => lineOf(provider, stream).length - 1;
