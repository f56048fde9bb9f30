import { DateTime } from 'luxon';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Give up once the waits of one request would add up to more than this. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxTotalWaitMs: 300_000 };

/** A failed attempt worth repeating, with the server's requested delay if it gave one. */
export class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** The server's answer, when there was one. */
    readonly answer?: { status: number; body: unknown },
  ) {
    super(message);
  }
}

/** Statuses worth another try: rate limits and the server-side failures that pass. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 504);
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: DateTime = DateTime.utc()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = DateTime.fromHTTP(trimmed);
  return date.isValid ? Math.max(0, date.toMillis() - now.toMillis()) : undefined;
}

/** Exponential backoff with full jitter (delay drawn from [base·2ⁿ/2, base·2ⁿ]), capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
