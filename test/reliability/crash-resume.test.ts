import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import { tempDir, writeJson } from '../helpers/binary.js';
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
