import { DateTime } from 'luxon';
import type { SandboxRequest } from '../types.js';
import { badRequest } from './errors.js';

/**
 * Request validation for the simulated APIs: each reader returns the typed value of one parameter,
 * undefined when it is absent, and refuses a malformed one with a 400 `ApiError` naming it.
 * Query readers take the URL's parameters; field readers take a value from a JSON body.
 */

/** Absent in a query (no parameter, or an empty value) or a JSON body (no key, or null). */
export function isAbsent(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

/** The JSON object body of a POST read (the OpenAPI operations mark their requestBody required). */
export function jsonObjectBody(request: SandboxRequest): Record<string, unknown> {
  let { body } = request;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      throw badRequest('Malformed request: the body must be JSON');
    }
  }
  if (!isObject(body)) throw badRequest('Malformed request: the body must be a JSON object');
  return body;
}

/** A field at a dotted path of a JSON body (`filter.callIds`), undefined where a step is missing. */
export function fieldAt(body: Record<string, unknown>, path: string): unknown {
  let value: unknown = body;
  for (const step of path.split('.')) value = isObject(value) ? value[step] : undefined;
  return value;
}

/** An ISO-8601 date-time at any offset, as epoch milliseconds; one without an offset is UTC. */
export function instant(name: string, value: unknown): number | undefined {
  const text = stringField(name, value);
  if (text === undefined) return undefined;
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  // A '+' sent unencoded in a query arrives as a space and is refused, as RFC 3986 wants it encoded.
  if (!parsed.isValid) throw badRequest(`${name}: '${text}' is not an ISO-8601 date-time`);
  return parsed.toMillis();
}

/**
 * OpenAPI `format: date-time`, which is RFC 3339 §5.6 `date-time`: a full date, a time and an offset.
 * Returned as written.
 */
export function dateTimeField(name: string, value: unknown): string | undefined {
  const text = stringField(name, value);
  if (text === undefined) return undefined;
  const shaped = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text);
  if (!shaped || !DateTime.fromISO(text.toUpperCase()).isValid) throw badRequest(`${name}: '${text}' is not an RFC 3339 date-time`);
  return text;
}

export function booleanField(name: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${name}: must be a boolean`);
  return value;
}

export function numberField(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(`${name}: must be a number`);
  return value;
}

export function stringField(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${name}: must be a string`);
  return value;
}

export function stringListField(name: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw badRequest(`${name}: must be an array of strings`);
  return value as string[];
}

export function objectField(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw badRequest(`${name}: must be an object`);
  return value;
}

/** A whole number within the operation's minimum and maximum; `fallback` when absent. */
export function queryInteger(query: URLSearchParams, name: string, range: { min: number; max: number; fallback?: number }): number | undefined {
  const raw = query.get(name);
  if (raw === null) return range.fallback;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name}: must be an integer, got '${raw}'`);
  const value = Number(raw);
  if (value < range.min || value > range.max) throw badRequest(`${name}: must be between ${range.min} and ${range.max}, got ${value}`);
  return value;
}

export function queryChoice<T extends string>(query: URLSearchParams, name: string, choices: readonly T[]): T | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw badRequest(`${name}: must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** `true`/`false`; with `numeric`, `1`/`0` too (CLARI-OAS `includePrivate`: enum `["true", "false", 0, 1]`). */
export function queryFlag(query: URLSearchParams, name: string, fallback: boolean, numeric = false): boolean {
  const raw = queryChoice(query, name, numeric ? ['true', 'false', '1', '0'] : ['true', 'false']);
  return raw === undefined ? fallback : raw === 'true' || raw === '1';
}

/**
 * A multi-value parameter: repeated `name=a&name=b` (OpenAPI's default `form` style, exploded) or
 * with the bracket suffix `name[]=a` that PHP-style clients send; both are accepted.
 */
export function queryList<T extends string>(query: URLSearchParams, name: string, choices?: readonly T[]): ReadonlySet<T> | undefined {
  const values = [...query.getAll(name), ...query.getAll(`${name}[]`)];
  if (values.length === 0) return undefined;
  for (const value of values) {
    if (choices && !(choices as readonly string[]).includes(value)) throw badRequest(`${name}: invalid value '${value}'`);
  }
  return new Set(values as T[]);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
