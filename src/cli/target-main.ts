import { once } from 'node:events';
import { createInterface } from 'node:readline';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { readJsonFile } from '../core/config.js';
import { runDuckdbTarget, type TargetConfig } from '../targets/duckdb/index.js';
import { InputError } from '../util/errors.js';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';
import { PACKAGE } from '../util/package.js';
import { runCommand } from './run.js';

interface TargetArgs {
  config?: string[];
  database?: string;
  'log-level': LogLevel;
}

/** Config files merged in order (later wins), then `--database` over them. */
function targetConfig(args: TargetArgs): TargetConfig {
  if (!args.config?.length && !args.database) throw new InputError('give --config T (a JSON file with at least "database") or --database F');
  const merged: Record<string, unknown> = {};
  for (const path of args.config ?? []) {
    const file = readJsonFile(path, 'config');
    if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new InputError(`config ${path} must hold a JSON object`);
    Object.assign(merged, file);
  }
  if (args.database) merged.database = args.database;
  return merged as unknown as TargetConfig;
}

/** One STATE line on stdout, waiting for the reader when the pipe is full. */
async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(line + '\n')) await once(process.stdout, 'drain');
}

function builder(command: Argv): Argv<TargetArgs> {
  return command
    .option('config', { type: 'string', array: true, describe: 'Target config JSON file (database, schema, batch_size_rows, hard_delete, add_record_metadata); repeat to merge (later wins)' })
    .option('database', { type: 'string', describe: 'DuckDB database file; shorthand for a config with only "database"' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Least severe log level printed on stderr' }) as Argv<TargetArgs>;
}

async function handler(args: TargetArgs): Promise<void> {
  await runCommand(args['log-level'], async (logger) => {
    const config = targetConfig(args);
    // readline's async iterator pauses stdin while 1,024 lines wait, so memory stays flat.
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    await runDuckdbTarget(lines, writeLine, config, { logger });
  });
}

await yargs(hideBin(process.argv))
  .scriptName('target-convo-duckdb')
  .command(
    '$0',
    'Singer target: reads Singer messages on stdin into DuckDB tables and echoes each STATE on stdout once the records before it are committed',
    builder,
    handler,
  )
  .version(PACKAGE.version)
  .strict()
  .fail((message, error) => {
    // yargs' own usage errors: one line and exit 2, like every other bad input.
    // Some (invalid choices) span lines; the contract's error is one line.
    process.stderr.write(`CRITICAL ${(error?.message ?? message).replace(/:?\s*\n\s*/g, ': ')}; see target-convo-duckdb --help\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
