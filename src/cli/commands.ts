import type { CommandModule } from 'yargs';
import { airbyteCommands } from './airbyte/index.js';
import * as demo from './demo.js';
import * as sandbox from './sandbox.js';
import * as singer from './singer.js';

/** Every tap-convo command; each module exports command, describe, builder and handler. */
export const commands = [singer, sandbox, demo, ...airbyteCommands] as unknown as CommandModule[];
