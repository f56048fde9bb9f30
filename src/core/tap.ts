import type { JsonRecord } from '../protocol/messages.js';
import { PROVIDERS } from '../providers/index.js';
import type { Logger } from '../util/log.js';
import { discover, parseCatalog, planStreams, type Catalog, type StreamPlan } from './catalog.js';
import { createConfigPersister, loadConfig, readJsonFile } from './config.js';
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

export interface PreparedSync {
  config: JsonRecord;
  providers: ProviderDefinition[];
  plans: StreamPlan[];
  state: SingerState;
  persistConfig(providerKey: string, patch: JsonRecord): Promise<void>;
}

/** Reads and checks everything a run needs before the first request, so bad input fails fast (exit 2). */
export function prepareSync(inputs: TapInputs, logger: Logger): PreparedSync {
  const { config, origins } = loadConfig(inputs.configSources, PROVIDERS);
  const providers = PROVIDERS.filter((p) => config[p.key] !== undefined);
  const known = new Set(PROVIDERS.flatMap((p) => p.streams.map((s) => s.name)));
  const catalog = inputs.catalog ?? (inputs.catalogPath ? parseCatalog(readJsonFile(inputs.catalogPath, 'catalog'), known, inputs.catalogPath) : undefined);
  const state = inputs.statePath ? parseState(readJsonFile(inputs.statePath, 'state'), inputs.statePath) : { bookmarks: {} };
  return { config, providers, plans: planStreams(providers, catalog), state, persistConfig: createConfigPersister(origins, logger) };
}

/** The catalog of the providers a config names (live schemas where a provider offers them). */
export function discoverConfigured(inputs: TapInputs, logger: Logger): Promise<Catalog> {
  const { config, origins } = loadConfig(inputs.configSources, PROVIDERS);
  // Discovery may spend a single-use refresh token too, so a rotated one is saved like in a sync.
  return discover(PROVIDERS.filter((p) => config[p.key] !== undefined), config, logger, createConfigPersister(origins, logger));
}
