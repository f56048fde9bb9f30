// Memory: peak RSS of target-convo-duckdb loading 100,000 vs 1,000,000 of the call-like rows of
// bench/target.js, generated as they are piped to the real binary's stdin, into a fresh database
// each time. The issue asks for flat memory; the goal is the tap's: the large run within 1.2× of
// the small one.
//
//   node bench/target-memory.js [--large N]
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, formatNumber, formatSection, isMain, lastLines, markdownTable, runNode, TARGET_BIN } from './lib.js';
import { countRows, singerLines } from './target.js';

const RATIO_GOAL = 1.2;

async function measure(rows) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-target-memory-'));
  try {
    const database = join(dir, 'calls.duckdb');
    const input = Readable.from((function* () {
      for (const { line } of singerLines(rows)) yield `${line}\n`;
    })());
    const run = await runNode(TARGET_BIN, ['--database', database, '--log-level', 'warning'], { measureMemory: true, stdin: input });
    if (run.code !== 0) throw new Error(`target-convo-duckdb exited ${run.code}: ${lastLines(run.stderr)}`);
    const loaded = await countRows(database, 'gong_calls');
    if (loaded !== rows) throw new Error(`expected ${rows} rows, the target loaded ${loaded}`);
    return { rows, seconds: run.seconds, peakRssMiB: run.peakRssMiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchTargetMemory({ small = 100_000, large = 1_000_000 } = {}) {
  const runs = [await measure(small), await measure(large)];
  const ratio = runs[1].peakRssMiB / runs[0].peakRssMiB;
  return {
    title: `Target memory: peak RSS of target-convo-duckdb, ${formatNumber(small, 0)} vs ${formatNumber(large, 0)} rows`,
    figures: [
      figure('peak RSS large ÷ small', ratio, `≤ ${RATIO_GOAL}×`, ratio <= RATIO_GOAL, { unit: '×' }),
      figure(`peak RSS at ${formatNumber(large, 0)} rows`, runs[1].peakRssMiB, 'reference', undefined, { unit: ' MiB', digits: 0 }),
    ],
    details: [
      'Call-like rows (15 columns) with a STATE per 100, upsert on id, default batch size; the input is generated in the benchmark process and piped in. Seconds include generating it.',
      '',
      markdownTable(['rows', 'seconds', 'rows/s', 'peak RSS (MiB)'], runs.map((r) => [formatNumber(r.rows, 0), formatNumber(r.seconds), formatNumber(r.rows / r.seconds, 0), formatNumber(r.peakRssMiB, 0)])),
    ].join('\n'),
  };
}

if (isMain(import.meta)) {
  const at = process.argv.indexOf('--large');
  process.stdout.write(formatSection(await benchTargetMemory(at > 0 ? { large: Number(process.argv[at + 1]) } : {})));
}
