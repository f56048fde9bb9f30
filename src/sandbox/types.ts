import type { IncomingHttpHeaders } from 'node:http';
import type { DateTime, Duration } from 'luxon';

/**
 * A file part of a multipart/form-data body (RFC 7578 §4.2): the simulated APIs serve no media, so
 * the server keeps what identifies the file, never its bytes.
 */
export interface FormFile {
  filename: string;
  contentType: string;
  size: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/**
 * What a simulated API sees of one request. `body` is the parsed JSON body; for multipart/form-data,
 * an object of the parts by name (text fields as strings, files as `FormFile`); else the raw text.
 */
export interface SandboxRequest {
  method: string;
  /** Path below the provider's prefix, e.g. `/v2/calls/extensive` for `/gong/v2/calls/extensive`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as is (set content-type in headers). */
  body?: unknown;
}

export interface SandboxOptions {
  seed: number;
  /** Multiplies record counts; 1 is a small realistic tenant. Data is generated, never stored. */
  scale: number;
  /** The sandbox's clock: what "now" is for processing latency, token expiry and rate limits. */
  now: () => DateTime;
  /** How long after its timestamp a record becomes readable (commit or indexing lag); none when absent. */
  visibilityLag?: Duration;
  /**
   * The scopes the sandbox's credentials hold, in the vendors' names (Gong's `api:calls:read:extensive`,
   * Four/Four's `api:read`); a route that needs another answers 403. Default: every scope of every API.
   */
  scopes?: readonly string[];
}

/** The moment whose records the API shows: its clock less the visibility lag, so a record stamped t appears at t + lag. */
export function recordsVisibleAt(options: SandboxOptions): DateTime {
  return options.visibilityLag ? options.now().minus(options.visibilityLag) : options.now();
}

/**
 * One simulated API, mounted by the server under `/<prefix>`. Handlers are pure request → response
 * functions; faults, rate limits and transport live in the shared server so every provider gets them.
 */
export interface SandboxProvider {
  /** Path prefix and tap-config key, e.g. `gong` → `http://127.0.0.1:P/gong`, config block `gong`. */
  readonly prefix: string;
  readonly configKey: string;
  /** Requests per second the real API allows; beyond it the server answers 429. */
  readonly requestsPerSecond: number;
  /** How a rate-limit breach looks on this API (Gong: 429 with Retry-After). */
  rateLimited(retryAfterSeconds: number): SandboxResponse;
  handle(req: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
  /** The provider block of a tap config that works against this sandbox at `baseUrl`. */
  tapConfig(baseUrl: string): Record<string, unknown>;
}

export type FaultKind = '429' | '429-no-retry-after' | '500' | '502' | '503' | 'reset' | 'timeout' | 'truncated';
export const FAULT_KINDS: readonly FaultKind[] = ['429', '429-no-retry-after', '500', '502', '503', 'reset', 'timeout', 'truncated'];
