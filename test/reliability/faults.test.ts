import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { FaultOptions } from '../../src/sandbox/server.js';
import { FAULT_KINDS, type FaultKind } from '../../src/sandbox/types.js';
import { tempDir } from '../helpers/binary.js';
import { pipeline, saveLastState, tables, writeCatalog, writeTapConfig } from '../helpers/pipeline.js';
import { TEST_NOW } from '../helpers/sync.js';

/**
 * tap-convo | target-convo-duckdb against a sandbox that fails one request in ten, in every way it
 * knows, across all three providers: every retry must end in the tables a clean run loads, and a
 * run whose retries run out must fail clearly and leave a state that resumes to those tables.
 */
const DATA_SEED = 7;
/** Each seeds another sequence of faults over the same data. */
const FAULT_SEEDS = [1, 2, 3, 4, 5, 6];
const SCALE = 0.2;
const WINDOW = { start_date: '2026-06-08T00:00:00Z', end_date: TEST_NOW.toISO() };
// A short client timeout meets the sandbox's held requests, so 'timeout' faults cost seconds, not minutes.
const PROVIDER_SETTINGS = { requests_per_second: 500, request_timeout: 1 };

const dir = tempDir('tap-convo-faults-');

/** A fresh sandbox of the shared data set, and a tap config for it (fresh refresh tokens). */
async function sandboxWithConfig(name: string, faults?: FaultOptions) {
  const sandbox = await startAllSandboxes({ seed: DATA_SEED, scale: SCALE, now: () => TEST_NOW, unlimited: true, faults });
  return { sandbox, config: writeTapConfig(sandbox, join(dir, `${name}.json`), WINDOW, PROVIDER_SETTINGS), database: join(dir, `${name}.duckdb`) };
}

/** One pipeline run against a fresh sandbox, closed afterwards. */
async function load(name: string, faults?: FaultOptions) {
  const { sandbox, config, database } = await sandboxWithConfig(name, faults);
  try {
    return { traffic: sandbox.traffic, database, run: await pipeline({ config, catalog, database, batchSizeRows: 100 }) };
  } finally {
    await sandbox.close();
  }
}

let catalog: string;
let reference: Record<string, unknown[]>;
const injected = new Map<string, Partial<Record<FaultKind, number>>>();

beforeAll(async () => {
  // Clari's call details fan out one request per call, ten at a time: faults among concurrent children.
  const discovery = await sandboxWithConfig('discovery');
  catalog = await writeCatalog(discovery.config, join(dir, 'catalog.json'), ['clari_copilot_call_details']);
  await discovery.sandbox.close();
  const clean = await load('clean');
  expect([clean.run.tapCode, clean.run.targetCode], clean.run.tapErrors).toEqual([0, 0]);
  reference = await tables(clean.database);
  expect(Object.keys(reference).length).toBeGreaterThan(20);
}, 60_000);

describe.concurrent('with 10% faults of every kind on all three providers', () => {
  it.each(FAULT_SEEDS)('fault seed %i: loads exactly the tables of a clean run', async (seed) => {
    const faulty = await load(`faulty-${seed}`, { rate: 0.1, holdMs: 2000, seed });
    expect([faulty.run.tapCode, faulty.run.targetCode], faulty.run.tapErrors).toEqual([0, 0]);
    expect(await tables(faulty.database)).toEqual(reference);
    expect(Object.values(faulty.traffic).reduce((sum, t) => sum + t.faults, 0)).toBeGreaterThan(0);
    for (const [provider, traffic] of Object.entries(faulty.traffic)) {
      const kinds = injected.get(provider) ?? {};
      for (const [kind, count] of Object.entries(traffic.faultKinds)) kinds[kind as FaultKind] = (kinds[kind as FaultKind] ?? 0) + count;
      injected.set(provider, kinds);
    }
  }, 60_000);

  // Gong's and Four/Four's 429s carry Retry-After: 1, so eight attempts run out in seconds. The first
  // run breaks inside Gong's calls and transcripts; the second inside Four/Four, after Gong and Clari
  // (whose 429 has no Retry-After, so its backoff would take a minute). The count spans the sandbox: a
  // clean run asks Gong 23 times, then Clari 21, then Four/Four 29.
  it.each([4, 50])('when retries run out after %i good requests: exit 1, one CRITICAL line, a state that resumes to the clean tables', async (afterRequests) => {
    const failed = await load(`exhausted-${afterRequests}`, { rate: 1, kinds: ['429'], afterRequests });
    expect(failed.run.tapCode).toBe(1);
    expect(failed.run.targetCode).toBe(0);
    const critical = failed.run.tapErrors.split('\n').filter((line) => line.startsWith('CRITICAL'));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(/^CRITICAL (gong|fourfour)_[a-z_]+: (Gong|Four\/Four): (GET|POST) \/\S+ still failing after 8 attempts \(HTTP 429\); try again later$/);
    expect(failed.run.tapErrors).not.toMatch(/^\s+at /m);

    const healed = await sandboxWithConfig(`healed-${afterRequests}`);
    const state = saveLastState(failed.run, join(dir, `exhausted-${afterRequests}.state.json`));
    const resumed = await pipeline({ config: healed.config, catalog, database: failed.database, state });
    await healed.sandbox.close();
    expect([resumed.tapCode, resumed.targetCode], resumed.tapErrors).toEqual([0, 0]);
    expect(await tables(failed.database)).toEqual(reference);
  }, 60_000);
});

describe('the fault runs above', () => {
  it('injected every fault kind, and faults on every provider', () => {
    expect([...injected].filter(([, kinds]) => Object.keys(kinds).length > 0).map(([provider]) => provider).sort()).toEqual(['clari-copilot', 'fourfour', 'gong']);
    const total = (kind: FaultKind) => [...injected.values()].reduce((sum, kinds) => sum + (kinds[kind] ?? 0), 0);
    for (const kind of FAULT_KINDS) expect(total(kind), kind).toBeGreaterThan(0);
  });
});
