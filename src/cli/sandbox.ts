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

export const command = 'sandbox';
export const describe = 'Serve simulated Gong, Clari Copilot and Four/Four APIs on loopback and write a ready tap config';

export function builder(yargs: Argv): Argv<SandboxArgs> {
  return yargs
    .option('port', { type: 'number', default: 0, describe: 'Port on 127.0.0.1 (0 picks a free one)' })
    .option('seed', { type: 'number', default: 1, describe: 'Seed of the generated data' })
    .option('scale', { type: 'number', default: 1, describe: 'Multiplies record counts (data is generated, never stored)' })
    .option('faults', { type: 'number', default: 0, describe: 'Share of requests (0..1) answered with a fault: 429, 5xx, reset, timeout, truncated body' })
    .option('config-out', { type: 'string', describe: 'Write a tap config for this sandbox to this file' }) as Argv<SandboxArgs>;
}

export async function handler(args: SandboxArgs): Promise<void> {
  await runCommand('info', async (logger) => {
    if (!(args.faults >= 0 && args.faults <= 1)) throw new InputError('--faults must be a share between 0 and 1, e.g. 0.1');
    if (!(args.scale > 0)) throw new InputError('--scale must be a positive number');
    // Loaded only by this command: the simulated APIs are no part of a sync.
    const { startAllSandboxes } = await import('../sandbox/index.js');
    const sandbox = await startAllSandboxes({ port: args.port, seed: args.seed, scale: args.scale, faults: { rate: args.faults } });
    const config = sandbox.tapConfig({ start_date: '2020-01-01T00:00:00Z' });
    if (args['config-out']) writeFileSync(args['config-out'], JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    for (const [provider, url] of Object.entries(sandbox.baseUrls)) logger.info(`sandbox: ${provider} at ${url}`);
    logger.info(args['config-out'] ? `sandbox: tap config written to ${args['config-out']}; Ctrl-C stops` : 'sandbox: running; Ctrl-C stops');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await sandbox.close();
  });
}
