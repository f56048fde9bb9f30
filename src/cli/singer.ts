import type { Argv } from 'yargs';
import { runSync } from '../core/runner.js';
import { discoverConfigured, prepareSync } from '../core/tap.js';
import { about, formatAbout } from '../protocol/about.js';
import type { SingerMessage } from '../protocol/messages.js';
import { LineWriter, toSinger } from '../protocol/singer.js';
import { PROVIDERS } from '../providers/index.js';
import { InputError, Interrupted } from '../util/errors.js';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';
import { runCommand, untilInterrupted } from './run.js';

interface SingerArgs {
  config?: string[];
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
  about?: boolean;
  format: 'text' | 'json' | 'markdown';
  test?: boolean;
  'log-level': LogLevel;
}

export const command = '$0';
export const describe = 'Singer tap: sync (default), --discover, or --about';

export function builder(yargs: Argv): Argv<SingerArgs> {
  return yargs
    .option('config', { type: 'string', array: true, describe: 'Config JSON file, or ENV for TAP_CONVO_* variables; repeat to merge (later wins)' })
    .option('state', { type: 'string', describe: 'State JSON file from an earlier run' })
    .option('catalog', { type: 'string', describe: 'Singer catalog selecting streams and fields' })
    .option('properties', { type: 'string', describe: 'Legacy name for --catalog' })
    .option('discover', { type: 'boolean', describe: 'Print the Singer catalog and exit' })
    .option('about', { type: 'boolean', describe: 'Describe the tap (name, version, capabilities, settings)' })
    .option('format', { choices: ['text', 'json', 'markdown'] as const, default: 'text' as const, describe: 'Format of --about' })
    .option('test', { type: 'boolean', describe: 'Sync one record per stream and stop' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Least severe log level printed on stderr' }) as Argv<SingerArgs>;
}

export async function handler(args: SingerArgs): Promise<void> {
  await runCommand(args['log-level'], async (logger) => {
    if (args.about) {
      process.stdout.write(formatAbout(about(PROVIDERS), args.format) + '\n');
      return;
    }
    if (!args.config?.length) throw new InputError('--config is required: a JSON config file, or ENV to read TAP_CONVO_* variables (see --about)');
    const inputs = { configSources: args.config, statePath: args.state, catalogPath: args.catalog ?? args.properties };
    if (args.discover) {
      process.stdout.write(JSON.stringify(await discoverConfigured(inputs, logger)) + '\n');
      return;
    }
    const prepared = prepareSync(inputs, logger);
    const writer = new LineWriter(process.stdout);
    let lastState: SingerMessage = { type: 'STATE', value: prepared.state };
    try {
      for await (const event of untilInterrupted(runSync({
        config: prepared.config,
        plans: prepared.plans,
        state: prepared.state,
        logger,
        persistConfig: prepared.persistConfig,
        ensurePersistable: prepared.ensurePersistable,
        recordLimit: args.test ? 1 : undefined,
        activateVersion: prepared.config.emit_activate_version_messages === true,
      }))) {
        const message = toSinger(event);
        if (message?.type === 'STATE') await writer.writeNow((lastState = message));
        else if (message) await writer.write(message);
      }
    } catch (error) {
      // Interrupted: the records queued after the last STATE go out, then that STATE again, so the
      // stream ends on the state to resume from; it is never one past the records delivered.
      if (error instanceof Interrupted) await writer.write(lastState);
      throw error;
    } finally {
      // Whatever was emitted before a failure is delivered: its STATE never passes undelivered data.
      await writer.flush();
    }
  });
}
