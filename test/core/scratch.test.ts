import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamPlan } from '../../src/core/catalog.js';
import type { ProviderDefinition, Scratch, StreamDefinition } from '../../src/core/definitions.js';
import { absoluteRequest } from '../../src/core/provider-client.js';
import { fillDefaults } from '../../src/core/config.js';
import { runSync } from '../../src/core/runner.js';
import { formatInstant } from '../../src/core/state.js';
import { bearerAuth } from '../../src/http/auth.js';
import { cursorInQuery } from '../../src/pagination/index.js';
import { gong, type GongConfig } from '../../src/providers/gong/provider.js';
import { memoryLogger } from '../helpers/logger.js';

/** Any path answers one record named after it and its `from` filter; /token answers like Gong's OAuth token endpoint. */
let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://scratch');
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/token') return json({ access_token: 'access', expires_in: 3600, api_base_url_for_customer: 'https://us-12345.api.gong.io' });
    json({ records: [{ id: `${url.pathname}:${url.searchParams.get('from') ?? url.searchParams.get('day')}` }] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const NOW = DateTime.fromISO('2026-01-04T00:00:00Z', { zone: 'utc' });

/** Which scratch each hook was handed, in the order they were called. */
function scratchRun() {
  const seen = { transforms: [] as Array<{ record: string; scratch: Scratch }>, auth: [] as Scratch[], baseUrl: [] as Scratch[], beforeSend: [] as Scratch[] };
  const days: StreamDefinition = {
    name: 'scratchy_days',
    primaryKey: ['id'],
    replicationKey: 'at',
    // Two requests per window, as Clari's calls are read in a public and an includePrivate pass.
    request: ({ window }) => ['/a', '/b'].map((path) => ({ method: 'GET' as const, path, query: { from: window?.from && formatInstant(window.from) } })),
    recordsAt: ['records'],
    incremental: { windowSize: 'P1D' },
    transform: (record, ctx) => (seen.transforms.push({ record: String(record.id), scratch: ctx.scratch }), { ...record, day: String(record.id) }),
  };
  const parts: StreamDefinition = {
    name: 'scratchy_parts',
    primaryKey: ['id'],
    parent: { stream: 'scratchy_days', batchSize: 1 },
    request: ({ parents }) => ({ method: 'GET', path: '/parts', query: { day: String(parents[0]!.day) } }),
    recordsAt: ['records'],
    transform: (record, ctx) => (seen.transforms.push({ record: String(record.id), scratch: ctx.scratch }), record),
  };
  const provider: ProviderDefinition = {
    key: 'scratchy',
    title: 'Scratchy',
    defaultBaseUrl: baseUrl,
    defaultRequestsPerSecond: 1000,
    settings: {},
    streams: [days, parts],
    paginator: cursorInQuery('next', 'cursor'),
    auth: (_config, context) => (seen.auth.push(context.scratch), bearerAuth('token')),
    credentialHint: () => 'none',
    baseUrl: (_config, scratch) => (seen.baseUrl.push(scratch), baseUrl),
    beforeSend: (request, run) => (seen.beforeSend.push(run.scratch), request),
    check: { method: 'GET', path: '/a' },
  };
  const plans: StreamPlan[] = [days, parts].map((stream) => ({ provider, stream, schema: {}, knownFields: new Set(), incremental: stream === days }));
  return {
    seen,
    async sync() {
      const options = { config: { start_date: '2026-01-01T00:00:00Z', scratchy: { request_timeout: 60 } }, plans, state: { bookmarks: {} }, logger: memoryLogger(), now: () => NOW, persistConfig: async () => undefined };
      for await (const event of runSync(options)) void event;
    },
  };
}

describe('scratch', () => {
  it('gives every window one scratch for all its requests, and each parent batch its own', async () => {
    const { seen, sync } = scratchRun();
    await sync();
    const scratchOf = (record: string) => seen.transforms.find((t) => t.record === record)!.scratch;
    const windows = ['2026-01-01', '2026-01-02', '2026-01-03'].map((day) => `${day}T00:00:00Z`);
    for (const from of windows) expect(scratchOf(`/a:${from}`)).toBe(scratchOf(`/b:${from}`));
    const all = [...windows.map((from) => scratchOf(`/a:${from}`)), ...windows.flatMap((from) => [scratchOf(`/parts:/a:${from}`), scratchOf(`/parts:/b:${from}`)])];
    expect(new Set(all).size).toBe(all.length);
  });

  it('gives the auth, baseUrl and beforeSend one scratch for the whole run, and the next run a fresh one', async () => {
    const { seen, sync } = scratchRun();
    await sync();
    const [first] = seen.auth;
    expect(seen.auth).toHaveLength(1);
    expect(seen.baseUrl.length).toBeGreaterThan(3);
    expect([...seen.baseUrl, ...seen.beforeSend].every((scratch) => scratch === first)).toBe(true);
    await sync();
    expect(seen.auth).toHaveLength(2);
    expect(seen.auth[1]).not.toBe(first);
    expect(seen.baseUrl.at(-1)).toBe(seen.auth[1]);
  });

  it("keeps Gong's tenant API host from the token answer for the rest of that run only, below a configured base_url", async () => {
    const config = fillDefaults({ gong: { client_id: 'id', client_secret: 'secret', refresh_token: 'refresh', token_url: `${baseUrl}/token` } }, [gong]).gong as GongConfig;
    const scratch: Scratch = new Map();
    expect(absoluteRequest(gong, config, gong.check, scratch).url).toBe('https://api.gong.io/v2/workspaces');
    await gong.auth(config, { persistConfig: async () => undefined, scratch }).headers();
    expect(absoluteRequest(gong, config, gong.check, scratch).url).toBe('https://us-12345.api.gong.io/v2/workspaces');
    // Another run with the same config object has not been told yet.
    expect(absoluteRequest(gong, config, gong.check, new Map()).url).toBe('https://api.gong.io/v2/workspaces');
    expect(absoluteRequest(gong, { ...config, base_url: 'https://proxy.example/gong' }, gong.check, scratch).url).toBe('https://proxy.example/gong/v2/workspaces');
  });
});
