import { describe, expect, it } from 'vitest';
import { createConformer, utcInstant } from '../../src/core/conform.js';

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
    expect(conform({ id: 'a', surprise: 1, deselected: 2 })).toEqual({ id: 'a', n: null, nested: null });
    conform({ id: 'b', surprise: 3 });
    expect(reported).toEqual(['surprise']);
  });

  it('writes declared date-times as the same instant in UTC, at any depth', () => {
    const timed = {
      type: 'object',
      properties: {
        started: { type: 'string', format: 'date-time' },
        label: { type: ['string', 'null'] },
        comments: { type: ['array', 'null'], items: { type: 'object', properties: { posted: { type: ['string', 'null'], format: 'date-time' } } } },
      },
    };
    const conform = createConformer(timed, new Set(), () => undefined);
    expect(conform({ started: '2026-09-04T23:35:23+10:00', label: '2026-09-04T23:35:23+10:00', comments: [{ posted: '2024-02-17T03:30:00-07:00' }, { posted: null }] })).toEqual({
      started: '2026-09-04T13:35:23Z',
      // Only declared date-times are instants; other text is left as sent.
      label: '2026-09-04T23:35:23+10:00',
      comments: [{ posted: '2024-02-17T10:30:00Z' }, { posted: null }],
    });
  });

  it.each([
    ['2016-02-16T03:57:04.834+05:30', '2016-02-15T22:27:04.834Z'],
    ['2020-11-20T21:30:07.233692Z', '2020-11-20T21:30:07.233692Z'],
    ['2026-03-01T00:30:00.5+01:00', '2026-02-28T23:30:00.5Z'],
    ['2020-01-01T00:00:00+0000', '2020-01-01T00:00:00Z'],
    ['2024-12-31T20:00:00-05:00', '2025-01-01T01:00:00Z'],
    ['2026-06-01T12:00+02:00', '2026-06-01T10:00:00Z'],
    ['2026-06-01t12:00:00z', '2026-06-01T12:00:00Z'],
    ['2026-06-01T12:00:00', '2026-06-01T12:00:00Z'],
    ['2026-02-30T12:00:00+01:00', '2026-02-30T12:00:00+01:00'],
    ['yesterday', 'yesterday'],
  ])('utcInstant(%s) is %s', (sent, emitted) => {
    expect(utcInstant(sent)).toBe(emitted);
  });

  it('writes null for a declared top-level field the record lacks, where its schema allows null', () => {
    const sparse = { type: 'object', properties: { id: { type: 'string' }, n: { type: ['integer', 'null'] }, anything: {}, strict: { type: 'string' } } };
    const conform = createConformer(sparse, new Set(), () => undefined);
    expect(conform({ id: 'a', extra: 1 })).toEqual({ id: 'a', n: null, anything: null });
    expect(conform({ id: 'b', n: undefined, strict: 's' })).toEqual({ id: 'b', n: null, anything: null, strict: 's' });
  });
});
