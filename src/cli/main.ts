import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { PACKAGE } from '../util/package.js';
import { commands } from './commands.js';

await yargs(hideBin(process.argv))
  .scriptName('tap-convo')
  .command(commands)
  .version(PACKAGE.version)
  .strict()
  .fail((message, error) => {
    // yargs' own usage errors: one line and exit 2, like every other bad input.
    // Some (invalid choices) span lines; the contract's error is one line.
    process.stderr.write(`CRITICAL ${(error?.message ?? message).replace(/:?\s*\n\s*/g, ': ')}; see tap-convo --help\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
