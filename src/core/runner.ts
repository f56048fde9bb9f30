import { DateTime } from 'luxon';
import type { RetryPolicy } from '../http/retry.js';
import type { JsonRecord } from '../protocol/messages.js';
import type { Logger } from '../util/log.js';
import type { StreamPlan } from './catalog.js';
import { Checkpoints, startingState } from './checkpoints.js';
import { childQueues, readAcross, rewind, syncChildren, type ChildQueue, type ChildRun } from './children.js';
import type { ProviderConfig, SyncWindow } from './definitions.js';
import type { SyncEvent } from './events.js';
import { families, type Family } from './families.js';
import { createProviderClient } from './provider-client.js';
import { QuotaExhausted, QuotaLedger } from './quota.js';
import { readPages, requestContext, RestartWindow, StreamRefused, transformed, type ProviderRun } from './reading.js';
import { recordEmitter, type RecordEmitter } from './records.js';
import { parseInstant, type SingerState } from './state.js';
import { planWindows, signpostOf } from './windows.js';

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

const MAX_WINDOW_RESTARTS = 3;

/** What every family of a run shares. */
interface SyncRun {
  options: SyncOptions;
  checkpoints: Checkpoints;
  /** This sync's own table version, newer than every earlier one's, even when end_date fixes the signpost. */
  version: number;
  /** The streams left out because the API refused them ('skip-stream'), for the summary at the end. */
  refusedStreams: string[];
}

/** One family as it is read: its provider's run, the bookmarks, and each member's records. */
interface FamilyRun extends ChildRun {
  emitters: ReadonlyMap<string, RecordEmitter>;
  queues: readonly ChildQueue[];
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
  const signpost = signpostOf(started, parseInstant(options.config.end_date));
  const since = parseInstant(options.config.start_date);
  const checkpoints = new Checkpoints(startingState(options.state, options.plans, started, signpost, options.logger), options.config, signpost);
  const sync: SyncRun = { options, checkpoints, version: started.toMillis(), refusedStreams: [] };

  // A used-up quota stops only its provider; the others still sync, then the run fails with the first stop.
  let quotaStop: QuotaExhausted | undefined;
  const providers = [...new Set(options.plans.map((p) => p.provider))];
  for (const provider of providers) {
    const config = options.config[provider.key] as ProviderConfig;
    const scratch = new Map<string, unknown>();
    const client = createProviderClient(provider, config, { ...options, scratch });
    const rule = provider.quota;
    const ledger =
      rule &&
      new QuotaLedger({ provider: provider.title, period: rule.period, limit: rule.limit(config), setting: `${provider.key}.${rule.setting}`, usage: checkpoints.quotaUsage(provider.key), now, traffic: client.requests, logger: options.logger });
    if (ledger) checkpoints.trackQuota(provider.key, ledger);
    const run: ProviderRun = { provider, config, client, ledger, noted: new Set(), logger: options.logger, until: signpost, since, scratch };
    try {
      for (const family of families(provider, options.plans.filter((p) => p.provider === provider))) yield* syncFamily(sync, family, run);
    } catch (error) {
      if (!(error instanceof QuotaExhausted)) throw error;
      if (quotaStop) options.logger.warn(error.message);
      quotaStop ??= error;
    } finally {
      await client.close();
    }
  }
  yield { type: 'state', state: checkpoints.snapshot(), streams: [] };
  if (sync.refusedStreams.length) options.logger.warn(`the sync left out ${sync.refusedStreams.length} stream(s) the credentials may not read: ${sync.refusedStreams.join(', ')}`);
  if (quotaStop) throw quotaStop;
}

async function* syncFamily(sync: SyncRun, family: Family, run: ProviderRun): AsyncGenerator<SyncEvent> {
  const { options, checkpoints, version } = sync;
  const members = [family.root, ...family.children].filter((p): p is StreamPlan => p !== undefined);
  for (const plan of members) {
    yield { type: 'schema', stream: plan.stream.name, schema: plan.schema, keyProperties: [...plan.stream.primaryKey], bookmarkProperties: plan.stream.replicationKey ? [plan.stream.replicationKey] : [] };
  }
  const versioned = options.activateVersion ? members.filter((p) => !p.incremental) : [];
  // Singer's convention: the table version lives in the stream's state, and only a stream's first sync
  // opens with ACTIVATE_VERSION, so a target keeps every committed row of an interrupted later sync.
  for (const plan of versioned) if (checkpoints.keepVersion(plan.stream.name, version)) yield { type: 'activate-version', stream: plan.stream.name, version };
  if (versioned.length) yield { type: 'state', state: checkpoints.snapshot(), streams: versioned.map((p) => p.stream.name) };
  for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'STARTED' };

  const emitters = new Map(members.map((plan) => [plan.stream.name, recordEmitter(plan, options.logger, options.recordLimit ?? Number.POSITIVE_INFINITY, versioned.includes(plan) ? version : undefined)]));
  const incrementalMembers = members.filter((p) => p.incremental);
  const reading: FamilyRun = { family, run, checkpoints, emitters, queues: childQueues({ family, run, checkpoints }, emitters) };
  try {
    await readAcross(reading.queues, run);
    const windows = planWindows({ rootStream: family.rootStream, members, bookmarks: checkpoints.bookmarks, config: run.config, startDate: run.since, signpost: run.until });
    const range = windows[0] && { from: windows[0].from, to: windows.at(-1)!.to };
    for (const window of windows) {
      yield* syncWindow(reading, window, range);
      if (window && incrementalMembers.length) yield* checkpoints.endWindow(family, window, incrementalMembers, reading.queues, emitters);
    }
    // The last batches, short of a full one; their windows' bookmarks follow them.
    for (const queue of reading.queues) yield* syncChildren(reading, queue, [], true);
  } catch (error) {
    if (error instanceof StreamRefused) {
      options.logger.warn(`${members.map((p) => p.stream.name).join(', ')}: skipped, as ${run.provider.title} refused ${family.rootStream.name} (${error.message}); the sync goes on without ${members.length > 1 ? 'them' : 'it'}`);
      for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
      sync.refusedStreams.push(...members.map((plan) => plan.stream.name));
      return;
    }
    // The quota's count reaches Airbyte only inside stream states, so it goes out before the streams are given up.
    if (error instanceof QuotaExhausted && incrementalMembers.length) yield { type: 'state', state: checkpoints.snapshot(), streams: incrementalMembers.map((p) => p.stream.name) };
    for (const plan of members) yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
    throw error;
  }
  // A table cut short by the record limit is not complete: activating it would delete the rows not read.
  for (const plan of versioned) if (!emitters.get(plan.stream.name)!.full) yield { type: 'activate-version', stream: plan.stream.name, version };
  yield* finishFamily(sync, reading, members);
}

/** Each member's end: left out when the API refused it, else its skipped parents, record count and COMPLETE. */
function* finishFamily(sync: SyncRun, { run, emitters, queues }: FamilyRun, members: readonly StreamPlan[]): Generator<SyncEvent> {
  const { logger } = sync.options;
  for (const plan of members) {
    const refused = queues.find((queue) => queue.plan === plan)?.refused;
    if (refused) {
      logger.warn(`${plan.stream.name}: skipped, as ${run.provider.title} refused it (${refused.message}); the sync goes on without it`);
      yield { type: 'stream-status', stream: plan.stream.name, status: 'INCOMPLETE' };
      sync.refusedStreams.push(plan.stream.name);
      continue;
    }
    const { skipped } = emitters.get(plan.stream.name)!;
    if (skipped.parents) {
      const note = run.provider.errorNotes?.skip;
      logger.warn(`${plan.stream.name}: skipped ${skipped.parents} of ${skipped.parents + skipped.read} ${plan.stream.parent!.stream} records, whose requests were refused (${skipped.reason})${note ? `; ${note}` : ''}`);
    }
    logger.metric({ type: 'counter', metric: 'record_count', value: emitters.get(plan.stream.name)!.count, tags: { endpoint: plan.stream.name } });
    yield { type: 'stream-status', stream: plan.stream.name, status: 'COMPLETE' };
  }
}

/**
 * Reads the root's pages of one window, emitting them and feeding its children as they come. A
 * window the provider says to restart ('restart-window') is read again from its first page, at most
 * MAX_WINDOW_RESTARTS times in all.
 */
async function* syncWindow(reading: FamilyRun, window: SyncWindow | undefined, range: SyncWindow | undefined): AsyncGenerator<SyncEvent> {
  const { family, run, checkpoints, emitters, queues } = reading;
  // The root feeds its own children; each of those feeds the streams below it.
  const fed = queues.filter((queue) => queue.plan.stream.parent!.stream === family.rootStream.name);
  const acceptedBefore = fed.map((queue) => queue.accepted);
  for (let attempt = 1; ; attempt++) {
    try {
      const root = family.root ? emitters.get(family.root.stream.name) : undefined;
      const context = requestContext(run, { window, range, parents: [] });
      for await (const page of readPages(family.rootStream, context, run)) {
        const records = transformed(family.rootStream, page, context);
        if (root) yield* root.emit(records, family.rootStream);
        if (root && !root.full && family.root!.incremental && family.rootStream.incremental?.sorted) yield* checkpoints.checkpoint(family.root!, records);
        for (const queue of fed) yield* syncChildren(reading, queue, records, false);
        if ((!root || root.full) && queues.every((q) => q.relay || q.emitter.full)) break;
      }
      return;
    } catch (error) {
      if (!(error instanceof RestartWindow) || attempt >= MAX_WINDOW_RESTARTS) throw error;
      run.logger.warn(`${family.rootStream.name}: ${error.message}; reading the window again from its first page`);
      fed.forEach((queue, i) => rewind(queue, acceptedBefore[i]!));
    }
  }
}
