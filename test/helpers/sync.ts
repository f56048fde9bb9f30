import { DateTime } from 'luxon';
import { planStreams, type Catalog } from '../../src/core/catalog.js';
import type { SyncEvent } from '../../src/core/events.js';
import { runSync } from '../../src/core/runner.js';
import type { SingerState } from '../../src/core/state.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { memoryLogger } from './logger.js';

export interface CollectedSync {
  events: SyncEvent[];
  records: Record<string, JsonRecord[]>;
  finalState: SingerState;
  logs: string[];
}

/**
 * Runs a sync in-process with an injected clock and tiny retry delays, collecting everything it
 * emits. Rotated credentials are written into `config` itself, as the CLI writes them to the file.
 */
export async function collectSync(
  config: JsonRecord,
  options: { state?: SingerState; catalog?: Catalog; now: DateTime; recordLimit?: number },
): Promise<CollectedSync> {
  const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
  const logger = memoryLogger('info');
  const events: SyncEvent[] = [];
  for await (const event of runSync({
    config,
    plans: planStreams(providers, options.catalog),
    state: options.state ?? { bookmarks: {} },
    logger,
    now: () => options.now,
    persistConfig: async () => undefined,
    recordLimit: options.recordLimit,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  })) {
    events.push(event);
  }
  const records: Record<string, JsonRecord[]> = {};
  for (const event of events) if (event.type === 'record') (records[event.stream] ??= []).push(event.record);
  const states = events.filter((e): e is Extract<SyncEvent, { type: 'state' }> => e.type === 'state');
  return { events, records, finalState: states.at(-1)?.state ?? { bookmarks: {} }, logs: logger.lines };
}

/** A fixed "now" for tests: the sandbox and the tap agree on it. */
export const TEST_NOW = DateTime.fromISO('2026-06-15T12:00:00Z', { zone: 'utc' });
