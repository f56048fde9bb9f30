import { describe, expect, it } from 'vitest';
import { exactNumber, parseJsonExact, valueAt } from '../../src/util/json.js';

describe('parseJsonExact', () => {
  it.each([
    ['{"id": 12345678901234567890}', { id: '12345678901234567890' }],
    ['[9007199254740993, 9007199254740991, -12345678901234567]', ['9007199254740993', 9007199254740991, '-12345678901234567']],
    ['{"a": {"b": [1, 2.5, 1e3, "1234567890123456789"]}, "t": true, "n": null}', { a: { b: [1, 2.5, 1000, '1234567890123456789'] }, t: true, n: null }],
    ['{"note": "digits 12345678901234567890 inside a string stay a string", "x": 1}', { note: 'digits 12345678901234567890 inside a string stay a string', x: 1 }],
  ])('%s', async (text, expected) => {
    expect(await parseJsonExact(text)).toEqual(expected);
  });

  it('rejects a truncated document', async () => {
    await expect(parseJsonExact('{"calls": [{"id": 123456789012345678901')).rejects.toThrow();
    await expect(parseJsonExact('{"calls": [1,')).rejects.toThrow();
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
