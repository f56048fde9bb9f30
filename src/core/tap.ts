import type { JsonRecord } from '../protocol/messages.js';
import { PROVIDERS } from '../providers/index.js';
import type { Logger } from '../util/log.js';
import { discover, parseCatalog, planStreams, streamMetadata, type Catalog, type StreamPlan } from './catalog.js';
import { createConfigPersister, loadConfig, readJsonFile, type ConfigPersister } from './config.js';
import type { ProviderDefinition } from './definitions.js';
import { parseState, type SingerState } from './state.js';

export interface TapInputs {
  /** `--config` sources in order: file paths or `ENV`. */
  configSources: readonly string[];
  statePath?: string;
  catalogPath?: string;
  /** An already-parsed catalog (Airbyte's configured catalog, translated). */
  catalog?: Catalog;
}

export interface PreparedSync extends ConfigPersister {
  config: JsonRecord;
  providers: ProviderDefinition[];
  plans: StreamPlan[];
  state: SingerState;
}

/** Reads and checks everything a run needs before the first request, so bad input fails fast (exit 2). */
export function prepareSync(inputs: TapInputs, logger: Logger): PreparedSync {
  const { config, origins } = loadConfig(inputs.configSources, PROVIDERS);
  const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
  const known = new Set(PROVIDERS.flatMap((p) => p.streams.map((s) => s.name)));
  const catalog = inputs.catalog ?? (inputs.catalogPath ? parseCatalog(readJsonFile(inputs.catalogPath, 'catalog'), known, inputs.catalogPath) : undefined);
  const state = inputs.statePath ? parseState(readJsonFile(inputs.statePath, 'state'), inputs.statePath) : { bookmarks: {} };
  const plans = planStreams(providers, catalog);
  warnOfUnconfiguredStreams(catalog, plans, logger);
  return { config, providers, plans, state, ...createConfigPersister(origins, logger) };
}

/** A stream the catalog selects whose provider has no block in the config is skipped; say so, or it looks synced. */
function warnOfUnconfiguredStreams(catalog: Catalog | undefined, plans: readonly StreamPlan[], logger: Logger): void {
  const planned = new Set(plans.map((plan) => plan.stream.name));
  for (const entry of catalog?.streams ?? []) {
    if (planned.has(entry.tap_stream_id) || streamMetadata(entry, []).selected !== true) continue;
    const provider = PROVIDERS.find((p) => p.streams.some((s) => s.name === entry.tap_stream_id))!;
    logger.warn(`catalog selects ${entry.tap_stream_id}, but the config has no ${provider.key} block: skipped`);
  }
}

/** The catalog of the providers a config names (live schemas where a provider offers them). */
export function discoverConfigured(inputs: TapInputs, logger: Logger): Promise<Catalog> {
  const { config, origins } = loadConfig(inputs.configSources, PROVIDERS);
  // Discovery may spend a single-use refresh token too, so a rotated one is saved like in a sync.
  return discover(PROVIDERS.filter((p) => config[p.key] !== undefined), config, logger, createConfigPersister(origins, logger));
}
