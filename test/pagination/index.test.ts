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
