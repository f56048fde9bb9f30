import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { planStreams } from '../core/catalog.js';
import { fillDefaults } from '../core/config.js';
import type { SyncEvent } from '../core/events.js';
import { runSync } from '../core/runner.js';
import { parseState, type SingerState } from '../core/state.js';
import { toSinger } from '../protocol/singer.js';
import { PROVIDERS } from '../providers/index.js';
import { startAllSandboxes } from '../sandbox/index.js';
import { runDuckdbTarget } from '../targets/duckdb/index.js';
import type { Logger } from '../util/log.js';

const DEMO_REQUESTS_PER_SECOND = 200;

export interface DemoOptions {
  database: string;
  logger: Logger;
  /** Called with every event, for progress display. */
  onEvent?(event: SyncEvent): void;
  seed?: number;
}

export interface DemoResult {
  rows: Record<string, number>;
  elapsedSeconds: number;
  incremental: boolean;
  statePath: string;
}

/**
 * The zero-credential pipeline: the sandbox in-process, every stream of every provider through the
 * tap, Singer lines into the DuckDB target, and the target's committed STATE kept beside the
 * database so the next demo is incremental.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const statePath = `${options.database}.state.json`;
  const state: SingerState = existsSync(statePath) ? parseState(JSON.parse(readFileSync(statePath, 'utf8')), statePath) : { bookmarks: {} };
  // The APIs' real rate limits would make the demo wait minutes on one-request-per-call streams;
  // on loopback they prove nothing, so the demo lifts them (tests and `tap-convo sandbox` keep them).
  const sandbox = await startAllSandboxes({ seed: options.seed ?? 1, scale: 1, unlimited: true });
  try {
    const config = fillDefaults(sandbox.tapConfig({ start_date: DateTime.utc().minus({ days: 120 }).startOf('day').toISO() }), PROVIDERS);
    for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: DEMO_REQUESTS_PER_SECOND });
    const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
    const catalog = { streams: providers.flatMap((p) => p.streams.map((s) => ({ tap_stream_id: s.name, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }))) };
    async function* singerLines(): AsyncGenerator<string> {
      for await (const event of runSync({
        config,
        plans: planStreams(providers, catalog as never),
        state,
        logger: options.logger,
        persistConfig: async () => undefined,
      })) {
        options.onEvent?.(event);
        const message = toSinger(event);
        if (message) yield JSON.stringify(message);
      }
    }
    let lastState: string | undefined;
    const summary = await runDuckdbTarget(singerLines(), (line) => (lastState = line), { database: options.database });
    if (lastState) {
      const temporary = `${statePath}.tmp`;
      writeFileSync(temporary, JSON.stringify((JSON.parse(lastState) as { value: unknown }).value, null, 2) + '\n');
      renameSync(temporary, statePath);
    }
    return { rows: summary.rows, elapsedSeconds: (performance.now() - started) / 1000, incremental: Object.keys(state.bookmarks).length > 0, statePath };
  } finally {
    await sandbox.close();
  }
}
