// Wide schemas: peak RSS and seconds of target-convo-duckdb loading one record of a stream with
// 1,000, 3,000 and 10,000 string columns (issue 13: 10,000 columns took 45 s and 8.6 GB). Each
// run is the real binary, into a fresh database file, with the input piped to its stdin. The goal:
// 10,000 columns in at most 1 GiB (about 100 KiB per column), and memory growing no faster than
// the columns (RSS per column at the widest within 2× of the narrowest).
//
//   node bench/target-wide.js [--columns 1000,3000]
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, formatNumber, isMain, formatSection, lastLines, markdownTable, runNode, TARGET_BIN } from './lib.js';
import { countRows } from './target.js';

const PER_COLUMN_GOAL = 2;
const PEAK_GOAL_MIB = 1024;

/** A SCHEMA of `columns` nullable strings keyed on `id`, one RECORD filling them all, and a STATE. */
function wideLines(columns) {
  const properties = { id: { type: 'integer' } };
  const record = { id: 1 };
  for (let index = 0; index < columns; index++) {
    properties[`column_${index}`] = { type: ['null', 'string'] };
    record[`column_${index}`] = `value ${index}`;
  }
  return [
    { type: 'SCHEMA', stream: 'wide', schema: { type: 'object', properties }, key_properties: ['id'] },
    { type: 'RECORD', stream: 'wide', record },
    { type: 'STATE', value: { bookmarks: { wide: { id: 1 } } } },
  ].map((message) => `${JSON.stringify(message)}\n`);
}

async function measure(columns) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-target-wide-'));
  try {
    const database = join(dir, 'wide.duckdb');
    const run = await runNode(TARGET_BIN, ['--database', database, '--log-level', 'warning'], { measureMemory: true, stdin: Readable.from(wideLines(columns)) });
    if (run.code !== 0) throw new Error(`target-convo-duckdb exited ${run.code}: ${lastLines(run.stderr)}`);
    const loaded = await countRows(database, 'wide');
    if (loaded !== 1) throw new Error(`expected 1 row, the target loaded ${loaded}`);
    return { columns, seconds: run.seconds, peakRssMiB: run.peakRssMiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchTargetWide({ columns = [1_000, 3_000, 10_000] } = {}) {
  const runs = [];
  for (const count of columns) runs.push(await measure(count));
  const perColumn = (run) => run.peakRssMiB / run.columns;
  const ratio = perColumn(runs.at(-1)) / perColumn(runs[0]);
  const widest = runs.at(-1);
  return {
    title: `Target wide schemas: peak RSS of target-convo-duckdb loading one record of ${columns.map((c) => formatNumber(c, 0)).join(' / ')} columns`,
    figures: [
      figure(`RSS per column at ${formatNumber(widest.columns, 0)} ÷ at ${formatNumber(runs[0].columns, 0)} columns`, ratio, `≤ ${PER_COLUMN_GOAL}×`, ratio <= PER_COLUMN_GOAL, { unit: '×' }),
      figure(`peak RSS at ${formatNumber(widest.columns, 0)} columns`, widest.peakRssMiB, `≤ ${formatNumber(PEAK_GOAL_MIB, 0)} MiB`, widest.peakRssMiB <= PEAK_GOAL_MIB, { unit: ' MiB', digits: 0 }),
      figure(`seconds at ${formatNumber(widest.columns, 0)} columns`, widest.seconds, 'reference', undefined, { unit: ' s', digits: 1 }),
    ],
    details: [
      'One SCHEMA of nullable string columns keyed on an integer id, one RECORD filling every column, one STATE; a fresh database file per run. Seconds include Node start-up.',
      '',
      markdownTable(['columns', 'seconds', 'peak RSS (MiB)', 'KiB per column'], runs.map((r) => [formatNumber(r.columns, 0), formatNumber(r.seconds), formatNumber(r.peakRssMiB, 0), formatNumber((r.peakRssMiB * 1024) / r.columns, 0)])),
    ].join('\n'),
  };
}

if (isMain(import.meta)) {
  const at = process.argv.indexOf('--columns');
  process.stdout.write(formatSection(await benchTargetWide(at > 0 ? { columns: process.argv[at + 1].split(',').map(Number) } : {})));
}
