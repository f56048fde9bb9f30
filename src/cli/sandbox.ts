import { writeFileSync } from 'node:fs';
import { Duration } from 'luxon';
import type { Argv } from 'yargs';
import { InputError } from '../util/errors.js';
import { runCommand } from './run.js';

interface SandboxArgs {
  port: number;
  seed: number;
  scale: number;
  faults: number;
  'clock-skew'?: string;
  'visibility-lag'?: string;
  scopes?: string;
  'config-out'?: string;
}

const HOST = '127.0.0.1';

export const command = 'sandbox';
export const describe = 'Serve simulated Gong, Clari Copilot and Four/Four APIs on loopback and write a ready tap config';

export function builder(yargs: Argv): Argv<SandboxArgs> {
  return yargs
    .option('port', { type: 'number', default: 0, requiresArg: true, describe: `Port on ${HOST} (0 picks a free one)` })
    .option('seed', { type: 'number', default: 1, requiresArg: true, describe: 'Seed of the generated data' })
    .option('scale', { type: 'number', default: 1, requiresArg: true, describe: 'Multiplies record counts (data is generated, never stored)' })
    .option('faults', { type: 'number', default: 0, requiresArg: true, describe: 'Share of requests (0..1) answered with a fault: 429, 5xx, reset, timeout, truncated body' })
    .option('clock-skew', { type: 'string', requiresArg: true, describe: "How far the APIs' clock runs ahead of the tap's (negative: behind), as an ISO-8601 duration or seconds, e.g. --clock-skew=-PT5M or --clock-skew=-300" })
    .option('visibility-lag', { type: 'string', requiresArg: true, describe: 'How long after its timestamp a record becomes readable, as an ISO-8601 duration or seconds, e.g. PT2M' })
    .option('scopes', { type: 'string', requiresArg: true, describe: 'The scopes the credentials hold, comma-separated (default all); -SCOPE entries take those away from all, e.g. --scopes=-api:stats:scorecards' })
    .option('config-out', { type: 'string', requiresArg: true, describe: 'Write a tap config for this sandbox to this file' }) as Argv<SandboxArgs>;
}

/** Usage errors exit 2 before anything is served. yargs gathers a flag given twice into an array. */
function checkArgs(args: SandboxArgs): void {
  for (const name of ['port', 'seed', 'scale', 'faults', 'clock-skew', 'visibility-lag', 'scopes', 'config-out'] as const) {
    if (Array.isArray(args[name])) throw new InputError(`--${name} was given more than once; give it once`);
  }
  if (!(Number.isInteger(args.port) && args.port >= 0 && args.port <= 65535)) throw new InputError('--port must be a whole number from 0 to 65535 (0 picks a free one)');
  if (!Number.isInteger(args.seed)) throw new InputError('--seed must be a whole number');
  if (!(args.faults >= 0 && args.faults <= 1)) throw new InputError('--faults must be a share between 0 and 1, e.g. 0.1');
  if (!(args.scale > 0)) throw new InputError('--scale must be a positive number');
}

/** Node's listen errors (`code` EADDRINUSE, EACCES, …) as the one line a user acts on. */
function listenProblem(error: unknown, port: number): InputError | undefined {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (syscall !== 'listen') return undefined;
  if (code === 'EADDRINUSE') return new InputError(`--port ${port}: ${HOST}:${port} is already in use; pick another port, or 0 for a free one`);
  return new InputError(`--port ${port}: cannot listen on ${HOST}:${port} (${code}); pick another port, or 0 for a free one`);
}

export async function handler(args: SandboxArgs): Promise<void> {
  await runCommand('info', async (logger) => {
    checkArgs(args);
    const clockSkew = args['clock-skew'] === undefined ? undefined : durationArgument('--clock-skew', args['clock-skew']);
    const visibilityLag = args['visibility-lag'] === undefined ? undefined : durationArgument('--visibility-lag', args['visibility-lag']);
    if (visibilityLag && visibilityLag.toMillis() < 0) throw new InputError('--visibility-lag must not be negative');
    // Loaded only by this command: the simulated APIs are no part of a sync.
    const { startAllSandboxes, SANDBOX_SCOPES } = await import('../sandbox/index.js');
    const scopes = args.scopes === undefined ? undefined : scopesArgument(args.scopes, SANDBOX_SCOPES);
    const sandbox = await startAllSandboxes({ port: args.port, host: HOST, seed: args.seed, scale: args.scale, faults: { rate: args.faults }, clockSkew, visibilityLag, scopes }).catch((error: unknown) => {
      throw listenProblem(error, args.port) ?? error;
    });
    const config = sandbox.tapConfig({ start_date: '2020-01-01T00:00:00Z' });
    const configOut = args['config-out'];
    if (configOut) {
      try {
        writeFileSync(configOut, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
      } catch (error) {
        await sandbox.close();
        throw new InputError(`cannot write --config-out ${configOut}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    for (const [provider, url] of Object.entries(sandbox.baseUrls)) logger.info(`sandbox: ${provider} at ${url}`);
    logger.info(configOut ? `sandbox: tap config written to ${configOut}; Ctrl-C stops` : 'sandbox: running; Ctrl-C stops');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await sandbox.close();
  });
}

/** `a,b` grants those scopes only; `-a,-b` every scope but those. */
function scopesArgument(text: string, known: readonly string[]): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const withheld = entries.filter((entry) => entry.startsWith('-'));
  if (withheld.length > 0 && withheld.length < entries.length) throw new InputError('--scopes takes either scopes to grant or -scopes to take away, not both');
  const named = entries.map((entry) => entry.replace(/^-/, ''));
  const unknown = named.find((scope) => !known.includes(scope));
  if (unknown !== undefined) throw new InputError(`--scopes: ${JSON.stringify(unknown)} is no scope of the sandbox; they are ${known.join(', ')}`);
  return withheld.length > 0 ? known.filter((scope) => !named.includes(scope)) : named;
}

/** An ISO-8601 duration (luxon's reading, signs allowed) or a number of seconds. */
function durationArgument(flag: string, text: string): Duration {
  const duration = /^[-+]?\d+(\.\d+)?$/.test(text.trim()) ? Duration.fromObject({ seconds: Number(text) }) : Duration.fromISO(text.trim());
  if (!duration.isValid || !/\d/.test(text)) throw new InputError(`${flag} must be an ISO-8601 duration or seconds, e.g. -PT5M or -300; got ${JSON.stringify(text)}`);
  return duration;
}
