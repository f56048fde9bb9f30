import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { QuotaExhausted, QuotaLedger, quotaReset, quotaWindowStart, type QuotaPeriod, type QuotaUsage } from '../../src/core/quota.js';
import { parseState } from '../../src/core/state.js';
import { InputError } from '../../src/util/errors.js';
import { memoryLogger } from '../helpers/logger.js';

const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).toISO();

function ledger(period: QuotaPeriod, limit: number, clock: { now: DateTime }, usage?: QuotaUsage, traffic = { retried: 0 }) {
  return new QuotaLedger({ provider: 'Gong', period, limit, setting: 'gong.daily_request_quota', usage, now: () => clock.now, traffic, logger: memoryLogger() });
}

describe('quota windows', () => {
  it.each([
    ['day', '2026-06-15T12:00:00Z', '2026-06-15T00:00:00Z', '2026-06-16T00:00:00Z'],
    ['day', '2026-06-15T23:59:59.999Z', '2026-06-15T00:00:00Z', '2026-06-16T00:00:00Z'],
    ['day', '2026-06-16T01:00:00+02:00', '2026-06-15T00:00:00Z', '2026-06-16T00:00:00Z'],
    ['week', '2026-06-15T12:00:00Z', '2026-06-14T00:00:00Z', '2026-06-21T00:00:00Z'],
    ['week', '2026-06-20T23:59:59Z', '2026-06-14T00:00:00Z', '2026-06-21T00:00:00Z'],
    ['week', '2026-06-21T00:00:00Z', '2026-06-21T00:00:00Z', '2026-06-28T00:00:00Z'],
    ['week', '2026-06-21T05:00:00+09:00', '2026-06-14T00:00:00Z', '2026-06-21T00:00:00Z'],
  ] as const)('a %s at %s runs from %s to %s (UTC)', (period, now, start, reset) => {
    expect(quotaWindowStart(period, at(now)).toISO()).toBe(utc(start));
    expect(quotaReset(period, at(now)).toISO()).toBe(utc(reset));
  });
});

describe('QuotaLedger', () => {
  it('counts on from the usage an earlier run left in the same window, and stops before passing the budget', () => {
    const clock = { now: at('2026-06-15T22:00:00Z') };
    const quota = ledger('day', 5, clock, { window_start: '2026-06-15T00:00:00Z', requests: 3 });
    quota.spend();
    quota.spend();
    expect(quota.usage()).toEqual({ window_start: '2026-06-15T00:00:00Z', requests: 5 });
    const stop = (() => {
      try {
        quota.spend();
      } catch (error) {
        return error as QuotaExhausted;
      }
    })();
    expect(stop).toBeInstanceOf(QuotaExhausted);
    expect(stop!.exitCode).toBe(1);
    expect(stop!.failureType).toBe('transient_error');
    expect(stop!.resetsAt.toISO()).toBe(utc('2026-06-16T00:00:00Z'));
    expect(stop!.message).toBe(
      'Gong: the daily quota of 5 requests is used up (5 counted across runs); it resets at 2026-06-16T00:00:00Z (in 2 hours). The sync of Gong stopped at a resumable state: run again after the reset (raise gong.daily_request_quota if Gong raised your quota)',
    );
    expect(quota.usage().requests).toBe(5);
  });

  it('rebases on a higher count of the same window that another client passes on, and ignores lower or older ones', () => {
    const clock = { now: at('2026-06-15T12:00:00Z') };
    const quota = ledger('day', 100, clock, { window_start: '2026-06-15T00:00:00Z', requests: 10 });
    quota.spend();
    quota.rebase({ window_start: '2026-06-15T00:00:00Z', requests: 40 });
    expect(quota.usage().requests).toBe(41);
    quota.rebase({ window_start: '2026-06-15T00:00:00Z', requests: 20 });
    quota.rebase({ window_start: '2026-06-14T00:00:00Z', requests: 90 });
    expect(quota.usage().requests).toBe(41);
  });

  it('starts afresh when the usage is from an earlier window, and when the window turns mid-run (UTC midnight)', () => {
    const clock = { now: at('2026-06-15T23:59:00Z') };
    const quota = ledger('day', 2, clock, { window_start: '2026-06-14T00:00:00Z', requests: 2 });
    quota.spend();
    quota.spend();
    expect(() => quota.spend()).toThrow(QuotaExhausted);
    clock.now = at('2026-06-16T00:00:00Z');
    quota.spend();
    expect(quota.usage()).toEqual({ window_start: '2026-06-16T00:00:00Z', requests: 1 });
  });

  it('rolls a weekly quota over at Sunday 00:00 GMT, not before', () => {
    const clock = { now: at('2026-06-20T23:59:59Z') };
    const quota = ledger('week', 1, clock, { window_start: '2026-06-14T00:00:00Z', requests: 1 });
    expect(() => quota.spend()).toThrow(/resets at 2026-06-21T00:00:00Z \(in 1 second\)/);
    clock.now = at('2026-06-21T00:00:00Z');
    quota.spend();
    expect(quota.usage()).toEqual({ window_start: '2026-06-21T00:00:00Z', requests: 1 });
  });

  it('counts the client’s retries, which the API counts too', () => {
    const traffic = { retried: 4 };
    const quota = ledger('day', 10, { now: at('2026-06-15T12:00:00Z') }, undefined, traffic);
    quota.spend();
    traffic.retried = 7;
    expect(quota.usage().requests).toBe(4);
  });

  it('treats the API’s refusal as a spent window that resets when the API says', () => {
    const quota = ledger('day', 100, { now: at('2026-06-15T12:00:00Z') });
    quota.spend();
    const stop = quota.refused('Gong: POST /v2/calls/extensive answered HTTP 429', 3_600_000);
    expect(stop.resetsAt.toISO()).toBe(utc('2026-06-15T13:00:00Z'));
    expect(stop.message).toMatch(/^Gong: POST \/v2\/calls\/extensive answered HTTP 429: its daily request quota is used up; it resets at 2026-06-15T13:00:00Z \(in 1 hour\)/);
    expect(quota.usage().requests).toBe(100);
    expect(() => quota.spend()).toThrow(QuotaExhausted);
  });
});

describe('quota in the state', () => {
  const usage = { window_start: '2026-06-15T00:00:00Z', requests: 12 };
  it('keeps a Singer state’s quota and reads older states without one', () => {
    expect(parseState({ bookmarks: {}, quota: { gong: usage } }, 's.json')).toEqual({ bookmarks: {}, quota: { gong: usage } });
    expect(parseState({ bookmarks: {} }, 's.json')).toEqual({ bookmarks: {} });
  });

  it('takes the latest count from Airbyte per-stream states, leaving bookmarks as they were', () => {
    const bookmark = { replication_key: 'started', replication_key_value: '2026-06-01T00:00:00Z' };
    const entry = (name: string, quota: QuotaUsage) => ({ type: 'STREAM', stream: { stream_descriptor: { name }, stream_state: { ...bookmark, quota: { gong: quota } } } });
    const state = parseState([entry('gong_calls', usage), entry('gong_transcripts', { ...usage, requests: 20 }), entry('gong_x', { window_start: '2026-06-14T00:00:00Z', requests: 99 })], 's.json');
    expect(state.quota).toEqual({ gong: { ...usage, requests: 20 } });
    expect(state.bookmarks.gong_calls).toEqual(bookmark);
  });

  it.each([[{ gong: { window_start: 'yesterday', requests: 1 } }], [{ gong: { window_start: usage.window_start, requests: -1 } }], [[]]])('refuses a broken quota %j', (quota) => {
    expect(() => parseState({ bookmarks: {}, quota }, 's.json')).toThrow(InputError);
  });
});
