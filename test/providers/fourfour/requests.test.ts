import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../../src/http/client.js';
import { paginate } from '../../../src/pagination/index.js';
import { entitySetPath, fourfourPaginator, streamNameOf } from '../../../src/providers/fourfour/hooks.js';
import { fourfour } from '../../../src/providers/fourfour/provider.js';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const query = (path: string) => new URL(path, 'https://fourfour.ai').searchParams;

describe('Four/Four streams', () => {
  it('declares the 21 entity sets, 16 of them incremental and sorted', () => {
    expect(fourfour.streams).toHaveLength(21);
    const incremental = fourfour.streams.filter((s) => s.replicationKey);
    expect(incremental).toHaveLength(16);
    expect(incremental.every((s) => s.incremental?.sorted)).toBe(true);
    expect(fourfour.streams.filter((s) => !s.replicationKey).map((s) => s.name)).toEqual([
      'fourfour_conversations',
      'fourfour_fragments',
      'fourfour_participants',
      'fourfour_calendar_events',
      'fourfour_labels',
    ]);
  });

  it.each([
    ['TopicModels', 'fourfour_topic_models'],
    ['ChatMessages', 'fourfour_chat_messages'],
    ['TrackerIssues', 'fourfour_tracker_issues'],
    ['Calls', 'fourfour_calls'],
  ])('names %s %s', (set, name) => expect(streamNameOf(set)).toBe(name));

  it('filters an incremental window on [from, to), ordered by the field, with %20 for spaces', () => {
    const path = entitySetPath('Accounts', 'updated', { from: at('2026-01-01T00:00:00Z'), to: at('2026-02-01T12:30:00Z') });
    expect(path).toBe(`/odata/Accounts?$filter=updated%20ge%202026-01-01T00%3A00%3A00Z%20and%20updated%20lt%202026-02-01T12%3A30%3A00Z&$orderby=updated`);
    expect(query(path).get('$filter')).toBe('updated ge 2026-01-01T00:00:00Z and updated lt 2026-02-01T12:30:00Z');
  });

  it('bounds only the end of a window without a start (full history)', () => {
    const params = query(entitySetPath('Insights', 'created_at', { to: at('2026-06-15T12:00:00Z') }));
    expect(params.get('$filter')).toBe('created_at lt 2026-06-15T12:00:00Z');
    expect(params.get('$orderby')).toBe('created_at');
  });

  it('sends no query options for a full-table set', () => {
    expect(entitySetPath('Labels', undefined, undefined)).toBe('/odata/Labels');
  });

  it('asks for pages of 1000 with Prefer: odata.maxpagesize, never $top, which would cap the whole result', () => {
    const first = fourfourPaginator.first!({ method: 'GET', url: 'https://fourfour.ai/odata/Labels', headers: { accept: 'application/json' } });
    expect(first).toEqual({ method: 'GET', url: 'https://fourfour.ai/odata/Labels', headers: { accept: 'application/json', prefer: 'odata.maxpagesize=1000' } });
    for (const window of [undefined, { to: at('2026-02-01T00:00:00Z') }]) expect(query(entitySetPath('Accounts', 'updated', window)).has('$top')).toBe(false);
  });
});

describe('Four/Four next links', () => {
  const request: HttpRequest = { method: 'GET', url: 'https://fourfour.ai/odata/Contacts?$top=2', headers: { prefer: 'x' } };

  it.each([
    ['@odata.nextLink', 'https://fourfour.ai/odata/Contacts?$skip=2&$top=2', 'https://fourfour.ai/odata/Contacts?$skip=2&$top=2'],
    ['@nextLink', 'https://fourfour.ai/odata/Contacts?$skip=2&$top=2', 'https://fourfour.ai/odata/Contacts?$skip=2&$top=2'],
    ['@odata.nextLink', 'Contacts?$skiptoken=abc', 'https://fourfour.ai/odata/Contacts?$skiptoken=abc'],
    ['@nextLink', '/odata/Contacts?$skip=4', 'https://fourfour.ai/odata/Contacts?$skip=4'],
  ])('follows %s %s unchanged, without repeating the first query', (key, link, expected) => {
    const next = fourfourPaginator.next(request, { value: [{}], [key]: link }, [{}]);
    expect(next).toEqual({ method: 'GET', url: expected, headers: request.headers });
  });

  it('stops when no link is given', () => {
    expect(fourfourPaginator.next(request, { value: [{}], '@count': 1 }, [{}])).toBeUndefined();
  });

  it('refuses a link to another host, which would receive the token', () => {
    expect(() => fourfourPaginator.next(request, { '@odata.nextLink': 'https://evil.example/odata/Contacts?$skip=2' }, [])).toThrow(/another host \(https:\/\/evil\.example\)/);
  });

  it('stops with an error when the server repeats a link', async () => {
    const pages = paginate(async () => ({ status: 200, headers: {}, body: { value: [{ id: 1 }], '@nextLink': 'https://fourfour.ai/odata/Contacts?$skip=2' } }), request, fourfourPaginator, (b) => (b as { value: unknown[] }).value);
    await expect(async () => {
      for await (const _ of pages);
    }).rejects.toThrow(/same page position twice/);
  });
});
