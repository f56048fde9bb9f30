import type { JsonRecord } from '../protocol/messages.js';

/**
 * Settings every provider block accepts (README.md#configuration), with their defaults and bounds. The bounds
 * keep a value from passing the check and then breaking every request: a timer longer than
 * 2^31-1 ms fires after 1 ms instead (https://nodejs.org/api/timers.html#settimeoutcallback-delay-args),
 * so a tiny rate made the limiter spin, and a huge timeout failed each request at once.
 */
export const COMMON_PROVIDER_SETTINGS = {
  base_url: { type: 'string', format: 'uri', title: 'API base URL', description: 'The API root; change it for a regional host or the sandbox.' },
  requests_per_second: { type: 'number', minimum: 0.01, title: 'Requests per second', description: 'Client-side rate limit for this provider.' },
  request_timeout: { type: 'number', minimum: 1, maximum: 3600, default: 60, title: 'Request timeout (s)', description: 'Seconds to wait for an answer before retrying.' },
} as const;

/** A credential setting: hidden in UIs and redacted in output (Airbyte and Meltano conventions). */
export function secret(title: string, description: string): JsonRecord {
  return { type: 'string', title, description, airbyte_secret: true, sensitive: true, writeOnly: true };
}

export function text(title: string, description: string, extra: JsonRecord = {}): JsonRecord {
  return { type: 'string', title, description, ...extra };
}

export function lookbackSetting(defaultValue: string, why: string): JsonRecord {
  return { type: 'string', title: 'Lookback', description: `ISO-8601 duration re-read before the bookmark on every run: ${why}`, default: defaultValue, examples: [defaultValue] };
}

/** The request budget per day or week an API allows; the tap stops at a resumable state before passing it. */
export function requestQuotaSetting(period: 'day' | 'week', defaultValue: number, source: string): JsonRecord {
  return {
    type: 'integer',
    minimum: 1,
    default: defaultValue,
    title: `Request quota per ${period}`,
    description: `${source} tap-convo counts requests across runs in the state and stops at a resumable state before the quota is used up; raise it when support raises your limit.`,
  };
}

/** A provider's config block schema: its own settings plus the ones every provider accepts. */
export function providerBlock(title: string, properties: JsonRecord, extra: JsonRecord = {}): JsonRecord {
  return { type: 'object', title, additionalProperties: false, properties: { ...properties, ...COMMON_PROVIDER_SETTINGS }, ...extra };
}

/** Checks that exactly one of several credential sets is complete. */
export function oneCredentialSet(config: JsonRecord, sets: ReadonlyArray<readonly string[]>): string[] {
  const complete = sets.filter((set) => set.every((key) => config[key] !== undefined && config[key] !== ''));
  if (complete.length === 1) return [];
  const options = sets.map((set) => set.join(' + ')).join(', or ');
  return complete.length === 0 ? [`credentials are missing: set ${options}`] : [`set only one kind of credentials (${options})`];
}
