import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { InputError } from '../util/errors.js';
import { runCommand } from './run.js';

interface SandboxArgs {
  port: number;
  seed: number;
  scale: number;
  faults: number;
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
    .option('config-out', { type: 'string', requiresArg: true, describe: 'Write a tap config for this sandbox to this file' }) as Argv<SandboxArgs>;
}

/** Usage errors exit 2 before anything is served. yargs gathers a flag given twice into an array. */
function checkArgs(args: SandboxArgs): void {
  for (const name of ['port', 'seed', 'scale', 'faults', 'config-out'] as const) {
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
    // Loaded only by this command: the simulated APIs are no part of a sync.
    const { startAllSandboxes } = await import('../sandbox/index.js');
    const sandbox = await startAllSandboxes({ port: args.port, host: HOST, seed: args.seed, scale: args.scale, faults: { rate: args.faults } }).catch((error: unknown) => {
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
