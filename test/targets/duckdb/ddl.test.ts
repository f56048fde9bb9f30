import { describe, expect, it } from 'vitest';
import { columnsOfSchema, planTable, quote, sanitizeIdentifier, tableColumnsFromCatalog } from '../../../src/targets/duckdb/ddl.js';

describe('sanitizeIdentifier', () => {
  it.each([
    ['gong_calls', 'gong_calls'],
    ['firstName', 'firstName'],
    ['first name', 'first_name'],
    ['crm-deals.v2', 'crm_deals_v2'],
    ['2nd', '_2nd'],
    ['', '_'],
    ['café', 'caf_'],
    ['a"b', 'a_b'],
  ])('%j → %j', (name, expected) => {
    expect(sanitizeIdentifier(name)).toBe(expected);
  });

  it('quotes with doubled quotes, for names read back from the catalog', () => {
    expect(quote('select')).toBe('"select"');
    expect(quote('a"b')).toBe('"a""b"');
  });
});

describe('columnsOfSchema', () => {
  it('makes one column per property, in schema order', () => {
    expect(columnsOfSchema({ properties: { id: { type: 'string' }, 'started at': { type: 'string', format: 'date-time' } } })).toEqual([
      { property: 'id', name: 'id', type: 'VARCHAR' },
      { property: 'started at', name: 'started_at', type: 'TIMESTAMPTZ' },
    ]);
  });

  it('refuses properties that differ only in case, as DuckDB identifiers do', () => {
    expect(() => columnsOfSchema({ properties: { Id: { type: 'string' }, id: { type: 'string' } } })).toThrow('properties "Id" and "id" would both be column "id"');
  });
});

describe('planTable', () => {
  const table = '"main"."t"';

  it('creates a missing table', () => {
    expect(planTable(table, undefined, [{ name: 'id', type: 'BIGINT' }, { name: 'at', type: 'TIMESTAMPTZ' }]).statements).toEqual([
      'CREATE TABLE IF NOT EXISTS "main"."t" ("id" BIGINT, "at" TIMESTAMPTZ)',
    ]);
  });

  it('adds new columns and widens changed ones, matching names case-insensitively', () => {
    const existing = tableColumnsFromCatalog([
      { column_name: 'Id', data_type: 'BIGINT' },
      { column_name: 'score', data_type: 'BIGINT' },
      { column_name: 'note', data_type: 'VARCHAR' },
    ]);
    const plan = planTable(table, existing, [
      { name: 'id', type: 'BIGINT' },
      { name: 'score', type: 'DOUBLE' },
      { name: 'note', type: 'BIGINT' },
      { name: 'email', type: 'VARCHAR' },
    ]);
    expect(plan.statements).toEqual(['ALTER TABLE "main"."t" ALTER COLUMN "score" SET DATA TYPE DOUBLE', 'ALTER TABLE "main"."t" ADD COLUMN "email" VARCHAR']);
    expect([...plan.columns.values()].map((c) => `${c.name} ${c.type}`)).toEqual(['Id BIGINT', 'score DOUBLE', 'note VARCHAR', 'email VARCHAR']);
  });

  it('converts a hand-made column of a type we never create to the one of ours that holds it', () => {
    const existing = tableColumnsFromCatalog([{ column_name: 'n', data_type: 'INTEGER' }]);
    expect(planTable(table, existing, [{ name: 'n', type: 'BIGINT' }]).statements).toEqual(['ALTER TABLE "main"."t" ALTER COLUMN "n" SET DATA TYPE BIGINT']);
  });

  it('plans nothing when the table already fits', () => {
    const existing = tableColumnsFromCatalog([{ column_name: 'n', data_type: 'DOUBLE' }]);
    expect(planTable(table, existing, [{ name: 'n', type: 'BIGINT' }]).statements).toEqual([]);
  });
});
