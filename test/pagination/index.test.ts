import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../src/http/client.js';
import { cursorInBody, cursorInQuery, nextLink, offset, paginate, singlePage, type Paginator } from '../../src/pagination/index.js';

const base: HttpRequest = { method: 'GET', url: 'https://api.test/odata/Contacts', query: { $top: 2 } };

describe('pagination strategies', () => {
  it.each<[string, Paginator, HttpRequest, unknown, unknown[], HttpRequest | undefined]>([
    ['body cursor continues with the token in the body', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: { filter: { a: 1 } } }, { records: { cursor: 'abc' } }, [1], { method: 'POST', url: 'u', body: { filter: { a: 1 }, cursor: 'abc' } }],
    ['body cursor stops when the cursor is absent', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: {} }, { records: { totalRecords: 3 } }, [1], undefined],
    ['query cursor continues in the query', cursorInQuery('records.cursor', 'cursor'), { method: 'GET', url: 'u', query: { a: '1' } }, { records: { cursor: 'n2' } }, [1], { method: 'GET', url: 'u', query: { a: '1', cursor: 'n2' } }],
    ['offset follows nextPageSkip', offset({ skipParam: 'skip', limitParam: 'limit', pageSize: 25, nextOffsetPath: 'pagination.nextPageSkip', hasMorePath: 'pagination.hasMore' }), { method: 'GET', url: 'u', query: { skip: 0, limit: 25 } }, { pagination: { hasMore: true, nextPageSkip: 25 } }, [1], { method: 'GET', url: 'u', query: { skip: 25, limit: 25 } }],
    ['offset stops on hasMore false', offset({ skipParam: 'skip', limitParam: 'limit', pageSize: 25, hasMorePath: 'pagination.hasMore' }), { method: 'GET', url: 'u', query: { skip: 0, limit: 25 } }, { pagination: { hasMore: false } }, new Array(25).fill(1), undefined],
    ['offset without signals stops on a short page', offset({ skipParam: 'skip', limitParam: 'limit', pageSize: 3 }), { method: 'GET', url: 'u', query: { skip: 3, limit: 3 } }, {}, [1, 2], undefined],
    ['offset without signals advances by the records read', offset({ skipParam: 'skip', limitParam: 'limit', pageSize: 3 }), { method: 'GET', url: 'u', query: { skip: 3, limit: 3 } }, {}, [1, 2, 3], { method: 'GET', url: 'u', query: { skip: 6, limit: 3 } }],
    ['next link (@odata.nextLink, absolute) is followed unchanged', nextLink(['@odata.nextLink', '@nextLink']), base, { '@odata.nextLink': 'https://api.test/odata/Contacts?$skip=2&$top=2' }, [1], { method: 'GET', url: 'https://api.test/odata/Contacts?$skip=2&$top=2', headers: undefined }],
    ['next link (@nextLink, relative) resolves against the request', nextLink(['@odata.nextLink', '@nextLink']), base, { '@nextLink': 'Contacts?$skip=2' }, [1], { method: 'GET', url: 'https://api.test/odata/Contacts?$skip=2', headers: undefined }],
    ['next link stops when absent', nextLink(['@odata.nextLink']), base, { value: [] }, [], undefined],
    ['single page always stops', singlePage, base, { records: { cursor: 'x' } }, [1], undefined],
  ])('%s', (_name, paginator, request, body, records, expected) => {
    expect(paginator.next(request, body, records)).toEqual(expected);
  });

  it.each<[string, Paginator, HttpRequest, string, HttpRequest | undefined]>([
    ['body cursor', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: { filter: {} } }, '{"requestId":"r","records":{"totalRecords":3,"currentPageSize":1,"cursor":"eyJh.b-c"},"calls":[{"id":"1"}]}', { method: 'POST', url: 'u', body: { filter: {}, cursor: 'eyJh.b-c' } }],
    ['body cursor, pretty-printed', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: {} }, '{\n  "records" : {\n    "cursor" : "abc"\n  }\n}', { method: 'POST', url: 'u', body: { cursor: 'abc' } }],
    ['body cursor on the last page', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: {} }, '{"records":{"totalRecords":3},"calls":[]}', undefined],
    ['a cursor inside a nested object is not the top one', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: {} }, '{"records":{"inner":{"cursor":"no"}}}', undefined],
    ['a cursor with an escape is left to the parse', cursorInBody('records.cursor', 'cursor'), { method: 'POST', url: 'u', body: {} }, '{"records":{"cursor":"a\\"b"}}', undefined],
    ['query cursor', cursorInQuery('records.cursor', 'cursor'), { method: 'GET', url: 'u', query: { a: '1' } }, '{"users":[],"records":{"cursor":"n2"}}', { method: 'GET', url: 'u', query: { a: '1', cursor: 'n2' } }],
    ['next link after the records', nextLink(['@odata.nextLink', '@nextLink']), base, '{"value":[{"Id":1}],"@odata.nextLink":"https://api.test/odata/Contacts?$skip=2&$top=2"}', { method: 'GET', url: 'https://api.test/odata/Contacts?$skip=2&$top=2', headers: undefined }],
    ['relative next link', nextLink(['@odata.nextLink', '@nextLink']), base, '{"@nextLink":"Contacts?$skip=2","value":[]}', { method: 'GET', url: 'https://api.test/odata/Contacts?$skip=2', headers: undefined }],
    ['no next link', nextLink(['@odata.nextLink', '@nextLink']), base, '{"value":[]}', undefined],
  ])('peek guesses the next request from the unparsed page: %s', (_name, paginator, request, text, expected) => {
    expect(paginator.peek!(request, text)).toEqual(expected);
    // On a page that says what it means, the guess is what the parsed page gives.
    if (!text.includes('inner') && !text.includes('\\')) expect(paginator.next(request, JSON.parse(text), [])).toEqual(expected);
  });

  it('offset sets skip and limit on the first request', () => {
    expect(offset({ skipParam: 'skip', limitParam: 'limit', pageSize: 25 }).first!({ method: 'GET', url: 'u' })).toEqual({ method: 'GET', url: 'u', query: { skip: 0, limit: 25 } });
  });
});

describe('paginate', () => {
  it('walks pages until the end and extracts records', async () => {
    const bodies = [{ items: [1, 2], next: 'b' }, { items: [3], next: '' }];
    const sent: HttpRequest[] = [];
    const pages = paginate(async (request) => ((sent.push(request), { status: 200, headers: {}, body: bodies[sent.length - 1] })), { method: 'GET', url: 'u' }, cursorInQuery('next', 'page'), (b) => (b as { items: unknown[] }).items);
    const records: unknown[] = [];
    for await (const page of pages) records.push(...page.records);
    expect(records).toEqual([1, 2, 3]);
    expect(sent.map((r) => r.query)).toEqual([undefined, { page: 'b' }]);
  });

  it('asks for the next page before the current one is handed on, and hands on a page before a repeat fails', async () => {
    const bodies = [{ items: [1], next: 'b' }, { items: [2], next: 'b' }];
    const sent: HttpRequest[] = [];
    const pages = paginate(async (request) => ((sent.push(request), { status: 200, headers: {}, body: bodies[sent.length - 1] })), { method: 'GET', url: 'http://x/y' }, cursorInQuery('next', 'page'), (b) => (b as { items: unknown[] }).items);
    const first = await pages.next();
    expect(first.value?.records).toEqual([1]);
    expect(sent.map((r) => r.query)).toEqual([undefined, { page: 'b' }]);
    expect((await pages.next()).value?.records).toEqual([2]);
    await expect(pages.next()).rejects.toThrow('the API returned the same page position twice for /y');
    expect(sent).toHaveLength(2);
  });

  it('refuses to fetch the same page twice (a server repeating its token)', async () => {
    const pages = paginate(async () => ({ status: 200, headers: {}, body: { next: 'same' } }), { method: 'GET', url: 'http://x/y' }, cursorInQuery('next', 'page'), () => []);
    await expect(async () => {
      for await (const _ of pages) void _;
    }).rejects.toThrow('the API returned the same page position twice for /y; stopping to avoid an endless loop');
  });
});

describe('paginate with a paginator that peeks', () => {
  const pageOf = (items: number[], next?: string) => ({ items, ...(next ? { records: { cursor: next } } : {}) });
  const itemsOf = (body: unknown) => (body as { items: unknown[] }).items;

  /** A send answering `bodies` by cursor, showing peek `texts[cursor]` (default: the body's JSON) just before answering. */
  function server(bodies: Record<string, unknown>, texts: Record<string, string> = {}) {
    const events: string[] = [];
    const send = async (request: HttpRequest, peek?: (text: string) => void) => {
      const cursor = (request.query?.cursor as string | undefined) ?? 'first';
      events.push(`sent ${cursor}`);
      // Answers come a turn of the event loop later, as over a socket.
      await new Promise(setImmediate);
      if (!(cursor in bodies)) throw new Error(`no page ${cursor}`);
      peek?.(texts[cursor] ?? JSON.stringify(bodies[cursor]));
      events.push(`answered ${cursor}`);
      return { status: 200, headers: {}, body: bodies[cursor] };
    };
    return { send, events };
  }

  it('sends the guessed next page before the current one is answered, and uses it once the parsed page agrees', async () => {
    const { send, events } = server({ first: pageOf([1], 'b'), b: pageOf([2], 'c'), c: pageOf([3]) });
    const records: unknown[] = [];
    for await (const page of paginate(send, { method: 'GET', url: 'http://x/y' }, cursorInQuery('records.cursor', 'cursor'), itemsOf)) records.push(...page.records);
    expect(records).toEqual([1, 2, 3]);
    expect(events).toEqual(['sent first', 'sent b', 'answered first', 'sent c', 'answered b', 'answered c']);
  });

  it('drops a wrong guess unread, failure and all, and fetches the page the parsed answer names', async () => {
    // A record holding the same keys comes first in the text and fools the guess.
    const first = { items: [{ records: { cursor: 'decoy' } }], records: { cursor: 'b' } };
    const { send, events } = server({ first, b: pageOf([2]) }, { first: '{"items":[{"records":{"cursor":"decoy"}}],"records":{"cursor":"b"}}' });
    const records: unknown[] = [];
    for await (const page of paginate(send, { method: 'GET', url: 'http://x/y' }, cursorInQuery('records.cursor', 'cursor'), itemsOf)) records.push(...page.records);
    expect(records).toEqual([first.items[0], 2]);
    expect(events).toEqual(['sent first', 'sent decoy', 'answered first', 'sent b', 'answered b']);
  });

  it('runs at most one page ahead of the reader', async () => {
    const { send, events } = server({ first: pageOf([1], 'b'), b: pageOf([2], 'c'), c: pageOf([3], 'd'), d: pageOf([4]) });
    const pages = paginate(send, { method: 'GET', url: 'http://x/y' }, cursorInQuery('records.cursor', 'cursor'), itemsOf);
    expect((await pages.next()).value?.records).toEqual([1]);
    for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
    expect(events.filter((e) => e.startsWith('sent'))).toEqual(['sent first', 'sent b']);
    await pages.return(undefined);
  });

  it('does not guess a page position it has already read; the parsed page then stops the loop', async () => {
    const { send, events } = server({ first: pageOf([1], 'b'), b: pageOf([2], 'b') });
    const pages = paginate(send, { method: 'GET', url: 'http://x/y' }, cursorInQuery('records.cursor', 'cursor'), itemsOf);
    await expect(async () => {
      for await (const _ of pages) void _;
    }).rejects.toThrow('the API returned the same page position twice for /y');
    expect(events.filter((e) => e.startsWith('sent'))).toEqual(['sent first', 'sent b']);
  });
});
