import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime, Duration } from 'luxon';
import { Response } from 'undici';
import { rngFor, type Random } from './random.js';
import { FAULT_KINDS, type FaultKind, type FormFile, type SandboxOptions, type SandboxProvider, type SandboxRequest, type SandboxResponse } from './types.js';

/**
 * The largest request body the server takes, 128 MiB: an hour of compressed audio fits. Gong takes
 * media files up to 1.5 GB (gong-openapi.json, operation addCallRecording), which a server that holds
 * each body in memory should not; a larger body is read to its end, discarded, and answered 413.
 */
export const MOST_BODY_BYTES = 128 * 1024 * 1024;

export interface FaultOptions {
  /** Share of requests (0..1) that get a fault instead of their answer. */
  rate: number;
  kinds?: readonly FaultKind[];
  /** How long a 'timeout' fault holds the request before dropping it. */
  holdMs?: number;
  /** Seeds which requests fail and how; defaults to the data seed. Another value meets the same data with other faults. */
  seed?: number;
  /** Requests (over all providers) answered normally before faults begin: an API that breaks mid-sync. */
  afterRequests?: number;
}

export interface StartSandboxOptions extends Partial<SandboxOptions> {
  /**
   * How far the APIs' clock runs ahead of `now` (negative: behind), as a server's clock drifts from the
   * tap's: records are stamped, and become readable, by the APIs' clock.
   */
  clockSkew?: Duration;
  port?: number;
  host?: string;
  faults?: FaultOptions;
  /** Turn the per-provider request-rate limit off (benchmarks of raw overhead). */
  unlimited?: boolean;
  /** The largest request body taken; default MOST_BODY_BYTES. */
  mostBodyBytes?: number;
  providers: (options: SandboxOptions) => SandboxProvider[];
}

export interface ProviderTraffic {
  requests: number;
  rateLimited: number;
  faults: number;
  faultKinds: Partial<Record<FaultKind, number>>;
  /** Highest count of answered requests that started within any one second. */
  peakPerSecond: number;
  log: Array<{ method: string; path: string; query: string; body: unknown; status: number }>;
}

export interface RunningSandbox {
  url: string;
  baseUrls: Record<string, string>;
  /** A complete tap config for every provider of this sandbox. */
  tapConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  traffic: Record<string, ProviderTraffic>;
  providers: SandboxProvider[];
  close(): Promise<void>;
}

/** Serves every provider's simulated API on one loopback port, each under its own path prefix. */
export async function startSandbox(options: StartSandboxOptions): Promise<RunningSandbox> {
  const clock = options.now ?? (() => DateTime.utc());
  const skew = options.clockSkew ?? Duration.fromMillis(0);
  const sandboxOptions: SandboxOptions = {
    seed: options.seed ?? 1,
    scale: options.scale ?? 1,
    now: () => clock().plus(skew),
    ...(options.visibilityLag ? { visibilityLag: options.visibilityLag } : {}),
    ...(options.scopes ? { scopes: options.scopes } : {}),
  };
  const providers = options.providers(sandboxOptions);
  const faults = options.faults ?? { rate: 0 };
  const faultRandom = rngFor(faults.seed ?? sandboxOptions.seed, 'faults');
  const traffic: Record<string, ProviderTraffic> = {};
  const windows = new Map<string, number[]>();
  for (const p of providers) {
    traffic[p.prefix] = { requests: 0, rateLimited: 0, faults: 0, faultKinds: {}, peakPerSecond: 0, log: [] };
    windows.set(p.prefix, []);
  }
  const held = new Set<ServerResponse>();
  const mostBodyBytes = options.mostBodyBytes ?? MOST_BODY_BYTES;
  let requestsSeen = 0;

  const server: Server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(error) } });
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const [, prefix = '', ...rest] = url.pathname.split('/');
    const provider = providers.find((p) => p.prefix === prefix);
    const bytes = await readBody(req, mostBodyBytes);
    if (bytes === undefined) return send(res, { status: 413, body: { errors: [`The request body is larger than ${mostBodyBytes} bytes`] } });
    const rawBody = bytes.toString('utf8');
    if (!provider) return send(res, { status: 404, body: { error: `no simulated API at /${prefix}` } });
    const stats = traffic[provider.prefix]!;
    stats.requests++;

    if (!options.unlimited) {
      const retryAfter = admit(windows.get(provider.prefix)!, provider.requestsPerSecond, stats);
      if (retryAfter > 0) {
        stats.rateLimited++;
        return send(res, provider.rateLimited(retryAfter));
      }
    }
    const fault = requestsSeen++ < (faults.afterRequests ?? 0) ? undefined : chooseFault(faultRandom, faults);
    const countFault = (kind: FaultKind) => {
      stats.faults++;
      stats.faultKinds[kind] = (stats.faultKinds[kind] ?? 0) + 1;
    };
    if (fault && (await injectFault(fault, res, provider, faults.holdMs ?? 10_000, held))) return countFault(fault);

    let body: unknown = rawBody;
    const contentType = req.headers['content-type'] ?? '';
    if (rawBody && /json/.test(contentType)) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return send(res, { status: 400, body: { errors: ['Malformed JSON body'] } });
      }
    } else if (/^multipart\/form-data/i.test(contentType)) {
      try {
        body = await formParts(bytes, contentType);
      } catch {
        return send(res, { status: 400, body: { errors: ['Malformed multipart/form-data body'] } });
      }
    }
    const request: SandboxRequest = {
      method: req.method ?? 'GET',
      path: '/' + rest.join('/'),
      query: url.searchParams,
      headers: req.headers,
      body,
      rawBody,
    };
    const response = await provider.handle(request);
    stats.log.push({ method: request.method, path: request.path, query: url.search, body, status: response.status });
    if (stats.log.length > 10_000) stats.log.shift();
    // A token endpoint rotates the refresh token before answering (RFC 6749 §10.4; Gong's are single-use), so a
    // lost answer locks the client out until a person re-authorises it; no client can recover, so
    // the sandbox only truncates answers that can be asked for again.
    const truncate = fault === 'truncated' && !hasRotatedToken(response);
    if (truncate) countFault(fault);
    send(res, response, truncate);
  }

  // A port in use or not permitted rejects here, with Node's error (its `code`), instead of crashing the process.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const baseUrls = Object.fromEntries(providers.map((p) => [p.configKey, `${url}/${p.prefix}`]));

  return {
    url,
    baseUrls,
    traffic,
    providers,
    tapConfig(extra = {}) {
      const config: Record<string, unknown> = { ...extra };
      for (const p of providers) config[p.configKey] = p.tapConfig(`${url}/${p.prefix}`);
      return config;
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sliding one-second window; returns 0 to admit, or the seconds until a slot frees. */
function admit(window: number[], perSecond: number, stats: ProviderTraffic): number {
  const now = performance.now();
  while (window.length && now - window[0]! >= 1000) window.shift();
  if (window.length >= perSecond) return Math.max(1, Math.ceil((1000 - (now - window[0]!)) / 1000));
  window.push(now);
  stats.peakPerSecond = Math.max(stats.peakPerSecond, window.length);
  return 0;
}

function chooseFault(random: Random, faults: FaultOptions): FaultKind | undefined {
  if (faults.rate <= 0 || random() >= faults.rate) return undefined;
  const kinds = faults.kinds ?? FAULT_KINDS;
  return kinds[Math.floor(random() * kinds.length)];
}

/** Returns true when the fault replaced the answer; 'truncated' is applied while sending it. */
async function injectFault(
  fault: FaultKind,
  res: ServerResponse,
  provider: SandboxProvider,
  holdMs: number,
  held: Set<ServerResponse>,
): Promise<boolean> {
  switch (fault) {
    case '429':
      send(res, provider.rateLimited(1));
      return true;
    case '429-no-retry-after': {
      const limited = provider.rateLimited(1);
      const headers = { ...limited.headers };
      delete headers['Retry-After'];
      send(res, { ...limited, headers });
      return true;
    }
    case '500':
    case '502':
    case '503':
      send(res, { status: Number(fault), body: { error: 'simulated server error' } });
      return true;
    case 'reset':
      res.socket?.destroy();
      return true;
    case 'timeout':
      held.add(res);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, holdMs);
        res.once('close', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      held.delete(res);
      res.destroy();
      return true;
    case 'truncated':
      return false;
  }
}

function hasRotatedToken(response: SandboxResponse): boolean {
  return typeof response.body === 'object' && response.body !== null && 'refresh_token' in response.body;
}

function send(res: ServerResponse, response: SandboxResponse, truncate = false): void {
  const isText = typeof response.body === 'string';
  const payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body);
  const headers: Record<string, string> = {
    'content-type': isText ? 'text/plain' : 'application/json; charset=utf-8',
    ...response.headers,
    'content-length': String(Buffer.byteLength(payload)),
  };
  res.writeHead(response.status, headers);
  if (truncate && payload.length > 1) {
    res.write(payload.slice(0, Math.floor(payload.length / 2)));
    setImmediate(() => res.socket?.destroy());
    return;
  }
  res.end(payload);
}

/** The body's bytes; undefined when there are more than `most`, which are read on but not kept. */
function readBody(req: IncomingMessage, most: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= most) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size <= most ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** A multipart/form-data body (RFC 7578), parsed by undici: its parts by name, the first of a repeated name winning. */
async function formParts(bytes: Buffer, contentType: string): Promise<Record<string, string | FormFile>> {
  const parts = new Map<string, string | FormFile>();
  for (const [name, value] of await new Response(bytes, { headers: { 'content-type': contentType } }).formData()) {
    if (parts.has(name)) continue;
    if (typeof value === 'string') {
      parts.set(name, value);
      continue;
    }
    const sha256 = createHash('sha256').update(new Uint8Array(await value.arrayBuffer())).digest('hex');
    parts.set(name, { filename: value.name, contentType: value.type, size: value.size, sha256 });
  }
  return Object.fromEntries(parts);
}
