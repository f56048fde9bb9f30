import { DateTime } from 'luxon';
import { ApiError, badRequest } from '../kit/errors.js';
import { odataOptionName } from '../kit/paging.js';
import { NAMESPACE, type EntitySetDefinition, type PropertyDefinition, type RawValue } from './edm.js';

/**
 * OData system query options, the subset a tap uses: `$filter`, `$orderby` and `$select` are read here,
 * `$top`, `$skip` and `$count` by the next-link pager; `$expand`, `$search` and `$apply` are answered 501
 * (OData v4 Protocol, "Response Code 501 Not Implemented": unsupported functionality).
 */

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export interface Comparison {
  property: string;
  operator: ComparisonOperator;
  /** Typed like the property's raw values: epoch ms for DateTimeOffset, lowercase for Guid. */
  value: RawValue;
}

export interface OrderItem {
  property: string;
  descending: boolean;
}

export interface QueryPlan {
  /** Comparisons joined by `and`. */
  filter: Comparison[];
  orderBy: OrderItem[];
  select?: string[];
}

const notImplemented = (message: string) => new ApiError(501, message);

// OData 4.01 URL Conventions, "System Query Options": they may be given without the `$` and in any case; AMP sends `top`.
const SIMULATED_OPTIONS = ['filter', 'orderby', 'select', 'top', 'skip', 'count', 'format'];
const UNSIMULATED_OPTIONS = ['expand', 'search', 'apply', 'compute', 'levels', 'skiptoken', 'index', 'schemaversion', 'deltatoken'];

/** The system query option a URL parameter names (`$top`, `top`, `$TOP` → `top`), or undefined for a custom option. */
function systemOptionName(parameter: string): string | undefined {
  const name = odataOptionName(parameter);
  if (SIMULATED_OPTIONS.includes(name) || UNSIMULATED_OPTIONS.includes(name)) return name;
  if (parameter.startsWith('$')) throw badRequest(`The query parameter '${parameter}' is not supported.`);
  return undefined;
}

export function parseQueryOptions(query: URLSearchParams, set: EntitySetDefinition): QueryPlan {
  const options = new Map<string, string>();
  for (const [parameter, value] of query) {
    const name = systemOptionName(parameter);
    if (name === undefined) continue;
    if (options.has(name)) throw badRequest(`Query option '$${name}' was specified more than once, it must be specified at most once.`);
    if (UNSIMULATED_OPTIONS.includes(name)) throw notImplemented(`The query option '$${name}' is not supported by the Four/Four sandbox.`);
    options.set(name, value);
  }
  const format = options.get('format');
  if (format !== undefined && !/^(json|application\/json)(;.*)?$/i.test(format)) throw badRequest(`The requested format '${format}' is not supported; use json.`);
  const entityType = `${NAMESPACE}.${set.entityType}`;
  const property = (name: string) => {
    const definition = set.properties[name];
    if (!definition) throw badRequest(`Could not find a property named '${name}' on type '${entityType}'.`);
    return definition;
  };
  const select = options.get('select');
  const plan: QueryPlan = { filter: parseFilter(options.get('filter'), property), orderBy: parseOrderBy(options.get('orderby'), property) };
  if (select !== undefined && select.trim() !== '*') plan.select = parseSelect(select, property);
  return plan;
}

function parseSelect(value: string, property: (name: string) => PropertyDefinition): string[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) property(name);
  return [...new Set(names)];
}

function parseOrderBy(value: string | undefined, property: (name: string) => PropertyDefinition): OrderItem[] {
  if (value === undefined) return [];
  return value.split(',').map((item) => {
    const match = /^\s*([A-Za-z_]\w*)(?:\s+(asc|desc))?\s*$/i.exec(item);
    if (!match) throw badRequest(`Syntax error in $orderby at '${item.trim()}'.`);
    const definition = property(match[1]!);
    if (definition.collection || !definition.type.startsWith('Edm.')) throw badRequest(`The $orderby expression must evaluate to a single value of primitive type; '${match[1]}' is not.`);
    return { property: match[1]!, descending: match[2]?.toLowerCase() === 'desc' };
  });
}

// A token: a quoted string ('' escapes a quote), a parenthesis, or a run of other characters.
const TOKEN = /\s*(?:('(?:[^']|'')*')|([()])|([^\s()']+))/y;
const OPERATORS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const MIRRORED: Record<ComparisonOperator, ComparisonOperator> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };
const OPERATOR_KINDS: Record<ComparisonOperator, string> = {
  eq: 'Equal', ne: 'NotEqual', gt: 'GreaterThan', ge: 'GreaterThanOrEqual', lt: 'LessThan', le: 'LessThanOrEqual',
};

type Literal = { kind: 'string' | 'datetime' | 'date' | 'guid' | 'number' | 'boolean' | 'null'; value: RawValue };

function tokenize(text: string): string[] {
  // An unencoded `+` in a URL decodes to a space; read `…T10:00:00 02:00` as the offset `+02:00`.
  const repaired = text.replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})/g, '$1+$2');
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < repaired.length) {
    const match = TOKEN.exec(repaired);
    if (!match) {
      if (repaired.slice(TOKEN.lastIndex).trim() === '') break;
      throw badRequest(`Syntax error in $filter at position ${TOKEN.lastIndex}: unterminated string literal.`);
    }
    tokens.push(match[1] ?? match[2] ?? match[3]!);
  }
  return tokens;
}

/** `a op v [and b op w …]`, optionally parenthesised; `or`, `not` and functions are answered 501. */
function parseFilter(text: string | undefined, property: (name: string) => PropertyDefinition): Comparison[] {
  if (text === undefined) return [];
  const tokens = tokenize(text);
  if (tokens.length === 0) throw badRequest('The $filter expression is empty.');
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (token === undefined) throw badRequest('Syntax error: the $filter expression ends unexpectedly.');
    return token;
  };

  const conjunction = (): Comparison[] => {
    const comparisons = term();
    while (peek()?.toLowerCase() === 'and') {
      at++;
      comparisons.push(...term());
    }
    const following = peek()?.toLowerCase();
    if (following === 'or' || following === 'not') throw notImplemented(`The '${following}' operator is not supported by the Four/Four sandbox; combine comparisons with 'and'.`);
    return comparisons;
  };
  const term = (): Comparison[] => {
    if (peek() === '(') {
      at++;
      const inner = conjunction();
      if (next() !== ')') throw badRequest(`Syntax error in $filter: ')' expected at position ${at}.`);
      return inner;
    }
    return [comparison()];
  };
  const comparison = (): Comparison => {
    const left = operand();
    const operator = next().toLowerCase();
    if (!OPERATORS.has(operator)) throw badRequest(`Syntax error in $filter: unknown operator '${operator}'.`);
    const right = operand();
    if (typeof left === 'string' && typeof right !== 'string') return typed(left, operator as ComparisonOperator, right);
    if (typeof right === 'string' && typeof left !== 'string') return typed(right, MIRRORED[operator as ComparisonOperator], left);
    throw badRequest('A comparison in $filter must compare one property with one literal value.');
  };
  const operand = (): string | Literal => {
    const token = next();
    if (peek() === '(' || token.toLowerCase() === 'not') throw notImplemented(`'${token}' is not supported in $filter by the Four/Four sandbox.`);
    const literal = parseLiteral(token);
    if (literal) return literal;
    if (/^[A-Za-z_]\w*$/.test(token)) return token;
    if (token.includes('/')) throw notImplemented(`Property paths ('${token}') are not supported in $filter by the Four/Four sandbox.`);
    throw badRequest(`Syntax error in $filter at '${token}'.`);
  };
  const typed = (name: string, operator: ComparisonOperator, literal: Literal): Comparison => {
    const definition = property(name);
    if (definition.collection || !definition.type.startsWith('Edm.')) throw notImplemented(`Filtering on '${name}' (${definition.type}) is not supported by the Four/Four sandbox.`);
    if (!accepts(definition, literal) || (literal.kind === 'boolean' && operator !== 'eq' && operator !== 'ne')) {
      const literalType = literal.kind === 'string' ? 'Edm.String' : `a ${literal.kind} literal`;
      throw badRequest(`A binary operator with incompatible types was detected. Found operand types '${definition.type}' and '${literalType}' for operator kind '${OPERATOR_KINDS[operator]}'.`);
    }
    const value = definition.type === 'Edm.Guid' && typeof literal.value === 'string' ? literal.value.toLowerCase() : literal.value;
    return { property: name, operator, value };
  };

  const comparisons = conjunction();
  if (at < tokens.length) throw badRequest(`Syntax error in $filter at '${tokens[at]}'.`);
  return comparisons;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseLiteral(token: string): Literal | undefined {
  if (token.startsWith("'")) return { kind: 'string', value: token.slice(1, -1).replaceAll("''", "'") };
  const word = token.toLowerCase();
  if (word === 'null') return { kind: 'null', value: null };
  if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(token)) return { kind: 'number', value: Number(token) };
  if (GUID.test(token)) return { kind: 'guid', value: token };
  if (/^\d{4}-\d{2}-\d{2}$/.test(token)) {
    if (!DateTime.fromISO(token, { zone: 'utc' }).isValid) throw badRequest(`'${token}' is not a valid Edm.Date literal.`);
    return { kind: 'date', value: token };
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(token)) {
    // RFC 3339: an instant needs its offset; OData has no local times.
    const instant = /(Z|[+-]\d{2}:\d{2})$/i.test(token) ? DateTime.fromISO(token, { setZone: true }) : undefined;
    if (!instant?.isValid) throw badRequest(`'${token}' is not a valid Edm.DateTimeOffset literal; use RFC 3339 with an offset, e.g. 2024-01-15T10:30:00Z.`);
    return { kind: 'datetime', value: instant.toMillis() };
  }
  return undefined;
}

function accepts(definition: PropertyDefinition, literal: Literal): boolean {
  if (literal.kind === 'null') return true;
  switch (definition.type) {
    case 'Edm.DateTimeOffset':
      return literal.kind === 'datetime';
    case 'Edm.Date':
      return literal.kind === 'date';
    case 'Edm.Guid':
      return literal.kind === 'guid' || (literal.kind === 'string' && GUID.test(literal.value as string));
    case 'Edm.Boolean':
      return literal.kind === 'boolean';
    case 'Edm.String':
      return literal.kind === 'string';
    default:
      return literal.kind === 'number';
  }
}
