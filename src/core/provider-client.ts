import { HttpClient, type HttpRequest } from '../http/client.js';
import type { RetryPolicy } from '../http/retry.js';
import type { JsonRecord } from '../protocol/messages.js';
import type { Logger } from '../util/log.js';
import type { ProviderConfig, ProviderDefinition, RequestSpec, Scratch } from './definitions.js';

export interface ProviderClientOptions {
  logger: Logger;
  /** Saves changed settings (a rotated refresh token) where the config came from. */
  persistConfig?(providerKey: string, patch: JsonRecord): Promise<void>;
  /** Throws unless changed settings could be saved; asked before a single-use credential is spent. */
  ensurePersistable?(providerKey: string, keys: readonly string[]): void;
  retry?: Partial<RetryPolicy>;
  /** The run's scratch, handed to the provider's auth; a fresh one when not given (Airbyte check, discovery). */
  scratch?: Scratch;
}

/** The one HTTP client of a provider for a run: its auth, rate limit, timeout and retry policy. */
export function createProviderClient(provider: ProviderDefinition, config: ProviderConfig, options: ProviderClientOptions): HttpClient {
  return new HttpClient({
    provider: provider.title,
    auth: provider.auth(config, {
      persistConfig: async (patch) => {
        Object.assign(config, patch);
        await options.persistConfig?.(provider.key, patch);
      },
      ensurePersistable: (keys) => options.ensurePersistable?.(provider.key, keys),
      scratch: options.scratch ?? new Map(),
    }),
    credentialHint: provider.credentialHint(config),
    requestsPerSecond: config.requests_per_second ?? provider.defaultRequestsPerSecond,
    timeoutMs: config.request_timeout! * 1000,
    retry: options.retry,
    isFinalAnswer: provider.quota?.isQuotaAnswer,
    logger: options.logger,
  });
}

/** Turns a provider-relative request into an absolute one; outside a sync run (Airbyte check) nothing has been learned yet. */
export function absoluteRequest(provider: ProviderDefinition, config: ProviderConfig, spec: RequestSpec, scratch: Scratch = new Map()): HttpRequest {
  const base = (provider.baseUrl?.(config, scratch) ?? config.base_url ?? provider.defaultBaseUrl).replace(/\/+$/, '');
  return { method: spec.method, url: /^https?:/.test(spec.path) ? spec.path : base + spec.path, query: spec.query, body: spec.body };
}
