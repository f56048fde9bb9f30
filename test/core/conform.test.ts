import { describe, expect, it } from 'vitest';
import { createConformer } from '../../src/core/conform.js';

const schema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    n: { type: ['integer', 'null'] },
    nested: { type: ['object', 'null'], properties: { scorecardId: { type: ['string', 'null'] } } },
    list: { type: 'array', items: { type: 'object', properties: { ref: { type: 'string' } } } },
  },
};

describe('createConformer', () => {
  it('turns numbers into exact strings where the schema declares strings, at any depth', () => {
    const conform = createConformer(schema, new Set(Object.keys(schema.properties)), () => undefined);
    expect(conform({ id: 42, n: 7, nested: { scorecardId: '12345678901234567890', extra: 1 }, list: [{ ref: 5 }] })).toEqual({
      id: '42',
      n: 7,
      nested: { scorecardId: '12345678901234567890', extra: 1 },
      list: [{ ref: '5' }],
    });
  });

  it('drops top-level fields outside the schema and reports each new one once', () => {
    const reported: string[] = [];
    const conform = createConformer(schema, new Set([...Object.keys(schema.properties), 'deselected']), (f) => reported.push(f));
    expect(conform({ id: 'a', surprise: 1, deselected: 2 })).toEqual({ id: 'a' });
    conform({ id: 'b', surprise: 3 });
    expect(reported).toEqual(['surprise']);
  });
});
