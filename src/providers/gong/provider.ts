import { basicAuth, bearerAuth, oauthRefreshAuth } from '../../http/auth.js';
import type { ProviderConfig, ProviderDefinition } from '../../core/definitions.js';
import { cursorInBody } from '../../pagination/index.js';
import { lookbackSetting, oneCredentialSet, providerBlock, requestQuotaSetting, secret, text } from '../settings.js';
import { describeGongRefusal, gongErrorNotes, interpretGongError } from './hooks.js';
import { gongStreams } from './streams.js';

export interface GongConfig extends ProviderConfig {
  access_key?: string;
  access_key_secret?: string;
  access_token?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  token_url?: string;
  workspace_id?: string;
  lookback?: string;
  expose_media_urls?: boolean;
  include_private?: boolean;
  daily_request_quota?: number;
}

/** Gong API v2 reference, "Limits": 10,000 API calls per day by default; Gong support can raise it. */
const DAILY_REQUEST_QUOTA = 10_000;

/**
 * The run's scratch key of the regional API host an OAuth tenant's token answer names
 * (api_base_url_for_customer: docs/sources.md#gong-authentication); later requests of the run go there.
 */
const TENANT_BASE_URL = 'gong.tenant_base_url';

export const gong: ProviderDefinition<GongConfig> = {
  key: 'gong',
  title: 'Gong',
  defaultBaseUrl: 'https://api.gong.io',
  // Gong API v2 reference, "Limits": 3 calls per second by default.
  defaultRequestsPerSecond: 3,
  settings: providerBlock(
    'Gong',
    {
      access_key: text('Access key', 'Access key from Gong > Company settings > API (Basic auth).', { airbyte_secret: true, sensitive: true, writeOnly: true }),
      access_key_secret: secret('Access key secret', 'The secret that goes with the access key.'),
      access_token: secret('Access token', 'An OAuth access token (Bearer), instead of an access key.'),
      client_id: text('OAuth client id', 'OAuth app client id, for refresh-token auth.'),
      client_secret: secret('OAuth client secret', 'OAuth app client secret.'),
      refresh_token: secret('OAuth refresh token', 'Single-use: each refresh returns a new one, which tap-convo saves back to the config file.'),
      token_url: text('Token URL', 'OAuth token endpoint.', { default: 'https://app.gong.io/oauth2/generate-customer-token', format: 'uri' }),
      workspace_id: text('Workspace id', 'Only sync calls and flows of this workspace.'),
      lookback: lookbackSetting('P1D', 'Gong makes calls visible hours after they start.'),
      expose_media_urls: { type: 'boolean', default: false, title: 'Media URLs', description: 'Ask for audio/video URLs (valid 8 hours; needs the api:calls:read:media-url scope).' },
      include_private: { type: 'boolean', default: false, title: 'Include private calls', description: 'Also sync calls marked private in Gong (metaData.isPrivate), with their transcripts.' },
      daily_request_quota: requestQuotaSetting('day', DAILY_REQUEST_QUOTA, 'Gong allows 10,000 API calls per UTC day by default.'),
    },
    { dependencies: { access_key: ['access_key_secret'], access_key_secret: ['access_key'], client_id: ['client_secret', 'refresh_token'] } },
  ),
  validate: (config) => oneCredentialSet(config, [['access_key', 'access_key_secret'], ['access_token'], ['client_id', 'client_secret', 'refresh_token']]),
  streams: gongStreams,
  paginator: cursorInBody('records.cursor', 'cursor'),
  auth(config, context) {
    if (config.access_key && config.access_key_secret) return basicAuth(config.access_key, config.access_key_secret);
    if (config.access_token) return bearerAuth(config.access_token);
    return oauthRefreshAuth({
      provider: 'Gong',
      tokenUrl: config.token_url!,
      timeoutMs: config.request_timeout! * 1000,
      clientId: config.client_id!,
      clientSecret: config.client_secret!,
      refreshToken: config.refresh_token!,
      // docs/sources.md#gong-authentication: refresh uses HTTP Basic client authentication.
      clientAuth: 'basic',
      onRotate: (refreshToken) => context.persistConfig({ refresh_token: refreshToken }),
      ensureRotationSavable: () => context.ensurePersistable?.(['refresh_token']),
      onToken: (answer) => {
        if (typeof answer.api_base_url_for_customer === 'string') context.scratch.set(TENANT_BASE_URL, answer.api_base_url_for_customer);
      },
      credentialHint: 'check gong.client_id, gong.client_secret and gong.refresh_token (Gong refresh tokens are single-use)',
    });
  },
  credentialHint: (config) =>
    config.access_key
      ? 'check gong.access_key and gong.access_key_secret'
      : config.access_token
        ? 'check gong.access_token (it may have expired)'
        : 'check gong.client_id, gong.client_secret and gong.refresh_token',
  interpretError: interpretGongError,
  describeRefusal: describeGongRefusal,
  errorNotes: gongErrorNotes,
  // Going over answers 429 with a Retry-After until the day turns (docs/sources.md#gong-rate-limits), which the HTTP client hands back rather than sleep on.
  quota: { period: 'day', setting: 'daily_request_quota', limit: (config) => config.daily_request_quota ?? DAILY_REQUEST_QUOTA },
  check: { method: 'GET', path: '/v2/workspaces' },
  baseUrl: (config, scratch) => config.base_url ?? (scratch.get(TENANT_BASE_URL) as string | undefined),
};
