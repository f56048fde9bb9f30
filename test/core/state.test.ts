import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { advanceBookmark, parseState } from '../../src/core/state.js';
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

describe('parseState keeps table versions', () => {
  it('keeps a full-table bookmark that carries only a version', () => {
    expect(parseState({ bookmarks: { gong_users: { version: 1718452800000 } } }, 's.json')).toEqual({ bookmarks: { gong_users: { version: 1718452800000 } } });
  });

  it('rejects a version that is not an integer', () => {
    expect(() => parseState({ bookmarks: { gong_users: { version: 'v1' } } }, 's.json')).toThrow('bookmark of gong_users has version "v1", not an integer');
  });
});

describe('advanceBookmark: the bookmark follows what the server returned', () => {
  const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
  const signpost = at('2026-06-15T12:00:00Z');
  const window = { from: at('2026-06-15T11:55:00Z'), to: signpost };

  it('moves to the newest value returned, not to the window end (the tap clock)', () => {
    expect(advanceBookmark(at('2026-06-15T11:00:00Z'), at('2026-06-15T11:58:00Z'), window, signpost)?.toISO()).toBe('2026-06-15T11:58:00.000Z');
  });

  it('never passes the signpost, even for values stamped by a server clock ahead of ours', () => {
    expect(advanceBookmark(undefined, at('2026-06-15T12:30:00Z'), window, signpost)?.toISO()).toBe(signpost.toISO());
  });

  it('never moves back when a lookback re-read returns only older values', () => {
    expect(advanceBookmark(at('2026-06-15T11:59:00Z'), at('2026-06-15T11:56:00Z'), window, signpost)?.toISO()).toBe('2026-06-15T11:59:00.000Z');
  });

  it('keeps its place after an empty window that began before it', () => {
    expect(advanceBookmark(at('2026-06-15T11:59:00Z'), undefined, window, signpost)?.toISO()).toBe('2026-06-15T11:59:00.000Z');
  });

  it('moves to the start of an empty window past it, so empty history is not walked again on every run', () => {
    expect(advanceBookmark(at('2026-01-01T00:00:00Z'), undefined, { from: at('2026-05-16T12:00:00Z'), to: signpost }, signpost)?.toISO()).toBe('2026-05-16T12:00:00.000Z');
  });

  it('stays unset after an unbounded window that returned nothing', () => {
    expect(advanceBookmark(undefined, undefined, { to: signpost }, signpost)).toBeUndefined();
  });
});
