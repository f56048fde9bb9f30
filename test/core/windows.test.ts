import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { StreamPlan } from '../../src/core/catalog.js';
import type { ProviderDefinition, StreamDefinition, SyncWindow } from '../../src/core/definitions.js';
import { formatInstant, type Bookmark } from '../../src/core/state.js';
import { planWindows, signpostOf, type WindowInputs } from '../../src/core/windows.js';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const NOW = at('2026-03-01T00:00:00Z');
const provider = { key: 'toy' } as ProviderDefinition;
const items: StreamDefinition = {
  name: 'toy_items',
  primaryKey: ['id'],
  replicationKey: 'at',
  request: () => ({ method: 'GET', path: '/items' }),
  recordsAt: ['items'],
  incremental: { lookback: (config) => String(config.lookback), windowSize: 'P10D' },
};
const notes: StreamDefinition = { ...items, name: 'toy_notes', parent: { stream: 'toy_items', batchSize: 10 } };
const plan = (stream: StreamDefinition, incremental = true): StreamPlan => ({ provider, stream, schema: {}, knownFields: new Set(), incremental });
const bookmark = (iso: string): Bookmark => ({ replication_key: 'at', replication_key_value: iso });

/** The windows of the toy family, as ISO strings. */
function windows(inputs: Partial<WindowInputs>): Array<{ from?: string; to: string } | undefined> {
  const planned = planWindows({ rootStream: items, members: [plan(items)], bookmarks: {}, config: { lookback: 'P2D' }, startDate: undefined, signpost: NOW, ...inputs });
  return planned.map((window?: SyncWindow) => window && { ...(window.from ? { from: formatInstant(window.from) } : {}), to: formatInstant(window.to) });
}

describe('planWindows', () => {
  it('without a bookmark starts at start_date, in windowSize slices up to the signpost', () => {
    expect(windows({ startDate: at('2026-02-05T00:00:00Z') })).toEqual([
      { from: '2026-02-05T00:00:00Z', to: '2026-02-15T00:00:00Z' },
      { from: '2026-02-15T00:00:00Z', to: '2026-02-25T00:00:00Z' },
      { from: '2026-02-25T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    ]);
  });

  it('without a bookmark or start_date reads all history in one window', () => {
    expect(windows({})).toEqual([{ to: '2026-03-01T00:00:00Z' }]);
  });

  it('with a bookmark starts the lookback before it, never before start_date', () => {
    const bookmarks = { toy_items: bookmark('2026-02-25T12:00:00Z') };
    expect(windows({ bookmarks })).toEqual([{ from: '2026-02-23T12:00:00Z', to: '2026-03-01T00:00:00Z' }]);
    expect(windows({ bookmarks, startDate: at('2026-02-24T00:00:00Z') })).toEqual([{ from: '2026-02-24T00:00:00Z', to: '2026-03-01T00:00:00Z' }]);
  });

  it('ends at end_date when it comes before the run starts, and at the run start otherwise', () => {
    const endDate = at('2026-02-10T00:00:00Z');
    expect(signpostOf(NOW, endDate)).toEqual(endDate);
    expect(signpostOf(NOW, NOW.plus({ days: 1 }))).toEqual(NOW);
    expect(signpostOf(NOW, undefined)).toEqual(NOW);
    expect(windows({ startDate: at('2026-02-01T00:00:00Z'), signpost: signpostOf(NOW, endDate) })).toEqual([{ from: '2026-02-01T00:00:00Z', to: '2026-02-10T00:00:00Z' }]);
  });

  it('has no windows when the start is already at the signpost', () => {
    expect(windows({ startDate: NOW })).toEqual([]);
  });

  it('slices without windowSize as one window, and a full-table root as the single undefined window', () => {
    const unsliced = { ...items, incremental: { lookback: items.incremental!.lookback } };
    expect(windows({ rootStream: unsliced, members: [plan(unsliced)], startDate: at('2026-01-01T00:00:00Z') })).toEqual([{ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }]);
    const fullTable = { ...items, replicationKey: undefined, incremental: undefined };
    expect(windows({ rootStream: fullTable, members: [plan(fullTable, false)] })).toEqual([undefined]);
  });

  it('starts at the smallest start among the parent and its children', () => {
    const members = [plan(items), plan(notes)];
    const bookmarks = { toy_items: bookmark('2026-02-27T00:00:00Z'), toy_notes: bookmark('2026-02-20T00:00:00Z') };
    expect(windows({ members, bookmarks })).toEqual([
      { from: '2026-02-18T00:00:00Z', to: '2026-02-28T00:00:00Z' },
      { from: '2026-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    ]);
    // A child without a bookmark needs all history, or start_date on.
    expect(windows({ members, bookmarks: { toy_items: bookmarks.toy_items } })).toEqual([{ to: '2026-03-01T00:00:00Z' }]);
    expect(windows({ members, bookmarks: { toy_items: bookmarks.toy_items }, startDate: at('2026-02-26T00:00:00Z') })).toEqual([{ from: '2026-02-26T00:00:00Z', to: '2026-03-01T00:00:00Z' }]);
    // A member read full table has no bookmark to start from, whatever its state says.
    expect(windows({ members: [plan(items), plan(notes, false)], bookmarks })).toEqual([{ to: '2026-03-01T00:00:00Z' }]);
  });
});
