import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FormData, MockAgent } from 'undici';
import { HttpClient, HttpStatusError, TextBody, UncertainWrite, type HttpClientOptions } from '../../src/http/client.js';
import { fillDefaults } from '../../src/core/config.js';
import { basicAuth, oauthRefreshAuth } from '../../src/http/auth.js';
import { gong, type GongConfig } from '../../src/providers/gong/provider.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { SyncError } from '../../src/util/errors.js';
import { memoryLogger } from '../helpers/logger.js';

const ORIGIN = 'http://api.test';

function mockClient(overrides: Partial<HttpClientOptions> = {}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const waits: number[] = [];
  const client = new HttpClient({
    provider: 'Gong',
    auth: basicAuth('key', 'secret-value'),
    credentialHint: 'check gong.access_key and gong.access_key_secret',
    requestsPerSecond: 1000,
    timeoutMs: 60_000,
    logger: memoryLogger(),
    sleep: async (ms) => void waits.push(ms),
    dispatcher: agent,
    retry: { attempts: 4 },
    ...overrides,
  });
  return { client, pool: agent.get(ORIGIN), waits, agent };
}

describe('HttpClient retries', () => {
  it('sends the request as given: method, path, query, JSON body and auth header', async () => {
    const { client, pool } = mockClient();
    let seen: { headers: unknown; body: unknown } | undefined;
    pool
      .intercept({ path: '/v2/flows?flowOwnerEmail=a%40b.c&ids=1&ids=2', method: 'POST' })
      .reply(200, (opts) => {
        seen = { headers: opts.headers, body: opts.body };
        return { ok: true };
      });
    const res = await client.send({ method: 'POST', url: `${ORIGIN}/v2/flows`, query: { flowOwnerEmail: 'a@b.c', ids: [1, 2], skipped: undefined }, body: { filter: {} } });
    expect(res.body).toEqual({ ok: true });
    expect(seen!.body).toBe('{"filter":{}}');
    expect((seen!.headers as Record<string, string>).authorization).toBe('Basic ' + Buffer.from('key:secret-value').toString('base64'));
  });

  it.each([
    ['seconds', '3', 3000],
    ['an HTTP date', new Date(Date.now() + 5000).toUTCString(), 5000],
  ])('obeys Retry-After given in %s', async (_kind, header, expected) => {
    const { client, pool, waits } = mockClient();
    pool.intercept({ path: '/x' }).reply(429, { errors: ['slow down'] }, { headers: { 'retry-after': header } });
    pool.intercept({ path: '/x' }).reply(200, { done: true });
    const res = await client.send({ method: 'GET', url: `${ORIGIN}/x` });
    expect(res.body).toEqual({ done: true });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(expected - 1500);
    expect(waits[0]).toBeLessThanOrEqual(expected);
    expect(client.requests).toMatchObject({ sent: 2, retried: 1, rateLimited: 1 });
  });

  it('never repeats a write marked unsafe once it may have reached the server, but retries it after a 429', async () => {
    const { client, pool } = mockClient();
    pool.intercept({ path: '/create', method: 'POST' }).reply(429, { errors: ['slow down'] }, { headers: { 'retry-after': '1' } });
    pool.intercept({ path: '/create', method: 'POST' }).reply(500, { errors: ['boom'] });
    const error = await client.send({ method: 'POST', url: `${ORIGIN}/create`, body: { a: 1 }, unsafeToRepeat: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UncertainWrite);
    expect((error as Error).message).toBe('POST /create may or may not have been applied (HTTP 500)');
    expect(client.requests).toMatchObject({ sent: 2, retried: 1 });
  });

  it('backs off exponentially on 5xx and fails with a clear message once attempts run out', async () => {
    const { client, pool, waits } = mockClient();
    pool.intercept({ path: '/x' }).reply(503, 'busy').times(4);
    const error = await client.send({ method: 'GET', url: `${ORIGIN}/x` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as Error).message).toBe('Gong: GET /x still failing after 4 attempts (HTTP 503); try again later');
    expect(waits).toHaveLength(3);
    // Full jitter keeps each wait within [ceiling/2, ceiling] of a doubling ceiling.
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual((500 * 2 ** i) / 2);
      expect(w).toBeLessThanOrEqual(500 * 2 ** i);
    });
  });

  it('bounds the total wait even when the server asks for more', async () => {
    const { client, pool } = mockClient({ retry: { attempts: 10, maxTotalWaitMs: 5000 } });
    pool.intercept({ path: '/x' }).reply(429, '', { headers: { 'retry-after': '4' } }).times(3);
    await expect(client.send({ method: 'GET', url: `${ORIGIN}/x` })).rejects.toThrow(/still failing after 2 attempts/);
  });

  it('fails fast on 401 naming the credentials to check, without retrying', async () => {
    const { client, pool, waits } = mockClient();
    pool.intercept({ path: '/x' }).reply(401, { errors: ['bad key'] });
    const error = await client.send({ method: 'GET', url: `${ORIGIN}/x` }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('Gong refused the credentials (HTTP 401 on GET /x); check gong.access_key and gong.access_key_secret');
    expect((error as SyncError).failureType).toBe('config_error');
    expect(waits).toHaveLength(0);
  });

  it('renews OAuth credentials once after a 401 and repeats the request', async () => {
    let refreshes = 0;
    let token = 'old';
    const { client, pool } = mockClient({
      auth: { headers: async () => ({ authorization: `Bearer ${token}` }), refresh: async () => ((token = `new${++refreshes}`), true) },
    });
    pool.intercept({ path: '/x', headers: { authorization: 'Bearer old' } }).reply(401, {});
    pool.intercept({ path: '/x', headers: { authorization: 'Bearer new1' } }).reply(200, { ok: 1 });
    expect((await client.send({ method: 'GET', url: `${ORIGIN}/x` })).body).toEqual({ ok: 1 });
    expect(refreshes).toBe(1);
  });

  it('hands other 4xx answers to the caller with their parsed body', async () => {
    const { client, pool } = mockClient();
    pool.intercept({ path: '/x' }).reply(404, { errors: ['No calls found corresponding to the provided filters'] });
    const error = await client.send({ method: 'GET', url: `${ORIGIN}/x` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect((error as HttpStatusError).body).toEqual({ errors: ['No calls found corresponding to the provided filters'] });
  });

  it('keeps every digit of long integer ids', async () => {
    const { client, pool } = mockClient();
    pool.intercept({ path: '/x' }).reply(200, '{"scorecardId": 12345678901234567890, "small": 42, "f": 1.5}', { headers: { 'content-type': 'application/json' } });
    expect((await client.send({ method: 'GET', url: `${ORIGIN}/x` })).body).toEqual({ scorecardId: '12345678901234567890', small: 42, f: 1.5 });
  });
});

function realClientOptions(requestsPerSecond: number): HttpClientOptions {
  return {
    provider: 'Gong',
    auth: basicAuth('k', 'secret-value'),
    credentialHint: 'check gong.access_key',
    requestsPerSecond,
    concurrency: 8,
    logger: memoryLogger(),
    sleep: async () => undefined,
    retry: { attempts: 5 },
    timeoutMs: 500,
  };
}

describe('HttpClient against a real loopback server', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function realClient(requestsPerSecond: number) {
    return new HttpClient(realClientOptions(requestsPerSecond));
  }

  it('sends a TextBody under its own media type and a FormData as multipart, each again on a retry', async () => {
    const seen: Array<{ type: string | undefined; body: string }> = [];
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      req.on('end', () => {
        seen.push({ type: req.headers['content-type'], body });
        res.writeHead(seen.length % 2 ? 503 : 200).end('{"ok": true}');
      });
    });
    const client = new HttpClient({ ...realClientOptions(1000), retry: { attempts: 2 } });
    await client.send({ method: 'PUT', url: `${url}/import`, body: new TextBody('text/csv', 'id,name\r\n1,Acme\r\n') });
    const form = new FormData();
    form.set('mediaFile', new Blob([Buffer.from([0, 255, 1])]), 'call.mp3');
    await client.send({ method: 'PUT', url: `${url}/media`, body: form });
    await client.close();
    expect(seen.slice(0, 2)).toEqual([0, 1].map(() => ({ type: 'text/csv', body: 'id,name\r\n1,Acme\r\n' })));
    expect(seen).toHaveLength(4);
    for (const upload of seen.slice(2)) {
      expect(upload.type).toMatch(/^multipart\/form-data; boundary=\S+$/);
      expect(upload.body).toContain('Content-Disposition: form-data; name="mediaFile"; filename="call.mp3"');
      expect(upload.body).toContain('\r\n\r\n\u0000\u00ff\u0001\r\n');
    }
  });

  it('retries connection resets, truncated bodies and timeouts until a whole answer arrives', async () => {
    let count = 0;
    const url = await serve((req, res) => {
      count++;
      if (count === 1) return void req.socket.destroy();
      if (count === 2) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '40' });
        res.write('{"calls": [');
        return void setImmediate(() => res.socket?.destroy());
      }
      if (count === 3) return; // never answers: the client's timeout fires
      res.end(JSON.stringify({ calls: [1, 2] }));
    });
    const client = realClient(100);
    const res = await client.send({ method: 'GET', url: `${url}/v2/calls` });
    expect(res.body).toEqual({ calls: [1, 2] });
    expect(count).toBe(4);
    await client.close();
  });

  it('never lets more requests than the limit start within any one second', async () => {
    const arrivals: number[] = [];
    const url = await serve((_req, res) => {
      arrivals.push(performance.now());
      res.end('{}');
    });
    const client = realClient(3);
    await Promise.all(Array.from({ length: 7 }, () => client.send({ method: 'GET', url: `${url}/x` })));
    await client.close();
    expect(arrivals).toHaveLength(7);
    // The client starts requests 1,040 ms apart per 3; arrival over loopback on a busy 2-core CI
    // machine can slip by a few tens of ms, so the check allows that much, well clear of the
    // near-zero spacing an unlimited client would show.
    for (let i = 3; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 3]!).toBeGreaterThanOrEqual(950);
  });

  it('shows peek the text of a 2xx body, and writes the request peek starts before parsing the body', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/missing') res.statusCode = 404;
      res.end(req.url === '/p1' ? '{"next":"/p2"}' : '{}');
    });
    const client = realClient(100);
    const events: string[] = [];
    const onSendHeaders = (message: unknown) => void events.push(`wrote ${(message as { request: { path: string } }).request.path}`);
    diagnostics.subscribe('undici:client:sendHeaders', onSendHeaders);
    try {
      let second: Promise<unknown> | undefined;
      await client.send({ method: 'GET', url: `${url}/p1` }, (text) => {
        events.push(`peeked ${text}`);
        second = client.send({ method: 'GET', url: `${url}/p2` });
      });
      events.push('p1 answered');
      await second;
      const peeked: string[] = [];
      await expect(client.send({ method: 'GET', url: `${url}/missing` }, (text) => void peeked.push(text))).rejects.toThrow('HTTP 404');
      expect(peeked).toEqual([]);
    } finally {
      diagnostics.unsubscribe('undici:client:sendHeaders', onSendHeaders);
      await client.close();
    }
    expect(events.slice(0, 4)).toEqual(['wrote /p1', 'peeked {"next":"/p2"}', 'wrote /p2', 'p1 answered']);
  });

  /** A client whose OAuth credentials come from the loopback server's /token. */
  function oauthClient(url: string, ensureRotationSavable?: () => void) {
    const rotated: string[] = [];
    const auth = oauthRefreshAuth({
      tokenUrl: `${url}/token`,
      clientId: 'id',
      clientSecret: 'client-secret-value',
      refreshToken: 'refresh-1',
      clientAuth: 'body',
      onRotate: (token) => void rotated.push(token),
      ensureRotationSavable,
      provider: 'Four/Four',
      credentialHint: 'check fourfour.refresh_token',
      timeoutMs: 500,
    });
    return { client: new HttpClient({ ...realClientOptions(100), provider: 'Four/Four', auth }), rotated };
  }

  it('retries a token endpoint that fails for a moment (5xx, reset, truncated answer), then sends the request', async () => {
    let tokenRequests = 0;
    const url = await serve((req, res) => {
      if (req.url === '/token') {
        tokenRequests++;
        if (tokenRequests === 1) return void res.writeHead(503).end('busy');
        if (tokenRequests === 2) return void req.socket.destroy();
        if (tokenRequests === 3) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '80' });
          res.write('{"access_token": "acc');
          return void setImmediate(() => res.socket?.destroy());
        }
        return void res.end(JSON.stringify({ access_token: 'access-1', expires_in: 3600, refresh_token: 'refresh-2' }));
      }
      res.writeHead(req.headers.authorization === 'Bearer access-1' ? 200 : 401).end('{"ok": true}');
    });
    const { client, rotated } = oauthClient(url);
    expect((await client.send({ method: 'GET', url: `${url}/x` })).body).toEqual({ ok: true });
    expect(tokenRequests).toBe(4);
    expect(rotated).toEqual(['refresh-2']);
    expect(client.requests.retried).toBe(3);
    await client.close();
  });

  it('retries the renewal after a 401 when the token endpoint is briefly unavailable', async () => {
    let tokenRequests = 0;
    let apiRequests = 0;
    const url = await serve((req, res) => {
      if (req.url === '/token') {
        tokenRequests++;
        if (tokenRequests === 2) return void res.writeHead(429, { 'retry-after': '0' }).end('{}');
        return void res.end(JSON.stringify({ access_token: `access-${tokenRequests}`, expires_in: 3600 }));
      }
      apiRequests++;
      // The first access token is revoked early: the API refuses it once.
      res.writeHead(req.headers.authorization === 'Bearer access-1' ? 401 : 200).end('{"ok": true}');
    });
    const { client } = oauthClient(url);
    expect((await client.send({ method: 'GET', url: `${url}/x` })).body).toEqual({ ok: true });
    expect([tokenRequests, apiRequests]).toEqual([3, 2]);
    await client.close();
  });

  it('does not spend a refresh token whose successor could not be saved', async () => {
    let tokenRequests = 0;
    const url = await serve((req, res) => {
      if (req.url === '/token') tokenRequests++;
      res.end(JSON.stringify({ access_token: 'access-1', expires_in: 3600, refresh_token: 'refresh-2' }));
    });
    const { client, rotated } = oauthClient(url, () => {
      throw new SyncError('fourfour.refresh_token may be rotated by the provider, but config.json cannot be rewritten', 'config_error');
    });
    await expect(client.send({ method: 'GET', url: `${url}/x` })).rejects.toThrow(/^fourfour\.refresh_token may be rotated by the provider, but config\.json cannot be rewritten$/);
    expect([tokenRequests, rotated]).toEqual([0, []]);
    await client.close();
  });

  it('fails with one clear message when the token endpoint stays down', async () => {
    const url = await serve((req, res) => void res.writeHead(req.url === '/token' ? 502 : 200).end('{}'));
    const { client } = oauthClient(url);
    await expect(client.send({ method: 'GET', url: `${url}/x` })).rejects.toThrow('Four/Four: GET /x still failing after 5 attempts (token endpoint HTTP 502); try again later');
    await client.close();
  });
});

describe('the OAuth token endpoint', () => {
  it("is waited for as long as the provider's request_timeout says, not a timeout of its own", async () => {
    // A token endpoint that never answers: only the configured second (not 60) ends the wait.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const token_url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`;
      const config = fillDefaults({ gong: { client_id: 'id', client_secret: 'secret-value', refresh_token: 'refresh-value', token_url, request_timeout: 1 } }, PROVIDERS).gong as GongConfig;
      const auth = gong.auth(config, { persistConfig: async () => undefined, ensurePersistable: () => undefined, scratch: new Map() });
      await expect(auth.headers()).rejects.toThrow(/token endpoint unreachable: UND_ERR_HEADERS_TIMEOUT/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('sandbox faults', () => {
  it('truncates data answers but never an answer that hands out a rotated refresh token', async () => {
    const sandbox = await startSandbox({
      faults: { rate: 1, kinds: ['truncated'] },
      unlimited: true,
      providers: () => [
        {
          prefix: 'api',
          configKey: 'api',
          requestsPerSecond: 100,
          rateLimited: () => ({ status: 429 }),
          handle: (req) => ({ status: 200, body: req.path === '/token' ? { access_token: 'a', refresh_token: 'r2' } : { calls: [1, 2, 3] } }),
          tapConfig: () => ({}),
        },
      ],
    });
    const client = new HttpClient(realClientOptions(100));
    try {
      expect((await client.send({ method: 'POST', url: `${sandbox.url}/api/token` })).body).toEqual({ access_token: 'a', refresh_token: 'r2' });
      await expect(client.send({ method: 'GET', url: `${sandbox.url}/api/calls` })).rejects.toThrow(/^Gong: GET \/api\/calls still failing after 5 attempts/);
      expect(sandbox.traffic.api!.faultKinds).toEqual({ truncated: 5 });
    } finally {
      await client.close();
      await sandbox.close();
    }
  });
});

