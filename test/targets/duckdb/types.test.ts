import { describe, expect, it } from 'vitest';
import { columnTypeOf, fromCatalogType, integerTypeFor, widen, type ColumnType } from '../../../src/targets/duckdb/types.js';

describe('columnTypeOf', () => {
  it.each<[string, Record<string, unknown>, ColumnType]>([
    ['string', { type: 'string' }, 'VARCHAR'],
    ['date-time string', { type: 'string', format: 'date-time' }, 'TIMESTAMPTZ'],
    ['date string', { type: 'string', format: 'date' }, 'DATE'],
    ['other formats stay text', { type: 'string', format: 'email' }, 'VARCHAR'],
    ['integer', { type: 'integer' }, 'BIGINT'],
    ['integer bounded within int64', { type: 'integer', minimum: 0, maximum: 9e18 }, 'BIGINT'],
    ['integer bounded beyond int64', { type: 'integer', maximum: 1e20 }, 'HUGEINT'],
    ['integer bounded beyond int128', { type: 'integer', minimum: -1e40 }, 'VARCHAR'],
    ['number', { type: 'number' }, 'DOUBLE'],
    ['boolean', { type: 'boolean' }, 'BOOLEAN'],
    ['object', { type: 'object' }, 'JSON'],
    ['array', { type: 'array', items: { type: 'string' } }, 'JSON'],
    ['nullable string', { type: ['null', 'string'] }, 'VARCHAR'],
    ['nullable date-time', { type: ['string', 'null'], format: 'date-time' }, 'TIMESTAMPTZ'],
    ['integer or number', { type: ['integer', 'number'] }, 'DOUBLE'],
    ['integer or string', { type: ['integer', 'string'] }, 'VARCHAR'],
    ['object or string', { type: ['object', 'string'] }, 'VARCHAR'],
    ['anyOf date-time or null', { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }, 'TIMESTAMPTZ'],
    ['oneOf date or date-time', { oneOf: [{ type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] }, 'TIMESTAMPTZ'],
    ['anyOf object or array', { anyOf: [{ type: 'object' }, { type: 'array' }] }, 'JSON'],
    ['anyOf boolean or integer', { anyOf: [{ type: 'boolean' }, { type: 'integer' }] }, 'VARCHAR'],
    ['properties without a type', { properties: { a: { type: 'string' } } }, 'JSON'],
    ['empty schema', {}, 'VARCHAR'],
    ['only null', { type: 'null' }, 'VARCHAR'],
    ['unknown type name', { type: 'decimal' }, 'VARCHAR'],
  ])('%s → %s', (_name, schema, expected) => {
    expect(columnTypeOf(schema)).toBe(expected);
  });
});

describe('widen', () => {
  it.each<[ColumnType, ColumnType, ColumnType]>([
    ['BIGINT', 'BIGINT', 'BIGINT'],
    ['BIGINT', 'HUGEINT', 'HUGEINT'],
    ['BIGINT', 'DOUBLE', 'DOUBLE'],
    ['HUGEINT', 'DOUBLE', 'VARCHAR'],
    ['DOUBLE', 'VARCHAR', 'VARCHAR'],
    ['DATE', 'TIMESTAMPTZ', 'TIMESTAMPTZ'],
    ['BOOLEAN', 'BIGINT', 'VARCHAR'],
    ['JSON', 'VARCHAR', 'VARCHAR'],
    ['JSON', 'BIGINT', 'VARCHAR'],
  ])('%s with %s → %s, either way round', (a, b, expected) => {
    expect(widen(a, b)).toBe(expected);
    expect(widen(b, a)).toBe(expected);
  });
});

describe('integerTypeFor', () => {
  it('keeps int64 values BIGINT and widens beyond, conservatively at the rounded limits', () => {
    expect(integerTypeFor(0)).toBe('BIGINT');
    expect(integerTypeFor(-9007199254740993)).toBe('BIGINT');
    expect(integerTypeFor(9223372036854774784)).toBe('BIGINT');
    // 2^63 - 1 is not a double; it parses as 2^63, so it widens rather than risk an overflow.
    expect(integerTypeFor(Number('9223372036854775807'))).toBe('HUGEINT');
    expect(integerTypeFor(Number('12345678901234567890'))).toBe('HUGEINT');
    expect(integerTypeFor(-(2 ** 63))).toBe('HUGEINT');
    expect(integerTypeFor(1e40)).toBe('VARCHAR');
  });
});

describe('fromCatalogType', () => {
  it('reads back our own types exactly and places hand-made ones in the lattice', () => {
    expect(fromCatalogType('TIMESTAMP WITH TIME ZONE')).toEqual({ type: 'TIMESTAMPTZ', exact: true });
    expect(fromCatalogType('JSON')).toEqual({ type: 'JSON', exact: true });
    expect(fromCatalogType('INTEGER')).toEqual({ type: 'BIGINT', exact: false });
    expect(fromCatalogType('FLOAT')).toEqual({ type: 'DOUBLE', exact: false });
    expect(fromCatalogType('TIMESTAMP')).toEqual({ type: 'VARCHAR', exact: false });
  });
});
