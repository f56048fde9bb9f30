import { DateTime } from 'luxon';
import type { SandboxResponse } from '../types.js';

/** An error the API answers with: CLARI-OAS gives error schemas as bare objects; the body seen in the wild is `{errorMessage}` (providers.md §2.2). */
export class ClariError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  response(): SandboxResponse {
    return { status: this.status, body: { errorMessage: this.message } };
  }
}

const badRequest = (message: string) => new ClariError(400, message);

/** CLARI-OAS: "Should be integer, else returns bad request error", with the declared minimum and maximum. */
export function readInteger(query: URLSearchParams, name: string, range: { min: number; max: number; fallback?: number }): number | undefined {
  const raw = query.get(name);
  if (raw === null) return range.fallback;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name} should be an integer, got '${raw}'`);
  const value = Number(raw);
  if (value < range.min || value > range.max) throw badRequest(`${name} should be between ${range.min} and ${range.max}, got ${value}`);
  return value;
}

/** CLARI-OAS: ISO date-times, e.g. `2020-01-01T00:00:00Z` or `…+0000`; "if invalid value is passed, results in bad request error". */
export function readTime(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const parsed = DateTime.fromISO(raw, { zone: 'utc' });
  // A '+' sent unencoded arrives as a space and is refused, as the spec asks callers to URL-encode.
  if (!parsed.isValid) throw badRequest(`${name} should be an ISO date-time, got '${raw}'`);
  return parsed.toMillis();
}

export function readChoice<T extends string>(query: URLSearchParams, name: string, choices: readonly T[]): T | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw badRequest(`${name} should be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** `true`/`false`; `includePrivate` also takes `1`/`0` (CLARI-OAS enum `["true", "false", 0, 1]`). */
export function readFlag(query: URLSearchParams, name: string, fallback: boolean, numeric = false): boolean {
  const raw = readChoice(query, name, numeric ? ['true', 'false', '1', '0'] : ['true', 'false']);
  return raw === undefined ? fallback : raw === 'true' || raw === '1';
}

/**
 * A multi-value parameter: repeated `name=a&name=b` (OpenAPI's default form style) or with the
 * bracket suffix `name[]=a` that providers.md writes, both accepted. Undefined when absent.
 */
export function readList<T extends string>(query: URLSearchParams, name: string, choices?: readonly T[]): ReadonlySet<T> | undefined {
  const values = [...query.getAll(name), ...query.getAll(`${name}[]`)];
  if (values.length === 0) return undefined;
  for (const value of values) {
    if (choices && !(choices as readonly string[]).includes(value)) throw badRequest(`${name} has an invalid value '${value}'`);
  }
  return new Set(values as T[]);
}
