import { describe, expect, it } from 'vitest';
import { parseState } from '../../src/core/state.js';
import { InputError } from '../../src/util/errors.js';

const bookmark = { replication_key: 'started', replication_key_value: '2024-03-01T00:00:00Z' };

describe('parseState accepts every shape an orchestrator hands back', () => {
  it.each([
    ['a Singer state', { bookmarks: { gong_calls: bookmark } }],
    ['a whole STATE message', { type: 'STATE', value: { bookmarks: { gong_calls: bookmark } } }],
    ['Airbyte per-stream states', [{ type: 'STREAM', stream: { stream_descriptor: { name: 'gong_calls' }, stream_state: bookmark } }]],
    ['Airbyte legacy data', { data: { bookmarks: { gong_calls: bookmark } } }],
    ['Meltano state get output', { singer_state: { bookmarks: { gong_calls: bookmark } } }],
  ])('%s', (_name, document) => {
    expect(parseState(document, 's.json')).toEqual({ bookmarks: { gong_calls: bookmark } });
  });

  it('treats an empty object as no state', () => {
    expect(parseState({}, 's.json')).toEqual({ bookmarks: {} });
  });

  it.each([
    ['a non-object', 'hello', 'state s.json: must be a JSON object'],
    ['no bookmarks', { foo: 1 }, 'state s.json: has no "bookmarks" object'],
    ['a bookmark that is not a date', { bookmarks: { gong_calls: { replication_key: 'started', replication_key_value: 'yesterday' } } }, 'bookmark of gong_calls has replication_key_value "yesterday", not a date-time'],
    ['an Airbyte entry without a name', [{ type: 'STREAM', stream: {} }], 'lacks stream.stream_descriptor.name'],
  ])('rejects %s with one clear line', (_name, document, message) => {
    const error = (() => {
      try {
        parseState(document, 's.json');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
