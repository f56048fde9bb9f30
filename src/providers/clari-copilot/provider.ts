import { headerAuth } from '../../http/auth.js';
import type { ProviderConfig, ProviderDefinition } from '../../core/definitions.js';
import { singlePage } from '../../pagination/index.js';
import { lookbackSetting, providerBlock, requestQuotaSetting, secret } from '../settings.js';
import { interpretClariError, isWeeklyQuotaAnswer, shapeRequest, WEEKLY_REQUEST_QUOTA } from './hooks.js';
import { clariCopilotStreams } from './streams.js';

export interface ClariCopilotConfig extends ProviderConfig {
  api_key: string;
  api_password: string;
  include_private?: boolean;
  lookback?: string;
  weekly_request_quota?: number;
}

export const clariCopilot: ProviderDefinition<ClariCopilotConfig> = {
  key: 'clari_copilot',
  title: 'Clari Copilot',
  defaultBaseUrl: 'https://rest-api.copilot.clari.com',
  // Clari Copilot OpenAPI, "Rate limit": "Default rate limit is 10 per second".
  defaultRequestsPerSecond: 10,
  settings: providerBlock(
    'Clari Copilot',
    {
      api_key: secret('API key', 'From Copilot > Workspace settings > Integrations > Clari Copilot API; sent as X-Api-Key.'),
      api_password: secret('API password', 'The API secret shown with the key; sent as X-Api-Password.'),
      include_private: { type: 'boolean', default: false, title: 'Include private calls', description: 'Also sync calls marked private in Copilot. Their details (transcripts) are never requested.' },
      lookback: lookbackSetting('P7D', 'Clari moves last_modified_time only when a call changes status, so calls whose call time falls inside it are read again to catch other edits.'),
      weekly_request_quota: requestQuotaSetting('week', WEEKLY_REQUEST_QUOTA, 'Clari allows 100,000 requests per week, the week starting Sunday 00:00 GMT; clari_copilot_call_details costs one request per call.'),
    },
    { required: ['api_key', 'api_password'] },
  ),
  streams: clariCopilotStreams,
  paginator: singlePage,
  // Clari Copilot OpenAPI, "Authentication" (docs/sources.md#clari-copilot-authentication): both headers on every request; either one missing gives 401.
  auth: (config) => headerAuth({ 'X-Api-Key': config.api_key, 'X-Api-Password': config.api_password }),
  credentialHint: () => 'check clari_copilot.api_key and clari_copilot.api_password',
  interpretError: interpretClariError,
  beforeSend: shapeRequest,
  quota: { period: 'week', setting: 'weekly_request_quota', limit: (config) => config.weekly_request_quota!, isQuotaAnswer: isWeeklyQuotaAnswer },
  check: { method: 'GET', path: '/users' },
};
