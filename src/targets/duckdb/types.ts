import type { JsonSchema } from '../../protocol/messages.js';

/**
 * The DuckDB column types the target creates (README.md#the-duckdb-target). They form a lattice ordered by what
 * a column can hold without loss; `widen` is its join, and VARCHAR, which can hold the text of any
 * JSON value, is the top. A column only ever moves up, so existing rows always survive the ALTER.
 */
export type ColumnType = 'BOOLEAN' | 'BIGINT' | 'HUGEINT' | 'DOUBLE' | 'DATE' | 'TIMESTAMPTZ' | 'JSON' | 'VARCHAR';

/** Pairs whose join is neither of them nor VARCHAR; every other unequal pair widens to VARCHAR. */
const JOINS: ReadonlyArray<[ColumnType, ColumnType, ColumnType]> = [
  ['BIGINT', 'HUGEINT', 'HUGEINT'],
  ['BIGINT', 'DOUBLE', 'DOUBLE'],
  // A date is the midnight (UTC, the target's session time zone) that begins it.
  ['DATE', 'TIMESTAMPTZ', 'TIMESTAMPTZ'],
];

/**
 * The narrowest type that holds every value of both. HUGEINT with DOUBLE gives VARCHAR rather
 * than DOUBLE: a double would round the very integers that made the column HUGEINT.
 */
export function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  for (const [x, y, join] of JOINS) if ((a === x && b === y) || (a === y && b === x)) return join;
  return 'VARCHAR';
}

const INT64_LIMIT = 2 ** 63;
const INT128_LIMIT = 2 ** 127;

/**
 * The integer column type a JSON number needs. The number arrives as a double, so near the limits
 * it may be rounded; rounding is monotonic, so testing `>= 2^63` (and `<= -2^63`) never misses a
 * value outside int64 and at worst widens for one that would just have fitted.
 */
export function integerTypeFor(value: number): ColumnType {
  const magnitude = Math.abs(value);
  if (magnitude < INT64_LIMIT) return 'BIGINT';
  return magnitude < INT128_LIMIT ? 'HUGEINT' : 'VARCHAR';
}

function integerType(schema: JsonSchema): ColumnType {
  const bounds = [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum].filter((b): b is number => typeof b === 'number');
  return bounds.map(integerTypeFor).reduce(widen, 'BIGINT');
}

function typeOfName(name: string, schema: JsonSchema): ColumnType | undefined {
  switch (name) {
    case 'string':
      return schema.format === 'date-time' ? 'TIMESTAMPTZ' : schema.format === 'date' ? 'DATE' : 'VARCHAR';
    case 'integer':
      return integerType(schema);
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'object':
    case 'array':
      return 'JSON';
    default:
      // 'null' adds no values; an unknown name is not ours to guess.
      return name === 'null' ? undefined : 'VARCHAR';
  }
}

/**
 * The column type for one property's JSON Schema: `type` (a name or a list, `"null"` ignored),
 * `anyOf`/`oneOf` members joined with `widen`, and VARCHAR when the schema says nothing usable.
 */
export function columnTypeOf(schema: JsonSchema): ColumnType {
  const found: ColumnType[] = [];
  const names = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  for (const name of names) {
    const type = typeOfName(String(name), schema);
    if (type) found.push(type);
  }
  for (const member of [schema.anyOf, schema.oneOf].flatMap((list) => (Array.isArray(list) ? list : []))) {
    if (member && typeof member === 'object' && !isNullOnly(member as JsonSchema)) found.push(columnTypeOf(member as JsonSchema));
  }
  if (!found.length && !names.length && (schema.properties || schema.items)) return 'JSON';
  return found.length ? found.reduce(widen) : 'VARCHAR';
}

function isNullOnly(schema: JsonSchema): boolean {
  return schema.type === 'null' || (Array.isArray(schema.type) && schema.type.length > 0 && schema.type.every((t) => t === 'null'));
}

/** How DuckDB's catalog spells our types (`duckdb_columns().data_type`), back to ours. */
const CATALOG_NAMES: Record<string, ColumnType> = {
  BOOLEAN: 'BOOLEAN',
  BIGINT: 'BIGINT',
  HUGEINT: 'HUGEINT',
  DOUBLE: 'DOUBLE',
  DATE: 'DATE',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
  JSON: 'JSON',
  VARCHAR: 'VARCHAR',
};

/** Types we never create but that a hand-made table may have, with the type of ours holding them. */
const CONTAINED_IN: Record<string, ColumnType> = { TINYINT: 'BIGINT', SMALLINT: 'BIGINT', INTEGER: 'BIGINT', FLOAT: 'DOUBLE' };

/**
 * An existing column's place in the lattice. `exact` is false for a type we never create: the
 * column then counts as the smallest of our types that holds it (VARCHAR when none does), and the
 * first SCHEMA that names it converts it to that type, so the loader can rely on its type.
 */
export function fromCatalogType(dataType: string): { type: ColumnType; exact: boolean } {
  const name = dataType.toUpperCase();
  const ours = CATALOG_NAMES[name];
  return ours ? { type: ours, exact: true } : { type: CONTAINED_IN[name] ?? 'VARCHAR', exact: false };
}
