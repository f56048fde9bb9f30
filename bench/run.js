// The benchmark set: `npm run bench` runs every benchmark in sequence; `node bench/run.js overhead
// memory` runs only those named. Each measures tap-convo against a baseline in the same run; this
// runner prints a summary table and writes it, with each benchmark's section and the machine, to
// bench/results.md.
import { writeFileSync } from 'node:fs';
import { formatNumber, formatSection, machine, markdownTable, verdict } from './lib.js';
import { benchMemory } from './memory.js';
import { benchOverhead } from './overhead.js';
import { benchRateLimit } from './rate-limit.js';
import { benchRequests } from './requests.js';
import { benchTarget, formatFigures } from './target.js';
import { benchTargetMemory } from './target-memory.js';
import { benchTargetWide } from './target-wide.js';

/** target.js keeps its own figures; here they become a section like the others'. */
async function target() {
  const figures = await benchTarget();
  return {
    title: `Target: target-convo-duckdb vs DuckDB read_json (${figures.rows.toLocaleString('en-US')} rows)`,
    figures: [
      { name: 'target rows/s ÷ read_json rows/s', value: figures.ratio, unit: '×', digits: 2, goal: '≥ 1.0', pass: figures.ratio >= 1 },
      { name: 'DuckDB reading the Singer lines itself ÷ read_json (no checks, no upsert)', value: figures.readerRatio, unit: '×', digits: 2, goal: 'reference', pass: undefined },
      { name: "DuckDB doing the target's batches, upsert and commits itself ÷ read_json (no checks)", value: figures.batchedRatio, unit: '×', digits: 2, goal: 'reference', pass: undefined },
    ],
    details: formatFigures(figures),
  };
}

const BENCHES = { target, 'target-memory': benchTargetMemory, 'target-wide': benchTargetWide, overhead: benchOverhead, 'rate-limit': benchRateLimit, requests: benchRequests, memory: benchMemory };

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in BENCHES));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}

const results = [];
for (const [name, bench] of Object.entries(BENCHES)) {
  if (chosen.length && !chosen.includes(name)) continue;
  process.stderr.write(`bench ${name}…\n`);
  const started = performance.now();
  const result = await bench();
  process.stderr.write(`bench ${name} done in ${formatNumber((performance.now() - started) / 1000, 0)} s\n`);
  results.push(result);
}

const host = machine();
const summary = markdownTable(
  ['benchmark', 'figure', 'measured', 'goal', 'result'],
  results.flatMap((r) => r.figures.map((f) => [r.title.split(':')[0], f.name, `${formatNumber(f.value, f.digits)}${f.unit}`, f.goal, verdict(f.pass)])),
);
const report = [
  '# Benchmark results',
  '',
  `Measured ${host.date} on ${host.cores} × ${host.cpu}, ${host.ramGiB} GiB RAM, Node ${host.node}.`,
  '',
  summary,
  '',
  ...results.map(formatSection),
].join('\n');
writeFileSync(new URL('./results.md', import.meta.url), report);
process.stdout.write(report);
