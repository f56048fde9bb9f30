import type { DateTime } from 'luxon';
import { quotaWindowStart, type QuotaPeriod } from '../core/quota.js';

/**
 * Counts requests per period of the sandbox clock and refuses them once the period's budget is spent:
 * Gong's 10,000 a UTC day (docs/sources.md#gong-rate-limits), Clari's 100,000 a week from Sunday 00:00 GMT
 * (Clari Copilot OpenAPI, "Rate limit").
 */
export class PeriodQuota {
  private periodStartMs = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(
    readonly limit: number,
    private readonly period: QuotaPeriod,
  ) {}

  /** Spends one request of the current period, or returns false when none is left. */
  admit(now: DateTime): boolean {
    const startMs = quotaWindowStart(this.period, now).toMillis();
    if (startMs !== this.periodStartMs) {
      this.periodStartMs = startMs;
      this.used = 0;
    }
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}
