import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { planStreams } from '../../src/core/catalog.js';
import { fillDefaults } from '../../src/core/config.js';
import type { SyncEvent } from '../../src/core/events.js';
import { QuotaExhausted } from '../../src/core/quota.js';
import { runSync } from '../../src/core/runner.js';
import type { SingerState } from '../../src/core/state.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { createClariCopilotSandbox } from '../../src/sandbox/clari-copilot/index.js';
import { createGongSandbox } from '../../src/sandbox/gong/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { memoryLogger } from '../helpers/logger.js';
import { TEST_NOW } from '../helpers/sync.js';

const BUDGET = 15;
const RANGE = { start_date: '2026-03-01T00:00:00Z', end_date: '2026-06-01T00:00:00Z' };

const running: RunningSandbox[] = [];
afterEach(async () => {
  for (const sandbox of running.splice(0)) await sandbox.close();
});

/** The Gong and Clari sandboxes on a movable clock, with the given budgets (none: the real ones). */
async function sandbox(clock: { now: DateTime }, budget?: number): Promise<RunningSandbox> {
  const started = await startSandbox({
    seed: 7,
    unlimited: true,
    now: () => clock.now,
    // Enough calls that a full sync needs more than BUDGET requests, yet each family fits in one.
    providers: (options) => [
      createGongSandbox(options, { dailyQuota: budget, callsPerScaleUnit: 600, usersPerScaleUnit: 8 }),
      createClariCopilotSandbox(options, { weeklyQuota: budget, historicalCalls: 1500, flaky502Rate: 0 }),
    ],
  });
  running.push(started);
  return started;
}

function tapConfig(server: RunningSandbox, provider: 'gong' | 'clari_copilot', settings: JsonRecord = {}): JsonRecord {
  const all = server.tapConfig(RANGE);
  return { ...RANGE, [provider]: { ...(all[provider] as JsonRecord), requests_per_second: 1000, ...settings } };
}

interface Outcome {
  events: SyncEvent[];
  finalState: SingerState;
  error?: unknown;
  logs: string[];
}

/** One in-process run on the tap's clock `now`, kept whether it ends well or stops. */
async function sync(config: JsonRecord, state: SingerState, now: DateTime): Promise<Outcome> {
  const logger = memoryLogger('info');
  const events: SyncEvent[] = [];
  let error: unknown;
  try {
    for await (const event of runSync({
      config: fillDefaults(config, PROVIDERS),
      plans: planStreams(PROVIDERS.filter((p) => config[p.key] !== undefined), undefined),
      state,
      logger,
      now: () => now,
      persistConfig: async () => undefined,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    })) {
      events.push(event);
    }
  } catch (caught) {
    error = caught;
  }
  const states = events.filter((e): e is Extract<SyncEvent, { type: 'state' }> => e.type === 'state');
  return { events, finalState: states.at(-1)?.state ?? state, error, logs: logger.lines };
}

/** Tables as a target builds them: records upserted by primary key, sorted. */
function tables(runs: readonly Outcome[]): Record<string, string[]> {
  const keys = new Map(PROVIDERS.flatMap((p) => p.streams.map((s) => [s.name, s.primaryKey] as const)));
  const rows: Record<string, Map<string, string>> = {};
  for (const run of runs) {
    for (const event of run.events) {
      if (event.type !== 'record') continue;
      const key = JSON.stringify(keys.get(event.stream)!.map((k) => event.record[k]));
      (rows[event.stream] ??= new Map()).set(key, JSON.stringify(event.record));
    }
  }
  return Object.fromEntries(Object.entries(rows).map(([stream, byKey]) => [stream, [...byKey.values()].sort()]));
}

/** The records a run emitted after its last STATE: not yet covered by the state it leaves. */
function undeliveredAfterLastState(run: Outcome): number {
  const last = run.events.findLastIndex((e) => e.type === 'state');
  return run.events.slice(last + 1).filter((e) => e.type === 'record').length;
}

describe.each([
  // Each Gong run first re-reads its full-table streams (users, flows, settings: about twenty requests),
  // and a window of audit logs costs a dozen more: the budget leaves room to move on past them.
  { provider: 'gong' as const, title: 'Gong', budget: 40, setting: 'daily_request_quota', period: 'daily', next: { days: 1 }, reset: '2026-06-16T00:00:00Z', inWords: 'in 12 hours' },
  { provider: 'clari_copilot' as const, title: 'Clari Copilot', budget: BUDGET, setting: 'weekly_request_quota', period: 'weekly', next: { weeks: 1 }, reset: '2026-06-21T00:00:00Z', inWords: 'in 5 days' },
])('$title quota', ({ provider, title, budget, setting, period, next, reset, inWords }) => {
  it(`stops before the ${period} budget is passed, says when it resets, and resumes in the next window to the same tables`, async () => {
    const clock = { now: TEST_NOW };
    // Both sandboxes start now: the data is anchored on the day a sandbox starts.
    const free = await sandbox(clock);
    const server = await sandbox(clock, budget);
    const config = tapConfig(server, provider, { [setting]: budget });
    const prefix = server.providers[provider === 'gong' ? 0 : 1]!.prefix;
    const runs: Outcome[] = [];
    let state: SingerState = { bookmarks: {} };
    for (let window = 0; window < 10; window++) {
      const run = await sync(config, state, clock.now);
      runs.push(run);
      state = run.finalState;
      if (!run.error) break;
      expect(run.error).toBeInstanceOf(QuotaExhausted);
      const message = (run.error as Error).message;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain(`${title}: the ${period} quota of ${budget} requests is used up`);
      expect(message).toContain(`raise ${provider}.${setting}`);
      if (window === 0) expect(message).toContain(`resets at ${reset} (${inWords})`);
      // The state counts the whole window as spent and resumes where the records stop being covered.
      expect(state.quota?.[provider]?.requests).toBe(budget);
      expect(undeliveredAfterLastState(run)).toBe(0);

      // Again in the same window: nothing is sent, and the state is handed back unchanged.
      const sent = server.traffic[prefix]!.requests;
      const again = await sync(config, state, clock.now.plus({ hours: 1 }));
      expect(again.error).toBeInstanceOf(QuotaExhausted);
      expect(server.traffic[prefix]!.requests).toBe(sent);
      expect(again.finalState).toEqual(state);
      clock.now = clock.now.plus(next);
    }
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.at(-1)!.error).toBeUndefined();
    // The tap stops before the API has to refuse anything.
    expect(server.traffic[prefix]!.rateLimited).toBe(0);
    expect(server.traffic[prefix]!.log.filter((entry) => entry.status === 429)).toEqual([]);
    // Full-table streams (Clari's scorecards) grow as the clock moves on: compare with one run at the last clock.
    const unconstrained = await sync(tapConfig(free, provider), { bookmarks: {} }, clock.now);
    expect(unconstrained.error).toBeUndefined();
    expect(free.traffic[prefix]!.requests).toBeGreaterThan(budget);
    expect(tables(runs)).toEqual(tables([unconstrained]));
  });

  it('turns the API’s own quota refusal into the same stop, without sleeping on it', async () => {
    const clock = { now: TEST_NOW };
    const server = await sandbox(clock, 5);
    // The tap believes in a larger budget (another client shares the key): the API refuses first.
    const run = await sync(tapConfig(server, provider, { [setting]: 1000 }), { bookmarks: {} }, TEST_NOW);
    expect(run.error).toBeInstanceOf(QuotaExhausted);
    expect((run.error as Error).message).toMatch(new RegExp(`^${title}: .*HTTP 429.*: its ${period} request quota is used up; it resets at ${reset} \\(${inWords}\\)`));
    expect(run.finalState.quota?.[provider]?.requests).toBe(1000);
    // One refusal, never retried: a Retry-After until midnight (Gong) or a quota body (Clari) is final.
    expect(server.traffic[provider === 'gong' ? 'gong' : 'clari-copilot']!.log.filter((entry) => entry.status === 429)).toHaveLength(1);
  });
});

describe('quota counts across runs', () => {
  it('warns at each step of the budget as runs add up, and reads states without a quota (older releases)', async () => {
    const clock = { now: TEST_NOW };
    const server = await sandbox(clock);
    const limit = 150;
    const config = tapConfig(server, 'gong', { daily_request_quota: limit });
    const first = await sync(config, { bookmarks: {} }, TEST_NOW);
    expect(first.error).toBeUndefined();
    const spent = first.finalState.quota!.gong!.requests;
    expect(first.finalState.quota!.gong!.window_start).toBe('2026-06-15T00:00:00Z');
    expect(spent).toBe(server.traffic.gong!.requests);
    const second = await sync(config, first.finalState, TEST_NOW.plus({ hours: 2 }));
    expect(second.finalState.quota!.gong!.requests).toBe(server.traffic.gong!.requests);
    const warnings = (logs: string[]) => logs.filter((line) => line.includes('requests allowed per day')).map((line) => /(\d+) of the 150 requests .* \(over (\d+)%\)/.exec(line)!.slice(1).map(Number));
    // Each run warns once per step it passes; the second counts on from the first run's requests.
    const passed = (requests: number) => [25, 50, 75, 90].filter((step) => requests * 100 >= step * limit);
    expect(spent).toBeLessThan(limit);
    expect(warnings(first.logs).map(([, step]) => step)).toEqual(passed(spent));
    expect(warnings(second.logs)[0]).toEqual([spent + 1, passed(spent + 1).at(-1)]);
  });
});

describe('the tap binary at a used-up quota', () => {
  it('exits 1 with one CRITICAL line naming the provider and the reset, after a resumable STATE', async () => {
    const clock = { now: DateTime.utc() };
    const server = await sandbox(clock, BUDGET);
    const dir = tempDir();
    // Sandbox data lies in the 90 days before the real clock here, as the binary's clock is the real one.
    const range = { start_date: clock.now.minus({ days: 80 }).startOf('day').toISO(), end_date: clock.now.minus({ days: 2 }).startOf('day').toISO() };
    const config = writeJson(dir, 'config.json', { ...tapConfig(server, 'gong', { daily_request_quota: BUDGET }), ...range });
    const run = await runBinary('tap-convo', ['--config', config]);
    expect(run.code).toBe(1);
    const critical = run.stderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(new RegExp(`^CRITICAL Gong: the daily quota of ${BUDGET} requests is used up .*; it resets at \\d{4}-\\d\\d-\\d\\dT00:00:00Z \\(in \\d+ (hours?|minutes?)\\)`));
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const last = run.lines.at(-1)!;
    expect(last.type).toBe('STATE');
    const state = (last as { value: SingerState }).value;
    expect(state.quota?.gong?.requests).toBe(BUDGET);

    // The next day (the state's window is yesterday's, the API's day has turned) the sync resumes from that state.
    clock.now = clock.now.plus({ days: 1 });
    const yesterday = DateTime.fromISO(state.quota!.gong!.window_start, { zone: 'utc' }).minus({ days: 1 });
    const resumed = await runBinary('tap-convo', ['--config', config, '--state', writeJson(dir, 'state.json', { ...state, quota: { gong: { window_start: yesterday.toISO(), requests: BUDGET } } })]);
    const stateLines = resumed.lines.filter((line) => line.type === 'STATE');
    expect(stateLines.length).toBeGreaterThan(0);
    const bookmark = (s: SingerState) => s.bookmarks.gong_calls?.replication_key_value ?? '';
    expect(bookmark((stateLines.at(-1) as { value: SingerState }).value) >= bookmark(state)).toBe(true);
  }, 30_000);
});
