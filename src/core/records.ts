import { DateTime } from 'luxon';
import type { JsonRecord } from '../protocol/messages.js';
import type { Logger } from '../util/log.js';
import type { StreamPlan } from './catalog.js';
import { createConformer } from './conform.js';
import type { StreamDefinition } from './definitions.js';
import type { SyncEvent } from './events.js';
import { formatInstant, parseInstant } from './state.js';

export interface RecordEmitter {
  count: number;
  /** Child streams: parents read, and parents left out because their request was to be skipped (and why). */
  skipped: { read: number; parents: number; reason?: string };
  readonly full: boolean;
  /** The newest replication-key value emitted so far (incremental streams): what the server has shown. */
  newest?: DateTime;
  emit(records: readonly JsonRecord[], stream: StreamDefinition): Generator<SyncEvent>;
}

/** Fits, de-duplicates and counts one stream's records, and honours the --test record limit. */
export function recordEmitter(plan: StreamPlan, logger: Logger, limit: number, version: number | undefined): RecordEmitter {
  const conform = createConformer(plan.schema, plan.knownFields, (field) =>
    logger.warn(`${plan.stream.name}: the API sent field "${field}", which the schema lacks; it is left out (run --discover after upgrading)`),
  );
  const seen = plan.stream.distinct ? new Set<string>() : undefined;
  const replicationKey = plan.incremental ? plan.stream.replicationKey : undefined;
  let announced = false;
  const emitter: RecordEmitter = {
    count: 0,
    skipped: { read: 0, parents: 0 },
    get full() {
      return emitter.count >= limit;
    },
    *emit(records) {
      if (records.length && !announced) {
        announced = true;
        yield { type: 'stream-status', stream: plan.stream.name, status: 'RUNNING' };
      }
      const timeExtracted = formatInstant(DateTime.utc());
      for (const record of records) {
        if (emitter.full) return;
        if (seen) {
          const key = JSON.stringify(plan.stream.primaryKey.map((k) => record[k]));
          if (seen.has(key)) continue;
          seen.add(key);
        }
        emitter.count++;
        const value = replicationKey === undefined ? undefined : parseInstant(record[replicationKey]);
        if (value && (!emitter.newest || value > emitter.newest)) emitter.newest = value;
        yield { type: 'record', stream: plan.stream.name, record: conform(record), timeExtracted, ...(version === undefined ? {} : { version }) };
      }
    },
  };
  return emitter;
}
