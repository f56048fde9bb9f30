import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { errorTrace } from '../protocol/airbyte.js';
import { InputError } from '../util/errors.js';
import { PACKAGE } from '../util/package.js';
import { airbyteCommands } from './airbyte/index.js';
import { commands } from './commands.js';

const AIRBYTE_COMMANDS = new Set(airbyteCommands.map((module) => module.command.split(' ')[0]));
const argv = hideBin(process.argv);

await yargs(argv)
  .scriptName('tap-convo')
  .command(commands)
  .version(PACKAGE.version)
  .strict()
  .fail((message, error) => {
    // yargs' own usage errors: one line and exit 2, like every other bad input.
    // Some (invalid choices) span lines; the contract's error is one line.
    const problem = `${(error?.message ?? message).replace(/:?\s*\n\s*/g, ': ')}; see tap-convo --help`;
    // The Airbyte platform reads a failure from stdout, so an Airbyte command reports it there too.
    if (AIRBYTE_COMMANDS.has(argv[0] ?? '')) process.stdout.write(`${JSON.stringify(errorTrace(new InputError(problem)))}\n`);
    process.stderr.write(`CRITICAL ${problem}\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
