import type { JsonRecord, JsonSchema } from '../protocol/messages.js';
import type { SingerState } from './state.js';

/** What a sync produces, before any protocol: the Singer and Airbyte writers encode these. */
export type SyncEvent =
  | { type: 'schema'; stream: string; schema: JsonSchema; keyProperties: string[]; bookmarkProperties: string[] }
  | { type: 'record'; stream: string; record: JsonRecord; timeExtracted: string; version?: number }
  /** `streams` names the streams whose bookmark this state advanced. */
  | { type: 'state'; state: SingerState; streams: string[] }
  | { type: 'activate-version'; stream: string; version: number }
  | { type: 'stream-status'; stream: string; status: 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE' }
  /** A provider's config changed during the run (a rotated refresh token). */
  | { type: 'config-changed'; config: JsonRecord };
