import type { Argv } from 'yargs';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';
import { runCommand } from './run.js';

interface DemoArgs {
  database: string;
  'log-level': LogLevel;
}

export const command = 'demo';
export const describe = 'Run the whole pipeline with no accounts: sandbox → every stream → DuckDB, then a summary';

export function builder(yargs: Argv): Argv<DemoArgs> {
  return yargs
    .option('database', { type: 'string', default: 'tap-convo-demo.duckdb', describe: 'DuckDB file to load (its state is kept beside it)' })
    .option('log-level', { choices: LOG_LEVELS, default: 'error' as LogLevel, describe: 'Least severe log level printed on stderr (warning shows retries)' }) as Argv<DemoArgs>;
}

export async function handler(args: DemoArgs): Promise<void> {
  await runCommand(args['log-level'], async (logger) => {
    // Loaded here, not at start-up: DuckDB's native binding and the sandboxes would slow every other command.
    const [{ runDemo }, { demoReport }, { createProgress }] = await Promise.all([import('../demo/pipeline.js'), import('../demo/report.js'), import('../demo/progress.js')]);
    const progress = createProgress(process.stderr);
    const result = await runDemo({ database: args.database, logger, onEvent: progress.onEvent });
    progress.done();
    process.stderr.write((await demoReport(args.database, result)) + '\n');
  });
}
