import { DateTime } from 'luxon';
import { formatInstant, parseInstant } from '../../src/core/state.js';

/** The newest `key` value among records, written as the tap writes bookmarks: where an incremental run's bookmark belongs. */
export function newestValue(records: ReadonlyArray<Record<string, unknown>> | undefined, key: string): string | undefined {
  const values = (records ?? []).map((record) => parseInstant(record[key])).filter((value): value is DateTime => value !== undefined);
  return values.length ? formatInstant(DateTime.max(...values)!) : undefined;
}
