import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SingerState } from '../../src/core/state.js';
import { createGongSandbox } from '../../src/sandbox/gong/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { pipeline, saveLastState, tables, writeCatalog, writeTapConfig, type PipelineOptions, type PipelineRun } from '../helpers/pipeline.js';
import { TEST_NOW } from '../helpers/sync.js';

/**
 * tap-convo | target-convo-duckdb killed with SIGKILL at many points, on either side of the pipe:
 * rerunning from the target's last emitted STATE must always end with the tables of a run that
 * never stopped, with nothing lost and nothing loaded twice.
 */
const SEED = 21;
const WINDOW = { start_date: '2026-06-08T00:00:00Z', end_date: TEST_NOW.toISO() };
const PROVIDER_SETTINGS = { requests_per_second: 500 };
// Small batches make the target commit, and echo STATE, many times per run, so resumes start midway.
const BATCH_SIZE_ROWS = 50;

const dir = tempDir('tap-convo-crash-');
let catalog: string;
let reference: Record<string, unknown[]>;
/** The uninterrupted run's tap output and where each of its lines ends, to aim the kills. */
let output: Buffer;
let lineEnds: number[];

/** A fresh sandbox with its own refresh tokens, so runs can go on side by side. */
async function freshSandbox(name: string) {
  const sandbox = await startAllSandboxes({ seed: SEED, scale: 0.2, now: () => TEST_NOW, unlimited: true });
  return { sandbox, config: writeTapConfig(sandbox, join(dir, `${name}.json`), WINDOW, PROVIDER_SETTINGS), database: join(dir, `${name}.duckdb`) };
}

beforeAll(async () => {
  const { sandbox, config, database } = await freshSandbox('reference');
  // Clari's call details are fetched per call, ten at a time: kills land among concurrent children.
  catalog = await writeCatalog(config, join(dir, 'catalog.json'), ['clari_copilot_call_details']);
  const run = await pipeline({ config, catalog, database, batchSizeRows: BATCH_SIZE_ROWS });
  await sandbox.close();
  expect([run.tapCode, run.targetCode], run.tapErrors).toEqual([0, 0]);
  expect(run.states.length).toBeGreaterThan(2);
  reference = await tables(database);
  expect(reference.clari_copilot_call_details?.length).toBeGreaterThan(0);
  output = run.tapOutput;
  lineEnds = [];
  for (let at = output.indexOf('\n'); at >= 0; at = output.indexOf('\n', at + 1)) lineEnds.push(at + 1);
}, 60_000);

type Line = { type: string; stream?: string };
const lineAt = (index: number): Line => JSON.parse(output.subarray(index ? lineEnds[index - 1]! : 0, lineEnds[index]! - 1).toString('utf8')) as Line;
const linesWhere = (test: (line: Line) => boolean): number[] => lineEnds.map((_, i) => i).filter((i) => test(lineAt(i)));
const middleOf = (index: number): number => Math.floor(((index ? lineEnds[index - 1]! : 0) + lineEnds[index]!) / 2);
/** The `share`-th (0..1) of the given lines. */
const nth = (indexes: number[], share: number): number => indexes[Math.min(indexes.length - 1, Math.floor(indexes.length * share))]!;

type Kill = Pick<PipelineOptions, 'killTapAtByte' | 'killTargetAtByte'>;
const KILLS: Array<[string, () => Kill]> = [
  ['the tap, in the first line', () => ({ killTapAtByte: 10 })],
  ['the tap, right after the first STATE', () => ({ killTapAtByte: lineEnds[nth(linesWhere((l) => l.type === 'STATE'), 0)]! })],
  ['the tap, right after a STATE midway', () => ({ killTapAtByte: lineEnds[nth(linesWhere((l) => l.type === 'STATE'), 0.5)]! })],
  ['the tap, mid-line in Gong transcripts', () => ({ killTapAtByte: middleOf(nth(linesWhere((l) => l.stream === 'gong_transcripts'), 0.5)) })],
  ['the tap, mid child-batch of Clari call details', () => ({ killTapAtByte: middleOf(nth(linesWhere((l) => l.stream === 'clari_copilot_call_details'), 0.4)) })],
  ['the tap, on the last line', () => ({ killTapAtByte: output.length - 3 })],
  ['the target, mid-batch a third of the way', () => ({ killTargetAtByte: Math.floor(output.length / 3) })],
  ['the target, mid-batch near the end', () => ({ killTargetAtByte: Math.floor(output.length * 0.85) })],
];

/** Reruns from the target's last STATE until a run completes; returns the completing run. */
async function resume(options: PipelineOptions, killed: PipelineRun, name: string): Promise<PipelineRun> {
  let last = killed;
  for (let rerun = 1; rerun <= 3; rerun++) {
    const state = saveLastState(last, join(dir, `${name}-${rerun}.state.json`)) ?? options.state;
    last = await pipeline({ config: options.config, catalog, database: options.database, batchSizeRows: BATCH_SIZE_ROWS, state });
    if (last.tapCode === 0) return last;
  }
  return last;
}

describe.concurrent('killed with SIGKILL and rerun from the last STATE', () => {
  it.each(KILLS)('%s: ends with the tables of an uninterrupted run', async (name, kill) => {
    const slug = name.replace(/\W+/g, '-');
    const { sandbox, config, database } = await freshSandbox(slug);
    try {
      const options: PipelineOptions = { config, catalog, database, batchSizeRows: BATCH_SIZE_ROWS };
      const killed = await pipeline({ ...options, ...kill() });
      // Killed (null), or, for a cut inside its last write, already gone with everything written (0):
      // either way the target reads the stream cut at that byte.
      expect([null, 0], killed.tapErrors).toContain(killed.tapCode);
      // A cut line is a bad last line to the target: it commits what came before and exits 1.
      expect([0, 1, null]).toContain(killed.targetCode);
      const resumed = await resume(options, killed, slug);
      expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
      expect(await tables(database)).toEqual(reference);
    } finally {
      await sandbox.close();
    }
  }, 60_000);

  it('killed twice, tap then target, and rerun each time: ends with the tables of an uninterrupted run', async () => {
    const { sandbox, config, database } = await freshSandbox('twice');
    try {
      const options: PipelineOptions = { config, catalog, database, batchSizeRows: BATCH_SIZE_ROWS };
      const first = await pipeline({ ...options, killTapAtByte: middleOf(nth(linesWhere((l) => l.type === 'RECORD'), 0.3)) });
      const state = saveLastState(first, join(dir, 'twice-0.state.json'));
      const second = await pipeline({ ...options, state, killTargetAtByte: Math.floor(output.length / 4) });
      expect(second.tapCode).toBeNull();
      const resumed = await resume({ ...options, state }, second, 'twice');
      expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
      expect(await tables(database)).toEqual(reference);
    } finally {
      await sandbox.close();
    }
  }, 60_000);
});

describe('ACTIVATE_VERSION and a sync killed mid-table', () => {
  it('keeps every committed row of a full-table stream when a later sync dies before the table is complete', async () => {
    const sandbox = await startAllSandboxes({ seed: SEED, scale: 2, now: () => TEST_NOW, unlimited: true });
    try {
      const config = writeTapConfig(sandbox, join(dir, 'versions.json'), { ...WINDOW, emit_activate_version_messages: true }, PROVIDER_SETTINGS);
      const usersOnly = writeJson(dir, 'versions-catalog.json', { streams: [{ tap_stream_id: 'gong_users', metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] });
      const database = join(dir, 'versions.duckdb');
      const options: PipelineOptions = { config, catalog: usersOnly, database, batchSizeRows: BATCH_SIZE_ROWS };
      const live = (rows: unknown[] | undefined) => (rows ?? []).filter((row) => (row as { _sdc_deleted_at: unknown })._sdc_deleted_at === null);

      const first = await pipeline(options);
      expect([first.tapCode, first.targetCode], first.tapErrors).toEqual([0, 0]);
      const users = live((await tables(database)).gong_users);
      expect(users.length).toBeGreaterThan(20);

      // The second sync dies halfway through the users: no ACTIVATE_VERSION may have told the target to drop the rest.
      const state = saveLastState(first, join(dir, 'versions-1.state.json'));
      const killed = await pipeline({ ...options, state, killTapAtByte: Math.floor(first.tapOutput.length / 2) });
      expect(killed.tapCode).toBeNull();
      expect(live((await tables(database)).gong_users)).toHaveLength(users.length);

      // Resumed to the end: the table is complete, activated, and still whole.
      const resumed = await pipeline({ ...options, state: saveLastState(killed, join(dir, 'versions-2.state.json')) ?? state });
      expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
      expect(resumed.tapOutput.toString('utf8')).toMatch(/"type":"ACTIVATE_VERSION","stream":"gong_users"/);
      expect(live((await tables(database)).gong_users)).toHaveLength(users.length);
    } finally {
      await sandbox.close();
    }
  }, 60_000);
});

/**
 * A long sync: six years of Gong's 30-day windows, mostly empty, paced to two requests a second, so
 * it lasts over 40 seconds and writes little (issue 13: after 20 s and 57 requests not one line had
 * been written). Stopped at many moments, the tap must have delivered the STATE of every window
 * before the last one it asked for, since it asks for a window only after emitting the last one's.
 * That STATE's bookmark is at least the start of the window before the one asked for: a window moves
 * the bookmark to its newest call, or to its own start when it had none.
 */
const PACED_WINDOW = { start_date: '2020-01-01T00:00:00Z', end_date: TEST_NOW.toISO() };
const PACED_STREAMS = ['gong_calls', 'gong_transcripts'];
const SLOW = { requests_per_second: 2 };
const FAST = { requests_per_second: 500 };
/** Gong's calls window (its stream declaration's windowSize). */
const GONG_WINDOW = { days: 30 };

const pacedDir = tempDir('tap-convo-paced-');
let pacedCatalog: string;
let pacedReference: Record<string, unknown[]>;

/** A fresh Gong sandbox and two configs for it: the paced one, and a fast one to finish the sync. */
async function pacedSandbox(name: string) {
  // A small tenant: the windows, not the records, make this sync long.
  const sandbox = await startSandbox({ seed: SEED, scale: 0.05, now: () => TEST_NOW, unlimited: true, providers: (options) => [createGongSandbox(options)] });
  return {
    sandbox,
    slow: writeTapConfig(sandbox, join(pacedDir, `${name}.slow.json`), PACED_WINDOW, SLOW),
    fast: writeTapConfig(sandbox, join(pacedDir, `${name}.fast.json`), PACED_WINDOW, FAST),
    database: join(pacedDir, `${name}.duckdb`),
  };
}

/** The start of the latest Gong calls window the sandbox has answered a request for. */
function lastWindowAsked(sandbox: RunningSandbox): DateTime | undefined {
  const starts = sandbox.traffic.gong!.log.filter((entry) => entry.path === '/v2/calls/extensive').map((entry) => DateTime.fromISO((entry.body as { filter: { fromDateTime: string } }).filter.fromDateTime));
  return starts.length ? DateTime.max(...starts) : undefined;
}

/** Resolves once the sandbox has answered `count` Gong requests (polled: the sandbox has no events). */
async function gongRequests(sandbox: RunningSandbox, count: number): Promise<void> {
  for (let waited = 0; (sandbox.traffic.gong?.requests ?? 0) < count && waited < 60_000; waited += 20) await delay(20);
}

/** The last whole line of a tap's output: a kill may cut the line after it. */
// What a stopped sync said beyond its metrics and warnings (the sandbox's early windows are empty, so Gong's
// one warning about call visibility is expected).
const complaints = (stderr: string): string[] => stderr.split('\n').filter((line) => line && !/^(INFO|WARNING) /.test(line) && !line.includes('METRIC'));

function lastWholeLine(output: Buffer): Record<string, unknown> | undefined {
  const lines = output.toString('utf8').split('\n').slice(0, -1).filter(Boolean);
  return lines.length ? (JSON.parse(lines.at(-1)!) as Record<string, unknown>) : undefined;
}

/** The gong_calls bookmark of the last STATE a Singer output holds whole, or the start date without one. */
function deliveredBookmark(output: Buffer): DateTime {
  const states = output
    .toString('utf8')
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{"type":"STATE"'))
    .map((line) => JSON.parse(line) as { value: SingerState });
  const value = states.at(-1)?.value.bookmarks.gong_calls?.replication_key_value;
  return DateTime.fromISO(value ?? PACED_WINDOW.start_date);
}

describe('a long paced sync', () => {
  beforeAll(async () => {
    const { sandbox, fast, database } = await pacedSandbox('reference');
    pacedCatalog = await writeCatalog(fast, join(pacedDir, 'catalog.json'), PACED_STREAMS, { only: true });
    const run = await pipeline({ config: fast, catalog: pacedCatalog, database, batchSizeRows: BATCH_SIZE_ROWS });
    await sandbox.close();
    expect([run.tapCode, run.targetCode], run.tapErrors).toEqual([0, 0]);
    pacedReference = await tables(database);
    expect(pacedReference.gong_calls?.length).toBeGreaterThan(0);
  }, 60_000);

  /** Finishes the sync from the target's last STATE, fast; the tables must be those of one clean run. */
  async function finish(stopped: PipelineRun, fast: string, database: string, name: string): Promise<void> {
    const state = saveLastState(stopped, join(pacedDir, `${name}.state.json`));
    const resumed = await pipeline({ config: fast, catalog: pacedCatalog, database, batchSizeRows: BATCH_SIZE_ROWS, state, timeoutMs: 120_000 });
    expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
    // One row per key, none lost: the load equals the uninterrupted one.
    expect(await tables(database)).toEqual(pacedReference);
  }

  // Seconds after the first answered request; the sync lasts over 40.
  describe.concurrent('killed with SIGKILL at a given second', () => {
    it.each([0, 0.5, 1, 3, 10, 29])('at %s s: the STATE of every window before the last one asked for was delivered', async (seconds) => {
      const name = `sigkill-${seconds}`;
      const { sandbox, slow, fast, database } = await pacedSandbox(name);
      try {
        let asked: DateTime | undefined;
        const when = gongRequests(sandbox, 1)
          .then(() => delay(seconds * 1000))
          .then(() => (asked = lastWindowAsked(sandbox)));
        const killed = await pipeline({ config: slow, catalog: pacedCatalog, database, batchSizeRows: BATCH_SIZE_ROWS, signalTap: { signal: 'SIGKILL', when }, timeoutMs: 120_000 });
        expect(killed.tapCode, killed.tapErrors).toBeNull();
        expect(asked).toBeDefined();
        expect(deliveredBookmark(killed.tapOutput).toMillis()).toBeGreaterThanOrEqual(asked!.minus(GONG_WINDOW).toMillis());
        await finish(killed, fast, database, name);
      } finally {
        await sandbox.close();
      }
    }, 240_000);
  });

  describe.concurrent('stopped with a signal', () => {
    it.each([
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const)('%s: delivers what it read, ends on its last STATE, says so in one line and exits %s', async (signal, code) => {
      const name = signal.toLowerCase();
      const { sandbox, slow, fast, database } = await pacedSandbox(name);
      try {
        let asked: DateTime | undefined;
        const when = gongRequests(sandbox, 6).then(() => (asked = lastWindowAsked(sandbox)));
        const stopped = await pipeline({ config: slow, catalog: pacedCatalog, database, batchSizeRows: BATCH_SIZE_ROWS, signalTap: { signal, when }, timeoutMs: 120_000 });
        expect(stopped.tapCode, stopped.tapErrors).toBe(code);
        expect(complaints(stopped.tapErrors)).toEqual([`CRITICAL interrupted by ${signal}: the sync stopped before it finished; rerun with its last STATE to resume`]);
        expect(lastWholeLine(stopped.tapOutput)?.type).toBe('STATE');
        expect(stopped.tapOutput.at(-1)).toBe(0x0a);
        expect(deliveredBookmark(stopped.tapOutput).toMillis()).toBeGreaterThanOrEqual(asked!.minus(GONG_WINDOW).toMillis());
        await finish(stopped, fast, database, name);
      } finally {
        await sandbox.close();
      }
    }, 240_000);

    it('SIGTERM to an Airbyte read: its STATEs delivered, then INCOMPLETE statuses and a transient error trace, exit 143', async () => {
      const { sandbox, slow } = await pacedSandbox('airbyte');
      try {
        const configured = writeJson(pacedDir, 'configured.json', { streams: [{ stream: { name: 'gong_calls' }, sync_mode: 'incremental', destination_sync_mode: 'append' }] });
        let asked: DateTime | undefined;
        const when = gongRequests(sandbox, 6).then(() => (asked = lastWindowAsked(sandbox)));
        const run = await runBinary('tap-convo', ['read', '--config', slow, '--catalog', configured], { signal: { signal: 'SIGTERM', when } });
        expect(run.code, run.stderr).toBe(143);
        const messages = run.lines as Array<{ type: string; state?: { stream: { stream_state: { replication_key_value?: string } } }; trace?: Record<string, unknown> }>;
        const traces = messages.filter((m) => m.type === 'TRACE').map((m) => m.trace!);
        expect(traces.at(-2)).toMatchObject({ type: 'STREAM_STATUS', stream_status: { stream_descriptor: { name: 'gong_calls' }, status: 'INCOMPLETE' } });
        expect(traces.at(-1)).toMatchObject({ type: 'ERROR', error: { failure_type: 'transient_error', message: expect.stringContaining('interrupted by SIGTERM') } });
        const lastState = messages.filter((m) => m.type === 'STATE').at(-1)?.state?.stream.stream_state.replication_key_value;
        expect(DateTime.fromISO(lastState ?? PACED_WINDOW.start_date).toMillis()).toBeGreaterThanOrEqual(asked!.minus(GONG_WINDOW).toMillis());
      } finally {
        await sandbox.close();
      }
    }, 120_000);

    it('EPIPE: the reader of stdout goes away mid-sync: one CRITICAL line, no stack trace, exit 1', async () => {
      const { sandbox, fast } = await pacedSandbox('epipe');
      try {
        const run = await runBinary('tap-convo', ['--config', fast, '--catalog', pacedCatalog], { closeStdoutAfterBytes: 1 });
        expect(run.code, run.stderr).toBe(1);
        expect(complaints(run.stderr)).toEqual([expect.stringMatching(/^CRITICAL stdout was closed by the program reading it \(EPIPE\)/)]);
      } finally {
        await sandbox.close();
      }
    }, 60_000);
  });
});
