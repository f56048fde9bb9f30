import { describe, expect, it } from 'vitest';
import { SingerLineError, decodeSingerLine, type ReadRecordMessage } from '../../src/protocol/singer-reader.js';
import { createLogger } from '../../src/util/log.js';

describe('decodeSingerLine', () => {
  it('decodes each message type, matching the type case-insensitively', () => {
    expect(decodeSingerLine('{"type": "record", "stream": "s", "record": {"a": 1}, "time_extracted": "2024-01-01T00:00:00Z", "version": 7}')).toEqual({
      type: 'RECORD',
      stream: 's',
      record: { a: 1 },
      time_extracted: '2024-01-01T00:00:00Z',
      version: 7,
    });
    expect(decodeSingerLine('{"type": "Schema", "stream": "s", "schema": {"type": "object"}, "key_properties": [], "bookmark_properties": ["b"]}')).toEqual({
      type: 'SCHEMA',
      stream: 's',
      schema: { type: 'object' },
      key_properties: [],
      bookmark_properties: ['b'],
    });
    expect(decodeSingerLine('{"type": "STATE", "value": null}')).toEqual({ type: 'STATE', value: null });
    expect(decodeSingerLine('{"type": "activate_version", "stream": "s", "version": 3}')).toEqual({ type: 'ACTIVATE_VERSION', stream: 's', version: 3 });
  });

  it('ignores an unknown type with a debug line', () => {
    const logs: string[] = [];
    expect(decodeSingerLine('{"type": "BATCH", "stream": "s"}', createLogger('debug', (_level, line) => logs.push(line)))).toBeUndefined();
    expect(logs).toEqual(['DEBUG ignoring a message of unknown type "BATCH"']);
  });

  it.each([
    ['{"type": "RECORD", "stream": "s", "record": {', /^not valid JSON \(.+\)$/, undefined],
    ['[1, 2]', /^a Singer message must be a JSON object$/, undefined],
    ['{"stream": "s"}', /^a Singer message needs "type", a string$/, undefined],
    ['{"type": "RECORD", "record": {}}', /^RECORD needs "stream", a non-empty string$/, undefined],
    ['{"type": "RECORD", "stream": "s", "record": [1]}', /^RECORD needs "record", a JSON object$/, 's'],
    ['{"type": "RECORD", "stream": "s", "record": {}, "time_extracted": 5}', /^RECORD "time_extracted" must be an RFC 3339 string$/, 's'],
    ['{"type": "RECORD", "stream": "s", "record": {}, "version": 1.5}', /^RECORD "version" must be an integer$/, 's'],
    ['{"type": "SCHEMA", "stream": "s", "schema": {}}', /^SCHEMA needs "key_properties", a list of property names \(may be empty\)$/, 's'],
    ['{"type": "SCHEMA", "stream": "s", "schema": true, "key_properties": []}', /^SCHEMA needs "schema", a JSON Schema object$/, 's'],
    ['{"type": "SCHEMA", "stream": "s", "schema": {}, "key_properties": [1]}', /^SCHEMA needs "key_properties"/, 's'],
    ['{"type": "STATE"}', /^STATE needs "value"$/, undefined],
    ['{"type": "ACTIVATE_VERSION", "stream": "s"}', /^ACTIVATE_VERSION "version" must be an integer$/, 's'],
  ])('refuses %s', (line, message, stream) => {
    let thrown: unknown;
    try {
      decodeSingerLine(line);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SingerLineError);
    expect((thrown as SingerLineError).message).toMatch(message);
    expect((thrown as SingerLineError).stream).toBe(stream);
  });
});

describe('decodeSingerLine with repeated keys and huge numbers', () => {
  it('keeps the last of a repeated key, in the record and in the line DuckDB reads, without losing a digit', () => {
    const line = '{"type": "RECORD", "stream": "s", "record": {"id": 12345678901234567890123, "j": {"x": 1, "x": [2, 98765432109876543210]}, "id": 22345678901234567890123, "s": "a\\":b"}}';
    const message = decodeSingerLine(line) as ReadRecordMessage;
    expect(message.record).toEqual({ id: 22345678901234567890123, j: { x: [2, 98765432109876543210] }, s: 'a":b' });
    expect(message.lineKeepingLastKeys).toBe('{"type":"RECORD","stream":"s","record":{"id":22345678901234567890123,"j":{"x":[2,98765432109876543210]},"s":"a\\":b"}}');
  });

  it('leaves a line without repeated keys to be read as it is', () => {
    expect(decodeSingerLine('{"type": "RECORD", "stream": "s", "record": {"a" : 1, "b": {"c": "x"}}}')).not.toHaveProperty('lineKeepingLastKeys');
  });

  it.each(['{"type": "RECORD", "stream": "s", "record": {"n": 1e400}}', '{"type": "RECORD", "stream": "s", "record": {"n": [-1e999]}}', '{"type": "STATE", "value": {"n": 1e309}}'])('refuses %s', (line) => {
    expect(() => decodeSingerLine(line)).toThrow(/^a number is beyond the range of a double \(such as 1e400\) and would become Infinity$/);
  });
});
