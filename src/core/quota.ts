import { DateTime } from 'luxon';
import { SyncError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { formatInstant, parseInstant } from './state.js';

/** `day`: UTC days (Gong, docs/sources.md#gong-rate-limits); `week`: weeks from Sunday 00:00 GMT (Clari Copilot OpenAPI, "Rate limit"). */
export type QuotaPeriod = 'day' | 'week';

/** A provider's request budget per period, declared by the provider. */
export interface QuotaRule<C = any> {
  period: QuotaPeriod;
  /** The provider setting that holds the budget, e.g. `daily_request_quota` (support can raise it). */
  setting: string;
  limit(config: C): number;
  /**
   * Tells the API's own "quota used up" answer where no long Retry-After does (Clari: a 429 whose
   * body names the weekly quota); such an answer is never retried.
   */
  isQuotaAnswer?(status: number, body: unknown): boolean;
}

/** What the state keeps of one provider's quota: the requests counted in the window starting `window_start`. */
export interface QuotaUsage {
  window_start: string;
  requests: number;
}

export function quotaWindowStart(period: QuotaPeriod, now: DateTime): DateTime {
  const day = now.toUTC().startOf('day');
  // luxon numbers weekdays Monday = 1 … Sunday = 7.
  return period === 'day' ? day : day.minus({ days: day.weekday % 7 });
}

export function quotaReset(period: QuotaPeriod, now: DateTime): DateTime {
  return quotaWindowStart(period, now).plus(period === 'day' ? { days: 1 } : { weeks: 1 });
}

/** A provider's quota is used up: its sync stops with a resumable state until `resetsAt`. */
export class QuotaExhausted extends SyncError {
  constructor(
    message: string,
    readonly resetsAt: DateTime,
  ) {
    // Airbyte retries a transient error later; nothing in the config or the data is wrong.
    super(message, 'transient_error');
  }
}

export interface QuotaLedgerOptions {
  /** Human name used in messages, e.g. "Gong". */
  provider: string;
  period: QuotaPeriod;
  limit: number;
  /** The full setting path to raise, e.g. `gong.daily_request_quota`. */
  setting: string;
  /** The usage an earlier run left in the state, if any. */
  usage?: QuotaUsage;
  now: () => DateTime;
  /** The provider client's counters: every retry is a request the API counts too. */
  traffic: { readonly retried: number };
  logger: Logger;
}

/** Shares of the budget at which a run warns, once each. */
const WARN_AT = [0.25, 0.5, 0.75, 0.9];

/**
 * Counts a provider's requests against its budget per window, across runs: the count and its window
 * travel in the state, so the next run in the same window starts from where this one left off.
 */
export class QuotaLedger {
  private windowStart: DateTime;
  /** Requests of the window counted before this run, or since the window began. */
  private carried: number;
  private reserved = 0;
  private retriedBefore: number;
  /** Set when the API itself said the quota is used up: nothing is left until the window turns. */
  private refusedByApi = false;
  private warned = 0;

  constructor(private readonly options: QuotaLedgerOptions) {
    this.windowStart = quotaWindowStart(options.period, options.now());
    const earlier = parseInstant(options.usage?.window_start);
    this.carried = earlier && earlier.equals(this.windowStart) ? options.usage!.requests : 0;
    this.retriedBefore = options.traffic.retried;
  }

  /** Requests counted in the current window. */
  get used(): number {
    const counted = this.carried + this.reserved + this.options.traffic.retried - this.retriedBefore;
    return this.refusedByApi ? Math.max(counted, this.options.limit) : counted;
  }

  /** Counts one request about to be sent, or throws QuotaExhausted when it would pass the budget. */
  spend(): void {
    this.turnWindow();
    const { provider, period, limit } = this.options;
    if (this.used >= limit) {
      throw this.exhausted(`${provider}: the ${period === 'day' ? 'daily' : 'weekly'} quota of ${limit} requests is used up (${this.used} counted across runs)`, quotaReset(period, this.options.now()));
    }
    this.reserved++;
    let crossed: number | undefined;
    while (this.warned < WARN_AT.length && this.used >= WARN_AT[this.warned]! * limit) crossed = WARN_AT[this.warned++];
    if (crossed !== undefined) {
      const reset = quotaReset(period, this.options.now());
      this.options.logger.warn(
        `${provider}: ${this.used} of the ${limit} requests allowed per ${period} are used (over ${crossed * 100}%); the quota resets at ${formatInstant(reset)} (${this.relative(reset)})`,
      );
    }
  }

  /**
   * The API answered that the quota is used up (`what`: the answer as the HTTP client describes it, provider
   * first): the window counts as spent, and the
   * quota resets after `retryAfterMs` when the API said so, else when the window turns.
   */
  refused(what: string, retryAfterMs?: number): QuotaExhausted {
    this.turnWindow();
    this.refusedByApi = true;
    const now = this.options.now();
    const resetsAt = retryAfterMs === undefined ? quotaReset(this.options.period, now) : now.plus({ milliseconds: retryAfterMs });
    return this.exhausted(`${what}: its ${this.options.period === 'day' ? 'daily' : 'weekly'} request quota is used up`, resetsAt);
  }

  /**
   * Another client's count of the current window (the tap's, in the STATE a target passes on): when
   * higher than what this ledger carried from before its run, it is what the run counts on from.
   */
  rebase(usage: QuotaUsage): void {
    this.turnWindow();
    if (parseInstant(usage.window_start)?.equals(this.windowStart) && usage.requests > this.carried) this.carried = usage.requests;
  }

  /** What the state keeps, so the next run counts on from here. */
  usage(): QuotaUsage {
    this.turnWindow();
    return { window_start: formatInstant(this.windowStart), requests: this.used };
  }

  private turnWindow(): void {
    const start = quotaWindowStart(this.options.period, this.options.now());
    if (start <= this.windowStart) return;
    this.windowStart = start;
    this.carried = 0;
    this.reserved = 0;
    this.retriedBefore = this.options.traffic.retried;
    this.refusedByApi = false;
    this.warned = 0;
  }

  private exhausted(why: string, resetsAt: DateTime): QuotaExhausted {
    const { provider, setting } = this.options;
    return new QuotaExhausted(
      `${why}; it resets at ${formatInstant(resetsAt)} (${this.relative(resetsAt)}). The sync of ${provider} stopped at a resumable state: run again after the reset (raise ${setting} if ${provider} raised your quota)`,
      resetsAt,
    );
  }

  private relative(instant: DateTime): string {
    return instant.toRelative({ base: this.options.now() }) ?? formatInstant(instant);
  }
}
