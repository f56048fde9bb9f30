import { DateTime } from 'luxon';
import { loadSchema, planStreams, type Catalog } from '../../src/core/catalog.js';
import { fillDefaults } from '../../src/core/config.js';
import type { SyncEvent } from '../../src/core/events.js';
import { runSync } from '../../src/core/runner.js';
import type { SingerState } from '../../src/core/state.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { secretLeak, secretsOf } from './binary.js';
import type { LogLevel } from '../../src/util/log.js';
import { memoryLogger, type MemoryLogger } from './logger.js';

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
  options: { state?: SingerState; catalog?: Catalog; now: DateTime; recordLimit?: number; logLevel?: LogLevel },
): Promise<CollectedSync> {
  const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
  fillDefaults(config, PROVIDERS);
  const logger = memoryLogger(options.logLevel ?? 'info');
  const events: SyncEvent[] = [];
  // Taken now: a rotation replaces the spent credentials in `config`, and neither may be printed.
  const secrets = secretsOf(config);
  try {
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
  } finally {
    expectNothingPrintedHoldsSecrets(events, logger, [...secrets, ...secretsOf(config)]);
  }
  const records: Record<string, JsonRecord[]> = {};
  for (const event of events) if (event.type === 'record') (records[event.stream] ??= []).push(event.record);
  const states = events.filter((e): e is Extract<SyncEvent, { type: 'state' }> => e.type === 'state');
  return { events, records, finalState: states.at(-1)?.state ?? { bookmarks: {} }, logs: logger.lines };
}

/**
 * The in-process twin of runBinary's scan: the logs and every event the CLI would print. A
 * config-changed event is exempt: it carries the rotated credentials to be saved, not printed.
 */
function expectNothingPrintedHoldsSecrets(events: readonly SyncEvent[], logger: MemoryLogger, secrets: readonly string[]): void {
  logger.expectNoSecrets(secrets);
  const printed = events.filter((event) => event.type !== 'config-changed').map((event) => JSON.stringify(event));
  const leak = secretLeak(printed.join('\n'), secrets, 'the sync events');
  if (leak) throw leak;
}

/** A fixed "now" for tests: the sandbox and the tap agree on it. */
export const TEST_NOW = DateTime.fromISO('2026-06-15T12:00:00Z', { zone: 'utc' });

/**
 * A record as the tap emits what the API served: every top-level field the stream's schema
 * declares, null where the API left it out (so targets that fix columns from the first record keep them).
 */
export function asEmitted(streamName: string): (served: JsonRecord) => JsonRecord {
  const provider = PROVIDERS.find((p) => p.streams.some((s) => s.name === streamName))!;
  const schema = loadSchema(provider, provider.streams.find((s) => s.name === streamName)!);
  const absent = Object.fromEntries(Object.keys(schema.properties as object).map((field) => [field, null]));
  return (served) => ({ ...absent, ...served });
}
