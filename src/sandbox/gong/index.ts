import { Duration } from 'luxon';
import { PeriodQuota } from '../quota.js';
import { rngFor } from '../random.js';
import { recordsVisibleAt, type SandboxOptions, type SandboxProvider } from '../types.js';
import { GONG_PAGE_SIZE, GongApi } from './api.js';
import { GONG_SANDBOX_ACCESS_KEY, GONG_SANDBOX_ACCESS_KEY_SECRET, GongAuth } from './auth.js';
import { CursorCodec } from './cursor.js';
import { GongData } from './data.js';
import { createGongDataset, type GongDataset } from './dataset.js';

export { GONG_PAGE_SIZE } from './api.js';
export {
  GONG_SANDBOX_ACCESS_KEY,
  GONG_SANDBOX_ACCESS_KEY_SECRET,
  GONG_SANDBOX_CLIENT_ID,
  GONG_SANDBOX_CLIENT_SECRET,
  GONG_SANDBOX_REFRESH_TOKEN,
  GONG_TOKEN_PATH,
} from './auth.js';
export type { GongRecord } from './data.js';
export { GONG_OBJECT_NAMES, type GongDataset, type GongDatasetQuery, type GongObjectName } from './dataset.js';
export { NO_CALLS_FOUND } from './errors.js';
export { toGongJson } from './json.js';
export { FULL_CONTENT_SELECTOR, type ContentSelector } from './selector.js';

const PREFIX = 'gong';

export interface GongSandboxSettings {
  /** Calls in the ~90 days of history per unit of `scale`; later calls keep the same pace. Default 300. */
  callsPerScaleUnit?: number;
  /** Users per unit of `scale`. Default 25. */
  usersPerScaleUnit?: number;
  /** Engage flows per unit of `scale`. Default 12. */
  flowsPerScaleUnit?: number;
  /** How far the call history reaches back from the anchor. Default 90 days. */
  history?: Duration;
  /** The longest processing delay after a call ends before the API serves it. Default 20 hours. */
  maxProcessingLatency?: Duration;
  /** OAuth access-token lifetime on the injected clock (Gong's `expires_in`). Default one day. */
  accessTokenLifetime?: Duration;
  /** Cursor lifetime on the injected clock; Gong's is unknown (providers.md §6.2). Default 5 minutes. */
  cursorLifetime?: Duration;
  /** API calls allowed per UTC day of the injected clock (providers.md §1.3: 10,000 by default). */
  dailyQuota?: number;
}

export interface GongSandbox extends SandboxProvider {
  readonly prefix: 'gong';
  readonly configKey: 'gong';
  /** Ground truth: the records this API serves. */
  readonly dataset: GongDataset;
}

/**
 * The simulated Gong API v2 (providers.md §1): calls (basic and extensive), transcripts, users,
 * workspaces and flows under `/v2/`, Basic access-key or OAuth Bearer auth, and the OAuth token
 * endpoint at `/oauth2/generate-customer-token`. The dataset is anchored on the creation day (UTC), so
 * a sandbox restarted the same day serves the same calls.
 */
export function createGongSandbox(options: SandboxOptions, settings: GongSandboxSettings = {}): GongSandbox {
  const anchor = options.now().toUTC().startOf('day');
  const data = new GongData(options.seed, options.scale, anchor, {
    callsPerScaleUnit: settings.callsPerScaleUnit ?? 300,
    usersPerScaleUnit: settings.usersPerScaleUnit ?? 25,
    flowsPerScaleUnit: settings.flowsPerScaleUnit ?? 12,
    history: settings.history ?? Duration.fromObject({ days: 90 }),
    maxProcessingLatency: settings.maxProcessingLatency ?? Duration.fromObject({ hours: 20 }),
  });
  const auth = new GongAuth(options.now, settings.accessTokenLifetime ?? Duration.fromObject({ days: 1 }), rngFor(options.seed, 'gong', 'tokens'));
  const cursors = new CursorCodec(`gong-sandbox-${options.seed}`, settings.cursorLifetime ?? Duration.fromObject({ minutes: 5 }), options.now, GONG_PAGE_SIZE);
  const api = new GongApi(data, auth, cursors, options.now, () => recordsVisibleAt(options), rngFor(options.seed, 'gong', 'request-ids'), PREFIX, new PeriodQuota(settings.dailyQuota ?? 10_000, 'day'));
  return {
    prefix: PREFIX,
    configKey: PREFIX,
    // providers.md §1.3: 3 API calls per second by default.
    requestsPerSecond: 3,
    rateLimited: (retryAfterSeconds) => api.rateLimited(retryAfterSeconds),
    handle: (request) => api.handle(request),
    tapConfig: (baseUrl) => ({ base_url: baseUrl, access_key: GONG_SANDBOX_ACCESS_KEY, access_key_secret: GONG_SANDBOX_ACCESS_KEY_SECRET }),
    dataset: createGongDataset(data, () => recordsVisibleAt(options)),
  };
}
