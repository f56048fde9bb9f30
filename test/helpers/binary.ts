import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BinaryRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

/** Runs one of the package's binaries (built into dist/) as a user would, with a time limit. */
export function runBinary(bin: 'tap-convo' | 'target-convo-duckdb', args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<BinaryRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({
        code,
        signal,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
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

/** Every credential string in a config, for scanning output. */
export function secretsOf(config: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const block of Object.values(config)) {
    if (block && typeof block === 'object') {
      for (const [key, value] of Object.entries(block)) {
        if (typeof value === 'string' && /(_secret|_password|_token)$|^(api_key|access_key)$/.test(key)) found.push(value);
      }
    }
  }
  return found;
}
