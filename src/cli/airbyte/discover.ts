import type { Argv } from 'yargs';
import { discover } from '../../core/catalog.js';
import { loadConfig } from '../../core/config.js';
import { catalogMessage } from '../../protocol/airbyte.js';
import { PROVIDERS } from '../../providers/index.js';
import { airbyteOptions, announceRotation, readPlatformConfig, runAirbyte, type AirbyteArgs } from './session.js';

export const command = 'discover';
export const describe = 'Airbyte: print the streams of the configured providers (CATALOG)';

export const builder = (yargs: Argv): Argv<AirbyteArgs> => airbyteOptions(yargs, { config: true });

export async function handler(args: AirbyteArgs): Promise<void> {
  await runAirbyte(args['log-level'], async (session) => {
    const platform = readPlatformConfig(args.config, session.logger);
    try {
      const { config } = loadConfig(platform.sources, PROVIDERS);
      const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
      const catalog = await discover(providers, config, session.logger, { persistConfig: announceRotation(session, platform, config) });
      await session.send(catalogMessage(catalog, providers));
    } finally {
      platform.dispose();
    }
  });
}
