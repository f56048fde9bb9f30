import type { CommandModule } from 'yargs';
import * as sandbox from './sandbox.js';
import * as singer from './singer.js';

/** Every tap-convo command; each module exports command, describe, builder and handler. */
export const commands = [singer, sandbox] as unknown as CommandModule[];
