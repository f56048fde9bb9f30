import type { Argv } from 'yargs';
import { about } from '../../protocol/about.js';
import { specMessage } from '../../protocol/airbyte.js';
import { PROVIDERS } from '../../providers/index.js';
import { airbyteOptions, runAirbyte, type AirbyteArgs } from './session.js';

export const command = 'spec';
export const describe = 'Airbyte: print the connector specification (SPEC)';

export const builder = (yargs: Argv): Argv<AirbyteArgs> => airbyteOptions(yargs);

export async function handler(args: AirbyteArgs): Promise<void> {
  // The same settings schema --about publishes, so Meltano, Airbyte and the tap never disagree.
  await runAirbyte(args['log-level'], (session) => session.send(specMessage(about(PROVIDERS).settings)));
}
