import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { withDatabaseFile } from './duckdb.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { ROOT, runBinary, writeJson } from './binary.js';

export interface PipelineOptions {
  /** Tap config file; the tap writes rotated refresh tokens back into it. */
  config: string;
  database: string;
  /** The target's `batch_size_rows`: small batches make it commit, and echo STATE, often. */
  batchSizeRows?: number;
  /** Singer catalog file; absent, the tap syncs its selected-by-default streams. */
  catalog?: string;
  /** Singer state file to resume from. */
  state?: string;
  /** Forward exactly this many bytes of the tap's output, then SIGKILL the tap (the cut may land mid-line). */
  killTapAtByte?: number;
  /** Once this many bytes have reached the target, SIGKILL the target, then the tap, as a dying host would. */
  killTargetAtByte?: number;
  /**
   * Send the tap `signal` once `when` resolves (a moment the test picks: a delay, the n-th request),
   * unless it has exited by then. What `when` notes as it resolves is known to precede the signal.
   */
  signalTap?: { signal: NodeJS.Signals; when: Promise<unknown> };
  /** SIGKILL both if the pipeline has not finished by then. */
  timeoutMs?: number;
}

export interface PipelineRun {
  tapCode: number | null;
  targetCode: number | null;
  /** Every STATE the target emitted, as raw lines, in order. */
  states: string[];
  lastState: string | undefined;
  /** What the tap wrote to stdout, up to the point it was killed. */
  tapOutput: Buffer;
  /** The tap's stderr without metric lines, for assertions and failure messages. */
  tapErrors: string;
}

/**
 * Pipes the real `tap-convo` into the real `target-convo-duckdb` as a scheduler runs them, with an
 * optional SIGKILL of either side at an exact byte of the stream between them.
 */
export function pipeline(options: PipelineOptions): Promise<PipelineRun> {
  return new Promise((resolve, reject) => {
    const tap = spawn(process.execPath, [join(ROOT, 'bin/tap-convo.js'), '--config', options.config, ...(options.catalog ? ['--catalog', options.catalog] : []), ...(options.state ? ['--state', options.state] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    const targetArgs = ['--database', options.database];
    if (options.batchSizeRows !== undefined) targetArgs.push('--config', writeJson(dirname(options.database), `${basename(options.database)}.target.json`, { batch_size_rows: options.batchSizeRows }));
    const target = spawn(process.execPath, [join(ROOT, 'bin/target-convo-duckdb.js'), ...targetArgs], { stdio: ['pipe', 'pipe', 'ignore'] });
    const timer = setTimeout(() => {
      tap.kill('SIGKILL');
      target.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);

    if (options.signalTap) {
      const { signal, when } = options.signalTap;
      void when.then(() => {
        if (tap.exitCode === null && tap.signalCode === null) tap.kill(signal);
      });
    }

    let tapErrors = '';
    tap.stderr.on('data', (chunk: Buffer) => (tapErrors += chunk.toString('utf8')));
    // A dead target closes the pipe under our writes; the tap's exit, not ours, is what is measured.
    target.stdin.on('error', () => undefined);

    const forwarded: Buffer[] = [];
    let bytes = 0;
    let cut = false;
    const cutAt = Math.min(options.killTapAtByte ?? Infinity, options.killTargetAtByte ?? Infinity);
    tap.stdout.on('data', (chunk: Buffer) => {
      if (cut) return;
      const part = bytes + chunk.length >= cutAt ? chunk.subarray(0, cutAt - bytes) : chunk;
      forwarded.push(part);
      bytes += part.length;
      target.stdin.write(part);
      if (bytes < cutAt) return;
      cut = true;
      if (options.killTapAtByte !== undefined && bytes >= options.killTapAtByte) {
        tap.kill('SIGKILL');
        return;
      }
      // The target must have read the bytes before it dies for the kill to land mid-batch, not before it.
      target.stdin.write('', () => {
        target.kill('SIGKILL');
        tap.kill('SIGKILL');
      });
    });

    let tapCode: number | null = null;
    tap.on('close', (code) => {
      tapCode = code;
      target.stdin.end();
    });
    const states: string[] = [];
    let pending = '';
    target.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      states.push(...lines.filter(Boolean));
    });
    tap.on('error', reject);
    target.on('error', reject);
    target.on('close', (code) => {
      clearTimeout(timer);
      const finish = () =>
        resolve({
          tapCode,
          targetCode: code,
          states,
          lastState: states.at(-1),
          tapOutput: Buffer.concat(forwarded),
          tapErrors: tapErrors
            .split('\n')
            .filter((line) => !line.includes('METRIC'))
            .join('\n'),
        });
      if (tap.exitCode !== null || tap.signalCode !== null) finish();
      else tap.once('close', finish);
    });
  });
}

/** Every table of a DuckDB file, rows in a stable order, for comparing whole loads. */
export function tables(database: string): Promise<Record<string, unknown[]>> {
  return withDatabaseFile(database, async (connection) => {
    const out: Record<string, unknown[]> = {};
    const names = (await connection.runAndReadAll(`SELECT table_name FROM information_schema.tables ORDER BY 1`)).getRowObjectsJson().map((r) => String(r.table_name));
    for (const name of names) out[name] = (await connection.runAndReadAll(`SELECT * FROM "${name}" ORDER BY ALL`)).getRowObjectsJson();
    return out;
  });
}

/** Writes a tap config for every provider of `sandbox`: `settings` at the top, `providerSettings` in each block. */
export function writeTapConfig(sandbox: RunningSandbox, path: string, settings: Record<string, unknown>, providerSettings: Record<string, unknown> = {}): string {
  const config = sandbox.tapConfig(settings);
  for (const key of Object.keys(sandbox.baseUrls)) Object.assign(config[key] as object, providerSettings);
  return writeJson(dirname(path), basename(path), config);
}

/** Saves the target's last STATE where `--state` can read it; undefined when the target emitted none. */
export function saveLastState(run: PipelineRun, path: string): string | undefined {
  return run.lastState === undefined ? undefined : writeJson(dirname(path), basename(path), run.lastState);
}

/**
 * Discovers the catalog with `config` and writes it to `path`, with `alsoSelected` streams selected
 * too; with `only`, those streams and no others.
 */
export async function writeCatalog(config: string, path: string, alsoSelected: readonly string[], { only = false } = {}): Promise<string> {
  const discovered = await runBinary('tap-convo', ['--config', config, '--discover']);
  if (discovered.code !== 0) throw new Error(`discovery failed: ${discovered.stderr}`);
  const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
  for (const stream of catalog.streams) {
    const selected = alsoSelected.includes(stream.tap_stream_id);
    if (!selected && !only) continue;
    for (const entry of stream.metadata) if (entry.breadcrumb.length === 0) entry.metadata.selected = selected;
  }
  return writeJson(dirname(path), basename(path), catalog);
}
