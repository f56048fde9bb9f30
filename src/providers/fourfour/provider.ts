import type { ProviderConfig, ProviderDefinition } from '../../core/definitions.js';
import { bearerAuth, oauthRefreshAuth } from '../../http/auth.js';
import type { JsonSchema } from '../../protocol/messages.js';
import { lookbackSetting, oneCredentialSet, providerBlock, secret, text } from '../settings.js';
import { fourfourPaginator, streamNameOf } from './hooks.js';
import { fetchEntitySetSchemas } from './metadata.js';
import { DEFAULT_LOOKBACK, ENTITY_SETS, fourfourStreams } from './streams.js';

export interface FourfourConfig extends ProviderConfig {
  access_token?: string;
  import_token?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  token_url?: string;
  lookback?: string;
}

const DEFAULT_BASE_URL = 'https://fourfour.ai';

const baseUrlOf = (config: FourfourConfig) => (config.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, '');

export const fourfour: ProviderDefinition<FourfourConfig> = {
  key: 'fourfour',
  title: 'Four/Four',
  defaultBaseUrl: DEFAULT_BASE_URL,
  // https://fourfour.ai/developers/api: no published limit; the client still honours 429 + Retry-After.
  defaultRequestsPerSecond: 10,
  settings: providerBlock(
    'Four/Four',
    {
      access_token: secret('Access token', 'A personal access token or OAuth access token with the api:read scope (Bearer).'),
      import_token: secret('Import token', "A personal access token with the Import data scope, for target-convo's CRM imports (OAuth clients cannot hold that scope); access_token when not set."),
      client_id: text('OAuth client id', 'OAuth client id from Admin > Connections, for refresh-token auth.'),
      client_secret: secret('OAuth client secret', 'OAuth client secret.'),
      refresh_token: secret('OAuth refresh token', 'When the server rotates it, tap-convo saves the new one back to the config file.'),
      token_url: text('Token URL', 'OAuth token endpoint; defaults to <base_url>/oauth/token.', { format: 'uri' }),
      lookback: lookbackSetting(DEFAULT_LOOKBACK, 'Four/Four records can become readable minutes after their created_at or updated time, or be stamped by a server clock behind ours.'),
    },
    { dependencies: { client_id: ['client_secret', 'refresh_token'] } },
  ),
  validate: (config) => oneCredentialSet(config, [['access_token'], ['client_id', 'client_secret', 'refresh_token']]),
  streams: fourfourStreams,
  paginator: fourfourPaginator,
  auth(config, context) {
    if (config.access_token) return bearerAuth(config.access_token);
    return oauthRefreshAuth({
      provider: 'Four/Four',
      // docs/sources.md#fourfour-authentication: the token URL sits on the API host.
      tokenUrl: config.token_url ?? `${baseUrlOf(config)}/oauth/token`,
      timeoutMs: config.request_timeout! * 1000,
      clientId: config.client_id!,
      clientSecret: config.client_secret!,
      refreshToken: config.refresh_token!,
      // docs/sources.md#fourfour-authentication: AMP's client sends the client credentials as request parameters.
      clientAuth: 'body',
      onRotate: (refreshToken) => context.persistConfig({ refresh_token: refreshToken }),
      ensureRotationSavable: () => context.ensurePersistable?.(['refresh_token']),
      credentialHint: 'check fourfour.client_id, fourfour.client_secret and fourfour.refresh_token (re-authorise the OAuth client if the refresh token was revoked)',
    });
  },
  credentialHint: (config) =>
    config.access_token
      ? 'check fourfour.access_token (OAuth access tokens last one day, personal tokens one year)'
      : 'check fourfour.client_id, fourfour.client_secret and fourfour.refresh_token',
  // https://help.alchemer.com/help/odata-api-reference: the user and workspace the token belongs to.
  check: { method: 'GET', path: '/odata/me' },
  async discoverSchemas(config, send, logger) {
    const bySet = await fetchEntitySetSchemas(send, `${baseUrlOf(config)}/odata`);
    const schemas: Record<string, JsonSchema> = {};
    for (const { entitySet, since } of ENTITY_SETS) {
      const schema = bySet.get(entitySet);
      if (!schema) {
        logger.warn(`Four/Four: $metadata has no entity set ${entitySet}; ${streamNameOf(entitySet)} keeps its built-in schema`);
        continue;
      }
      // docs/sources.md#fourfour-paging-and-filters: sources disagree on the filter field (created_at or created), so say when $metadata lacks it.
      if (since && !(since in (schema.properties as object))) {
        logger.warn(`Four/Four: $metadata declares no field ${since} on ${entitySet}, which ${streamNameOf(entitySet)} is filtered and bookmarked on`);
      }
      schemas[streamNameOf(entitySet)] = schema;
    }
    return schemas;
  },
};
