import type { Argv } from 'yargs';
import { loadConfig } from '../../core/config.js';
import type { ProviderConfig, ProviderDefinition } from '../../core/definitions.js';
import { absoluteRequest, createProviderClient, type ProviderClientOptions } from '../../core/provider-client.js';
import { connectionStatusMessage } from '../../protocol/airbyte.js';
import { PROVIDERS } from '../../providers/index.js';
import { InputError, UserFacingError } from '../../util/errors.js';
import { airbyteOptions, announceRotation, readPlatformConfig, runAirbyte, type AirbyteArgs, type PlatformConfig } from './session.js';

export const command = 'check';
export const describe = 'Airbyte: check the config and credentials with one cheap call per provider (CONNECTION_STATUS)';

export const builder = (yargs: Argv): Argv<AirbyteArgs> => airbyteOptions(yargs, { config: true });

/**
 * Airbyte protocol (docs/sources.md#airbyte): a config or credential the user must fix is a FAILED status saying what to fix;
 * only a fault of tap-convo itself becomes an error trace.
 */
export async function handler(args: AirbyteArgs): Promise<void> {
  await runAirbyte(args['log-level'], async (session) => {
    let platform: PlatformConfig | undefined;
    try {
      platform = readPlatformConfig(args.config, session.logger);
      const { config } = loadConfig(platform.sources, PROVIDERS);
      const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
      const options: ProviderClientOptions = {
        logger: session.logger,
        // A single-use refresh token may rotate during the check; the platform must store the new one.
        persistConfig: announceRotation(session, platform, config),
        // A few quick retries: a check should answer within seconds, not wait out an outage.
        retry: { attempts: 3, maxTotalWaitMs: 10_000 },
      };
      const failures: string[] = [];
      for (const provider of providers) {
        const problem = await checkProvider(provider, config[provider.key] as ProviderConfig, options);
        if (problem) failures.push(problem);
      }
      await session.send(
        failures.length
          ? connectionStatusMessage('FAILED', failures.join('; '))
          : connectionStatusMessage('SUCCEEDED', `${providers.map((p) => p.title).join(', ')}: credentials accepted`),
      );
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      await session.send(connectionStatusMessage('FAILED', error.message));
    } finally {
      platform?.dispose();
    }
  });
}

/** Sends the provider's cheapest authenticated request (ProviderDefinition.check); the reason it failed, if it did. */
async function checkProvider(provider: ProviderDefinition, config: ProviderConfig, options: ProviderClientOptions): Promise<string | undefined> {
  const client = createProviderClient(provider, config, options);
  try {
    await client.send(absoluteRequest(provider, config, provider.check));
    return undefined;
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    return error.message;
  } finally {
    await client.close();
  }
}
