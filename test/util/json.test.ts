import { describe, expect, it } from 'vitest';
import { exactNumber, parseJsonExact, valueAt } from '../../src/util/json.js';

describe('parseJsonExact', () => {
  it.each([
    ['{"id": 12345678901234567890}', { id: '12345678901234567890' }],
    ['[9007199254740993, 9007199254740991, -12345678901234567]', ['9007199254740993', 9007199254740991, '-12345678901234567']],
    ['{"a": {"b": [1, 2.5, 1e3, "1234567890123456789"]}, "t": true, "n": null}', { a: { b: [1, 2.5, 1000, '1234567890123456789'] }, t: true, n: null }],
    ['{"note": "digits 12345678901234567890 inside a string stay a string", "x": 1}', { note: 'digits 12345678901234567890 inside a string stay a string', x: 1 }],
    ['{"s": "a \\"quoted\\" 12345678901234567890 \\\\", "n": 12345678901234567890}', { s: 'a "quoted" 12345678901234567890 \\', n: '12345678901234567890' }],
    ['{"big": 1.2345678901234567891, "exp": 12345678901234567e2, "neg": -98765432109876543210}', { big: 1.2345678901234567891, exp: 12345678901234567e2, neg: '-98765432109876543210' }],
    ['{"safe": 1000000000000000, "list":[12345678901234567890,1]}', { safe: 1000000000000000, list: ['12345678901234567890', 1] }],
  ])('%s', (text, expected) => {
    expect(parseJsonExact(text)).toEqual(expected);
  });

  it('keeps the last of duplicate keys, as JSON.parse does, exact integers included', () => {
    expect(parseJsonExact('{"id": 1, "id": 12345678901234567890, "n": "x", "n": 2}')).toEqual({ id: '12345678901234567890', n: 2 });
  });

  it('rejects a truncated document', () => {
    expect(() => parseJsonExact('{"calls": [{"id": 123456789012345678901')).toThrow();
    expect(() => parseJsonExact('{"calls": [1,')).toThrow();
  });

  it('exactNumber keeps safe numbers as numbers', () => {
    expect(exactNumber('42')).toBe(42);
    expect(exactNumber('0.1')).toBe(0.1);
    expect(exactNumber('123456789012345678')).toBe('123456789012345678');
  });

  it('valueAt reads dotted paths', () => {
    expect(valueAt({ records: { cursor: 'c' } }, 'records.cursor')).toBe('c');
    expect(valueAt({ records: null }, 'records.cursor')).toBeUndefined();
  });
});
