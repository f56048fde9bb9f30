import { Duration, type DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogEntry, loadSchema, type Catalog } from '../../src/core/catalog.js';
import type { ProviderDefinition } from '../../src/core/definitions.js';
import { parseInstant } from '../../src/core/state.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { createClariCopilotSandbox } from '../../src/sandbox/clari-copilot/index.js';
import { createFourfourSandbox } from '../../src/sandbox/fourfour/index.js';
import { createGongSandbox } from '../../src/sandbox/gong/index.js';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../../src/sandbox/server.js';
import type { SandboxOptions, SandboxProvider } from '../../src/sandbox/types.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * Records the server shows late — stamped t but readable only at t + lag, or stamped by a server clock
 * behind the tap's — must still reach the next incremental run. Three hours of either, against
 * lookbacks shorter than that: a bookmark at the tap's clock would skip what the lag hid.
 */
const LATE = Duration.fromObject({ hours: 3 });
const START_DATE = TEST_NOW.minus({ days: 3 }).toISO();
const LATER = TEST_NOW.plus({ hours: 6 });

interface Case {
  provider: string;
  /** Each root incremental stream; children follow their parents. */
  streams: (provider: ProviderDefinition) => string[];
  create: (options: SandboxOptions) => SandboxProvider;
  /** Below the lag, so the lookback alone cannot hide a bookmark set at the tap's clock. */
  lookback?: string;
}

const incrementalRoots = (provider: ProviderDefinition) => provider.streams.filter((s) => s.incremental && !s.parent).map((s) => s.name);

const CASES: Case[] = [
  {
    provider: 'gong',
    streams: incrementalRoots,
    // A call every ten minutes, served minutes after it ends: the lookback covers the longest call.
    create: (o) => createGongSandbox(o, { callsPerScaleUnit: 1440, history: Duration.fromObject({ days: 10 }), maxProcessingLatency: Duration.fromObject({ minutes: 10 }) }),
    lookback: 'PT2H',
  },
  { provider: 'clari_copilot', streams: incrementalRoots, create: (o) => createClariCopilotSandbox(o, { flaky502Rate: 0 }), lookback: 'PT1H' },
  { provider: 'fourfour', streams: incrementalRoots, create: (o) => createFourfourSandbox(o) },
];

let running: RunningSandbox | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

function selecting(provider: ProviderDefinition, names: readonly string[]): Catalog {
  return {
    streams: provider.streams.map((stream) => {
      const entry = catalogEntry(stream, loadSchema(provider, stream));
      entry.metadata[0]!.metadata.selected = names.includes(stream.name);
      return entry;
    }),
  } as Catalog;
}

/** Each record's replication-key value by stream and primary key: the last version a sequence of runs delivered. */
function latest(runs: ReadonlyArray<Record<string, JsonRecord[]>>, provider: ProviderDefinition, names: readonly string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of names) {
    const stream = provider.streams.find((s) => s.name === name)!;
    out[name] = {};
    for (const run of runs) for (const record of run[name] ?? []) out[name][primaryKeyOf(stream, record)] = record[stream.replicationKey!];
  }
  return out;
}

const primaryKeyOf = (stream: ProviderDefinition['streams'][number], record: JsonRecord) => JSON.stringify(stream.primaryKey.map((key) => record[key]));

describe.each(CASES)('$provider: an incremental run misses nothing the server showed late', ({ provider: key, streams, create, lookback }) => {
  const provider = PROVIDERS.find((p) => p.key === key)!;
  const names = streams(provider);
  const catalog = selecting(provider, names);

  it.each([
    ['a visibility lag', { visibilityLag: LATE }],
    ['a server clock behind the tap', { clockSkew: LATE.negate() }],
  ] as Array<[string, Partial<StartSandboxOptions>]>)('under %s', async (_, late) => {
    const clock = { now: TEST_NOW as DateTime };
    running = await startSandbox({ seed: 5, unlimited: true, now: () => clock.now, ...late, providers: (o) => [create(o)] });
    const block = running.tapConfig()[key] as JsonRecord;
    // One config for all three runs: a run that rotates the refresh token writes the new one into it.
    const config = { start_date: START_DATE, [key]: { ...block, ...(lookback ? { lookback } : {}) } };

    const first = await collectSync(config, { now: TEST_NOW, catalog });
    clock.now = LATER;
    const second = await collectSync(config, { now: LATER, catalog, state: first.finalState });
    const whole = await collectSync(config, { now: LATER, catalog });

    const delivered = latest([first.records, second.records], provider, names);
    const truth = latest([whole.records], provider, names);
    expect(names.reduce((sum, name) => sum + Object.keys(truth[name]!).length, 0)).toBeGreaterThan(0);
    for (const name of names) expect(delivered[name], name).toEqual(truth[name]);
    // The late records exist: stamped before the first run's clock, yet first delivered by the second run.
    const stampedBeforeFirstRun = names.flatMap((name) => {
      const stream = provider.streams.find((s) => s.name === name)!;
      const seen = new Set((first.records[name] ?? []).map((r) => primaryKeyOf(stream, r)));
      return (second.records[name] ?? []).filter((r) => !seen.has(primaryKeyOf(stream, r)) && parseInstant(r[stream.replicationKey!])! < TEST_NOW);
    });
    expect(stampedBeforeFirstRun.length).toBeGreaterThan(0);
  });
});
