import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingsSchema } from '../../src/core/config.js';
import { PROVIDERS } from '../../src/providers/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BinaryRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

export interface BinaryOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Credentials the run must not print that no readable config holds (a config that is not valid JSON). */
  secrets?: readonly string[];
  /** Send the run `signal` once `when` resolves, unless it has exited by then. */
  signal?: { signal: NodeJS.Signals; when: Promise<unknown> };
  /** Close the read end of its stdout once this many bytes have come, as `| head -c N` does. */
  closeStdoutAfterBytes?: number;
}

/**
 * Runs one of the package's binaries (built into dist/) as a user would, with a time limit. Every
 * run is scanned for the secrets of the configs it was given (issue 7: zero hits, errors and debug
 * logs included): a hit rejects, so no test can pass while a credential leaks.
 */
export function runBinary(bin: 'tap-convo' | 'target-convo' | 'target-convo-duckdb', args: string[], options: BinaryOptions = {}): Promise<BinaryRun> {
  const env = { PATH: process.env.PATH, ...options.env };
  // Read before the run too: a rotated refresh token replaces the old one in the file.
  const secretsBefore = secretsOfRun(args, env);
  return new Promise<BinaryRun>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let received = 0;
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      received += c.length;
      if (received >= (options.closeStdoutAfterBytes ?? Infinity)) child.stdout.destroy();
    });
    if (options.signal) {
      const { signal, when } = options.signal;
      void when.then(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      });
    }
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const leak = secretLeak(withoutConfigMessages(stdout) + stderr, [...secretsBefore, ...secretsOfRun(args, env), ...(options.secrets ?? [])], `${bin} ${args.join(' ')}`);
      if (leak) {
        reject(leak);
        return;
      }
      resolve({
        code,
        signal,
        stdout,
        stderr,
        // Parsed on first use: a protocol run has one JSON object per line; --about json does not.
        get lines() {
          return stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>);
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function tempDir(prefix = 'tap-convo-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

/**
 * The path of every setting the published settings schema marks secret (Airbyte `airbyte_secret`,
 * Meltano `sensitive`), e.g. `['gong', 'access_key_secret']`: what `--about` tells users is secret.
 */
export const SECRET_SETTINGS: ReadonlyArray<readonly string[]> = secretPaths(settingsSchema(PROVIDERS), []);

function secretPaths(schema: Record<string, unknown>, prefix: string[]): string[][] {
  if (schema.airbyte_secret === true || schema.sensitive === true) return [prefix];
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(properties).flatMap(([name, property]) => secretPaths(property, [...prefix, name]));
}

/**
 * tap-convo redacts strings of four characters or more (src/util/log.ts registerSecret); a shorter
 * one cannot be told apart from ordinary text, so looking for it would only find false alarms.
 */
const MIN_SECRET_LENGTH = 4;

function isSecretValue(value: unknown): value is string {
  return typeof value === 'string' && value.length >= MIN_SECRET_LENGTH;
}

/** Every credential string in a config, for scanning output. */
export function secretsOf(config: Record<string, unknown>): string[] {
  return SECRET_SETTINGS.map((path) => path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), config)).filter(isSecretValue);
}

/** Every credential in `TAP_CONVO_<SETTING>` variables (README.md#commands: nested settings joined with `__`). */
export function secretsOfEnv(env: NodeJS.ProcessEnv): string[] {
  return SECRET_SETTINGS.map((path) => env[`TAP_CONVO_${path.join('__').toUpperCase()}`]).filter(isSecretValue);
}

/** The secrets of the configs a command line names (`--config F`, `--config ENV`) and of its environment. */
function secretsOfRun(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const secrets = secretsOfEnv(env);
  args.forEach((arg, index) => {
    const path = arg === '--config' ? args[index + 1] : undefined;
    if (!path || path === 'ENV') return;
    const config = readConfigQuietly(isAbsolute(path) ? path : join(ROOT, path));
    if (config) secrets.push(...secretsOf(config));
  });
  return secrets;
}

/** A config file's object, or undefined when it is missing or broken (bad-input tests pass those on purpose). */
function readConfigQuietly(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * stdout without Airbyte CONTROL messages (docs/sources.md#airbyte): a connector hands the platform its
 * rotated config (credentials included) in CONNECTOR_CONFIG control messages, by design.
 */
function withoutConfigMessages(stdout: string): string {
  const isControl = (line: string) => line.includes('"CONTROL"') && (JSON.parse(line) as { type?: unknown }).type === 'CONTROL';
  return stdout
    .split('\n')
    .filter((line) => !isControl(line))
    .join('\n');
}

/**
 * An error naming what printed which secrets (masked: enough to recognise one, not to use it),
 * or undefined when `text` holds none of them.
 */
export function secretLeak(text: string, secrets: readonly string[], what: string): Error | undefined {
  const leaks = [...new Set(secrets)].filter((secret) => text.includes(secret));
  if (!leaks.length) return undefined;
  return new Error(`${what} printed ${leaks.length} secret(s) of its config: ${leaks.map((secret) => `${secret.slice(0, 2)}…(${secret.length} chars)`).join(', ')}`);
}
