import { DateTime, FixedOffsetZone } from 'luxon';
import type { JsonRecord, JsonSchema } from '../protocol/messages.js';

type Conform = (value: unknown) => unknown;

function types(schema: JsonSchema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return type as string[];
  return typeof type === 'string' ? [type] : [];
}

/** A schema without a type accepts anything, null included. */
function allowsNull(schema: JsonSchema): boolean {
  const declared = types(schema);
  return declared.length === 0 || declared.includes('null');
}

/** RFC 3339 §5.6 date-time; the seconds and the offset are optional here, as some APIs leave them out. */
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d)(?::(\d\d))?(\.\d+)?(?:([Zz])|([+-])(\d\d):?(\d\d))?$/;
const CANONICAL_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

/**
 * The same instant written in UTC (`…Z`). Targets that store `date-time` as a timestamp without
 * time zone keep the wall-clock digits and drop the offset, so `23:35:23+10:00` must arrive as
 * `13:35:23Z`. The fraction is copied digit for digit (Gong sends microseconds, more than a
 * DateTime holds); an offset is whole minutes (RFC 3339 §5.6), so it never changes the fraction.
 * A value without an offset is taken as UTC. Text that is no date-time is returned unchanged.
 */
export function utcInstant(text: string): string {
  if (CANONICAL_UTC.test(text)) return text;
  const match = DATE_TIME.exec(text);
  if (!match) return text;
  const [, year, month, day, hour, minute, second = '00', fraction = '', , sign, offsetHours, offsetMinutes] = match;
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) : 0;
  // This runs for most values of a Gong sync: fromObject costs a third of fromISO, and Date's
  // formatting half of luxon's (toISOString is always UTC, its first 19 characters the seconds).
  const local = DateTime.fromObject(
    { year: Number(year), month: Number(month), day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) },
    { zone: FixedOffsetZone.instance(offset) },
  );
  if (!local.isValid) return text;
  return `${new Date(local.toMillis()).toISOString().slice(0, 19)}${fraction}Z`;
}

const fitDateTime: Conform = (value) => (typeof value === 'string' ? utcInstant(value) : value);
const fitString: Conform = (value) => (typeof value === 'number' || typeof value === 'bigint' ? String(value) : value);

/**
 * Compiles a schema into a function that fits values to it: a `date-time` string becomes its UTC
 * instant, a number where a string is declared becomes its exact decimal text (int64 ids), nested
 * arrays and objects are fitted the same way. Undefined when nothing in the schema needs fitting.
 * Values are never dropped below the top level; nested objects keep fields the schema lacks.
 */
function compile(schema: JsonSchema): Conform | undefined {
  const declared = types(schema);
  if (declared.includes('string') && !declared.includes('number') && !declared.includes('integer')) {
    return schema.format === 'date-time' ? fitDateTime : fitString;
  }
  if (declared.includes('array') && schema.items && typeof schema.items === 'object') {
    const item = compile(schema.items as JsonSchema);
    return item && ((value) => (Array.isArray(value) ? value.map(item) : value));
  }
  if (declared.includes('object') && schema.properties) {
    const fields = Object.entries(schema.properties as Record<string, JsonSchema>)
      .map(([key, sub]) => [key, compile(sub)] as const)
      .filter((entry): entry is readonly [string, Conform] => entry[1] !== undefined);
    if (!fields.length) return undefined;
    return (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const out = { ...(value as JsonRecord) };
      for (const [key, fit] of fields) if (key in out) out[key] = fit(out[key]);
      return out;
    };
  }
  return undefined;
}

/**
 * Fits records to a stream's (possibly field-selected) schema: top-level fields outside it are
 * dropped, and `onUnknown` hears once of each field the API sent that the schema lacks. A declared
 * field the record lacks is written as null where its schema allows null, so a target that fixes
 * its columns from the first record still gets every column.
 */
export function createConformer(
  schema: JsonSchema,
  known: ReadonlySet<string>,
  onUnknown: (field: string) => void,
): (record: JsonRecord) => JsonRecord {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const fields = Object.entries(properties).map(([key, sub]) => ({ key, fit: compile(sub), nullable: allowsNull(sub) }));
  const reported = new Set<string>();
  return (record) => {
    const out: JsonRecord = {};
    for (const { key, fit, nullable } of fields) {
      const value = record[key];
      // A transform may set a field it found nowhere to undefined, which JSON leaves out too.
      if (value !== undefined) out[key] = fit ? fit(value) : value;
      else if (nullable) out[key] = null;
    }
    for (const key in record) {
      if (!(key in properties) && !known.has(key) && !reported.has(key)) {
        reported.add(key);
        onUnknown(key);
      }
    }
    return out;
  };
}
