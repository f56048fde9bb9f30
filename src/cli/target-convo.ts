import { once } from 'node:events';
import { createInterface } from 'node:readline';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createConfigPersister, loadConfig, readJsonFile } from '../core/config.js';
import type { JsonRecord } from '../protocol/messages.js';
import { PROVIDERS } from '../providers/index.js';
import { runConvoTarget, TARGET_SETTINGS } from '../targets/convo/target.js';
import { InputError, SyncError } from '../util/errors.js';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';
import { PACKAGE } from '../util/package.js';
import { runCommand } from './run.js';

interface TargetArgs {
  config: string[];
  state?: string;
  'dry-run'?: boolean;
  'log-level': LogLevel;
}

/** One STATE line on stdout, waiting for the reader when the pipe is full. */
async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(line + '\n')) await once(process.stdout, 'drain');
}

function builder(command: Argv): Argv<TargetArgs> {
  return command
    .option('config', { type: 'string', array: true, demandOption: true, describe: "The tap's config (its provider blocks), plus dry_run and max_rejects; repeat to merge (later wins), ENV for TAP_CONVO_ variables" })
    .option('state', { type: 'string', describe: 'The last STATE this target echoed: what it wrote before, so a rerun writes nothing twice' })
    .option('dry-run', { type: 'boolean', describe: 'Validate and print each request it would send, sending nothing (the dry_run setting)' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Least severe log level printed on stderr' }) as Argv<TargetArgs>;
}

async function handler(args: TargetArgs): Promise<void> {
  await runCommand(args['log-level'], async (logger) => {
    const { config, origins } = loadConfig(args.config, PROVIDERS, process.env, TARGET_SETTINGS);
    if (args['dry-run']) config.dry_run = true;
    const state = args.state === undefined ? undefined : readJsonFile(args.state, 'state');
    if (state !== undefined && (state === null || typeof state !== 'object' || Array.isArray(state))) throw new InputError(`state ${args.state} must hold a JSON object`);
    // readline's async iterator pauses stdin while 1,024 lines wait, so memory stays flat.
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    const summary = await runConvoTarget(lines, writeLine, config, {
      logger,
      persister: createConfigPersister(origins, logger),
      state: state as JsonRecord | undefined,
      reject: (line) => void process.stderr.write(line + '\n'),
    });
    logger.info(`target-convo: ${summary.written} written, ${summary.unchanged} unchanged, ${summary.rejected} rejected${config.dry_run ? ' (dry run: nothing sent)' : ''}`);
    if (summary.rejected) throw new SyncError(`${summary.rejected} record(s) were rejected; each is a JSON line above`);
  });
}

await yargs(hideBin(process.argv))
  .scriptName('target-convo')
  .command('$0', 'Singer target: writes the records on stdin into Gong, Clari Copilot and Four/Four, exactly once per key, echoing each STATE once the records before it were acknowledged or rejected', builder, handler)
  .version(PACKAGE.version)
  .strict()
  .fail((message, error) => {
    process.stderr.write(`CRITICAL ${(error?.message ?? message).replace(/:?\s*\n\s*/g, ': ')}; see target-convo --help\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
