// The benchmark set: `npm run bench`. Each benchmark measures tap-convo against a baseline in the
// same run and returns a markdown section; this runner prints them and writes bench/results.md
// with the machine they were measured on.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchTarget, formatFigures } from './target.js';

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const sections = [];

const target = await benchTarget();
sections.push(`## Target: target-convo-duckdb vs DuckDB read_json (${target.rows.toLocaleString('en')} rows)\n\n${formatFigures(target)}`);

const report = [`# Benchmark results`, '', `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`, '', ...sections, ''].join('\n');
writeFileSync(new URL('./results.md', import.meta.url), report);
process.stdout.write(report);
