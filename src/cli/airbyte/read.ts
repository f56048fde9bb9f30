import type { Argv } from 'yargs';
import { readJsonFile } from '../../core/config.js';
import { runSync } from '../../core/runner.js';
import { prepareSync } from '../../core/tap.js';
import { AirbyteEncoder, translateConfiguredCatalog, type AirbyteMessage } from '../../protocol/airbyte.js';
import { PROVIDERS } from '../../providers/index.js';
import { untilInterrupted } from '../run.js';
import { airbyteOptions, readPlatformConfig, runAirbyte, type AirbyteArgs, type AirbyteSession } from './session.js';

export const command = 'read';
export const describe = 'Airbyte: sync the streams of a configured catalog (RECORD, STATE, TRACE, LOG, CONTROL)';

export const builder = (yargs: Argv): Argv<AirbyteArgs> => airbyteOptions(yargs, { config: true, catalog: true });

export async function handler(args: AirbyteArgs): Promise<void> {
  await runAirbyte(args['log-level'], async (session) => {
    const platform = readPlatformConfig(args.config, session.logger);
    try {
      const { catalog, configured } = translateConfiguredCatalog(readJsonFile(args.catalog, 'catalog'), PROVIDERS, args.catalog);
      const prepared = prepareSync({ configSources: platform.sources, statePath: args.state, catalog }, session.logger);
      // A full refresh starts over, so its stream carries no bookmark from an earlier incremental sync.
      for (const plan of prepared.plans) if (!plan.incremental) delete prepared.state.bookmarks[plan.stream.name];
      const encoder = new AirbyteEncoder(prepared.state, platform.document);
      const planned = new Set(prepared.plans.map((plan) => plan.stream.name));
      const unavailable = configured.filter((name) => !planned.has(name));
      for (const name of unavailable) session.logger.warn(`${name}: ${whyUnavailable(name)}; it is not read`);
      await sendAll(session, encoder.incomplete(unavailable));
      try {
        for await (const event of untilInterrupted(runSync({
          config: prepared.config,
          plans: prepared.plans,
          state: prepared.state,
          logger: session.logger,
          // Rotated settings reach the platform as CONTROL (config-changed events); its config file is not ours to rewrite.
          persistConfig: async () => undefined,
        }))) {
          await sendAll(session, encoder.encode(event));
        }
      } catch (error) {
        session.failedStream = encoder.failedStream;
        await sendAll(session, encoder.incomplete(configured));
        throw error;
      }
    } finally {
      platform.dispose();
    }
  });
}

async function sendAll(session: AirbyteSession, messages: readonly AirbyteMessage[]): Promise<void> {
  for (const message of messages) await session.send(message);
}

function whyUnavailable(name: string): string {
  const provider = PROVIDERS.find((p) => p.streams.some((s) => s.name === name));
  return provider
    ? `the config has no ${provider.key} credentials`
    : 'tap-convo has no such stream; refresh the source schema in the connection';
}
