import type { JsonRecord, JsonSchema } from '../protocol/messages.js';

type Conform = (value: unknown) => unknown;

function types(schema: JsonSchema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return type as string[];
  return typeof type === 'string' ? [type] : [];
}

/**
 * Compiles a schema into a function that fits values to it: a number where a string is declared
 * becomes its exact decimal text (int64 ids), nested arrays and objects are fitted the same way.
 * Values are never dropped below the top level; nested objects keep fields the schema lacks.
 */
function compile(schema: JsonSchema): Conform | undefined {
  const declared = types(schema);
  if (declared.includes('string') && !declared.includes('number') && !declared.includes('integer')) {
    return (value) => (typeof value === 'number' || typeof value === 'bigint' ? String(value) : value);
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
 * dropped, and `onUnknown` hears once of each field the API sent that the schema lacks.
 */
export function createConformer(
  schema: JsonSchema,
  known: ReadonlySet<string>,
  onUnknown: (field: string) => void,
): (record: JsonRecord) => JsonRecord {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const fields = Object.entries(properties).map(([key, sub]) => [key, compile(sub)] as const);
  const reported = new Set<string>();
  return (record) => {
    const out: JsonRecord = {};
    for (const [key, fit] of fields) {
      if (key in record) out[key] = fit ? fit(record[key]) : record[key];
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
