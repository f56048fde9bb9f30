// Shared helpers of the benchmark set: a sandbox to measure against, the real tap binary run as a
// child process (wall time, peak RSS, record counts from its METRIC lines), catalogs, the machine
// description and markdown tables. Every bench module returns a `BenchResult`:
//   { title, figures: [{ name, value, unit?, goal, pass }], details }
// where `goal` is text for the table and `pass` is true, false, or undefined for a reference figure.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { startSandbox } from '../dist/sandbox/server.js';
import { createGongSandbox } from '../dist/sandbox/gong/index.js';
import { createClariCopilotSandbox } from '../dist/sandbox/clari-copilot/index.js';
import { createFourfourSandbox } from '../dist/sandbox/fourfour/index.js';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const TAP_BIN = join(ROOT, 'bin', 'tap-convo.js');
export const TARGET_BIN = join(ROOT, 'bin', 'target-convo-duckdb.js');
const GNU_TIME = '/usr/bin/time';

/**
 * The three simulated APIs on loopback, in this process (the measured tap runs in its own). Clari's
 * sandbox answers a seeded share of requests with 502 by default (docs/sources.md#clari-copilot-rate-limits,
 * worse for large pages); `clariFlaky502` keeps that, otherwise it is off so pacing and request counts measure the
 * tap, not its retries (the fault suites cover those).
 */
export function startBenchSandbox({ scale = 1, unlimited = false, seed = 7, clariFlaky502 = false, now } = {}) {
  return startSandbox({
    seed,
    scale,
    unlimited,
    // A clock the bench moves (daily runs); the dataset is anchored on its first day.
    ...(now ? { now } : {}),
    providers: (options) => [
      createGongSandbox(options),
      createClariCopilotSandbox(options, clariFlaky502 ? {} : { flaky502Rate: 0 }),
      createFourfourSandbox(options),
    ],
  });
}

/** The anchor of every sandbox dataset: the start of the UTC day (history lies before it). */
export function sandboxAnchor() {
  return DateTime.utc().startOf('day');
}

/**
 * A tap config for only the `providers` named (a provider is synced when its block is present),
 * over [start, end); `requestsPerSecond` overrides the provider's default client rate.
 */
export function tapConfig(sandbox, providers, { start, end, requestsPerSecond } = {}) {
  const full = sandbox.tapConfig();
  const config = { ...(start ? { start_date: start.toISO() } : {}), ...(end ? { end_date: end.toISO() } : {}) };
  for (const key of providers) config[key] = { ...full[key], ...(requestsPerSecond ? { requests_per_second: requestsPerSecond } : {}) };
  return config;
}

/** A Singer catalog selecting exactly `streams`; the tap fills in each schema from its own files. */
export function catalogOf(streams) {
  return { streams: streams.map((stream) => ({ tap_stream_id: stream, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) };
}

/** A copy of one provider's sandbox traffic counters (`prefix` as in the sandbox URL, e.g. `clari-copilot`). */
export function trafficSnapshot(sandbox, prefix) {
  const { requests, rateLimited, faults, peakPerSecond } = sandbox.traffic[prefix];
  return { requests, rateLimited, faults, peakPerSecond };
}

/** The provider's traffic since `before`, a `trafficSnapshot`; the peak is the sandbox's all-time one. */
export function trafficSince(sandbox, prefix, before) {
  const now = trafficSnapshot(sandbox, prefix);
  return { requests: now.requests - before.requests, rateLimited: now.rateLimited - before.rateLimited, faults: now.faults - before.faults, peakPerSecond: now.peakPerSecond };
}

/**
 * Runs a Node script as a child process with stdout to /dev/null, timing it from spawn to exit. With
 * `measureMemory`, the peak RSS (MiB) comes from GNU time's %M when present, else from the kernel's
 * high-water mark (VmHWM) sampled every 20 ms. `stdin`, a readable stream, is piped to the child's
 * standard input (with backpressure, so it may be generated as it goes); without it stdin is closed.
 */
export async function runNode(script, args, { measureMemory = false, env = {}, stdin, stdoutPath } = {}) {
  const devNull = openSync(stdoutPath ?? '/dev/null', 'w');
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
  const timeFile = join(dir, 'time');
  const useGnuTime = measureMemory && existsSync(GNU_TIME);
  const [command, argv] = useGnuTime ? [GNU_TIME, ['-o', timeFile, '-f', '%M', process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  const started = performance.now();
  const child = spawn(command, argv, { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: [stdin ? 'pipe' : 'ignore', devNull, 'pipe'] });
  // A child that exits early closes the pipe; its exit code, not the write error, is the result.
  const fed = stdin ? pipeline(stdin, child.stdin).catch(() => undefined) : undefined;
  let hwmKiB = 0;
  const sampler = measureMemory && !useGnuTime ? setInterval(() => (hwmKiB = Math.max(hwmKiB, vmHwmKiB(child.pid))), 20) : undefined;
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  try {
    const code = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode) => resolve(exitCode));
    });
    await fed;
    const seconds = (performance.now() - started) / 1000;
    if (useGnuTime) hwmKiB = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
    return { code, seconds, stderr: Buffer.concat(stderr).toString('utf8'), ...(measureMemory ? { peakRssMiB: hwmKiB / 1024 } : {}) };
  } finally {
    clearInterval(sampler);
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}

function vmHwmKiB(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Runs `tap-convo --config … --catalog … [--state …]` against the sandbox; fails loudly unless it
 * exits 0. Returns the timing of `runNode` plus `records` per stream, from the tap's record_count
 * metrics, and with `keepState` the value of the last STATE it printed (stdout goes to a file then).
 */
export async function runTap({ config, streams, measureMemory = false, state, keepState = false }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tap-'));
  try {
    const configPath = join(dir, 'config.json');
    const catalogPath = join(dir, 'catalog.json');
    const statePath = join(dir, 'state.json');
    const stdoutPath = keepState ? join(dir, 'stdout.jsonl') : undefined;
    writeFileSync(configPath, JSON.stringify(config));
    writeFileSync(catalogPath, JSON.stringify(catalogOf(streams)));
    if (state) writeFileSync(statePath, JSON.stringify(state));
    const args = ['--config', configPath, '--catalog', catalogPath, ...(state ? ['--state', statePath] : [])];
    const run = await runNode(TAP_BIN, args, { measureMemory, stdoutPath });
    if (run.code !== 0) throw new Error(`tap-convo exited ${run.code}: ${lastLines(run.stderr)}`);
    return { ...run, records: recordCounts(run.stderr), ...(stdoutPath ? { state: lastState(readFileSync(stdoutPath, 'utf8')) } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastState(stdout) {
  const line = stdout.split('\n').findLast((text) => text.startsWith('{"type":"STATE"'));
  return line ? JSON.parse(line).value : undefined;
}

/** Singer metrics on stderr: `INFO METRIC: {"type":"counter","metric":"record_count","value":N,"tags":{"endpoint":S}}`. */
function recordCounts(stderr) {
  const counts = {};
  for (const match of stderr.matchAll(/METRIC: (\{"type":"counter","metric":"record_count".*\})$/gm)) {
    const metric = JSON.parse(match[1]);
    counts[metric.tags.endpoint] = (counts[metric.tags.endpoint] ?? 0) + metric.value;
  }
  return counts;
}

export function lastLines(text, count = 5) {
  return text.trim().split('\n').filter((line) => !line.includes('METRIC')).slice(-count).join(' | ');
}

/** One line of the results table; `digits` is how many decimals `value` is shown with. */
export function figure(name, value, goal, pass, { unit = '', digits = 2 } = {}) {
  return { name, value, unit, digits, goal, pass };
}

export function formatNumber(value, digits = 2) {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function markdownTable(header, rows) {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function verdict(pass) {
  return pass === undefined ? 'reference' : pass ? 'pass' : 'FAIL';
}

/** CPU model, cores, RAM, Node version and date: what every figure was measured on. */
export function machine() {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: DateTime.utc().toISODate(),
  };
}

/** Lets a bench module run alone: `node bench/<name>.js` prints its section. */
export function isMain(meta) {
  return process.argv[1] !== undefined && fileURLToPath(meta.url) === process.argv[1];
}

export function formatSection(result) {
  const rows = result.figures.map((f) => [f.name, `${formatNumber(f.value, f.digits)}${f.unit}`, f.goal, verdict(f.pass)]);
  return [`## ${result.title}`, '', markdownTable(['figure', 'measured', 'goal', 'result'], rows), '', result.details, ''].join('\n');
}
