import type { RawValue } from './edm.js';
import type { EntitySetRuntime } from './dataset.js';
import type { Comparison, ComparisonOperator, OrderItem, QueryPlan } from './query-options.js';
import { ascending, cut, descending, firstPosition, slice, type Run } from './runs.js';
import { UPDATE_DELAYS_MS } from './timeline.js';

export interface QueryResult {
  /** Matches of the filter, ignoring skip and page size (`$count`). */
  total: number;
  /** Record indices of the requested page, in order. */
  page: number[];
}

/**
 * Runs a parsed query against one entity set at one moment. Filters on monotonic properties (id,
 * creation time, parent id) become an index range and filters or sorts on `updated` become a few
 * sorted runs, so the usual tap queries page through millions of records arithmetically. Anything
 * else (other filters, other sort keys) is evaluated record by record once and the ordered matches are
 * cached, so following next links stays cheap.
 *
 * Order: `$orderby`, ties broken by id in the direction of the first item. Without `$orderby` the
 * service picks the order (OData v4 Protocol §11.2.6.2): by `updated` when the filter is on it (the way
 * an index would serve it), else by id.
 */
export class QueryEngine {
  private readonly cache = new Map<string, number[]>();

  /** The matches of `plan` at `nowMs`, and the indices of `limit` of them from the `skip`-th on. */
  run(set: EntitySetRuntime, plan: QueryPlan, nowMs: number, skip: number, limit: number): QueryResult {
    const visible = set.visibleCount(nowMs);
    const record = (index: number) => set.record(index, nowMs);
    const monotonic = (c: Comparison) => set.properties.get(c.property)!.monotonic && c.value !== null && c.operator !== 'ne';
    const onUpdated = (c: Comparison) => c.property === 'updated' && c.value !== null && c.operator !== 'ne';

    let low = 0;
    let high = visible;
    const whole: Run = { start: 0, step: 1, size: visible, key: (index) => index };
    for (const c of plan.filter.filter(monotonic)) {
      const [from, to] = bounds(whole, (index) => record(index).get(c.property), c.operator, c.value);
      low = Math.max(low, from);
      high = Math.min(high, to);
    }
    const updatedFilter = plan.filter.filter(onUpdated);
    const residual = plan.filter.filter((c) => !monotonic(c) && !onUpdated(c));

    const [first, ...rest] = plan.orderBy.length > 0 ? plan.orderBy : [{ property: updatedFilter.length > 0 ? 'updated' : 'id', descending: false }];
    const isDescending = first!.descending;
    const tieBreakOnly = rest.every((item) => item.property === 'id' && item.descending === isDescending);
    const byIndex = tieBreakOnly && set.properties.get(first!.property)!.monotonic;
    const byUpdated = tieBreakOnly && first!.property === 'updated';

    const runs =
      updatedFilter.length > 0 || byUpdated
        ? this.updatedRuns(set, low, high, nowMs, updatedFilter).map((run) => (byUpdated ? run : { ...run, key: (index: number) => index }))
        : [{ start: low, step: 1, size: Math.max(0, high - low), key: (index: number) => index }];

    if (residual.length === 0 && (byIndex || byUpdated)) {
      const total = runs.reduce((sum, run) => sum + run.size, 0);
      const page: number[] = [];
      const reader = isDescending ? descending(runs, cut(runs, total - skip)) : ascending(runs, cut(runs, skip));
      for (const index of reader) {
        if (page.length >= limit) break;
        page.push(index);
      }
      return { total, page };
    }

    const key = [set.name, visible, ...UPDATE_DELAYS_MS.map((delay) => set.visibleCount(nowMs - delay)), JSON.stringify([plan.filter, plan.orderBy])].join('|');
    let matches = this.cache.get(key);
    if (!matches) {
      matches = [...ascending(runs, runs.map(() => 0))].filter((index) => residual.every((c) => holds(record(index).get(c.property), c.operator, c.value)));
      if (!(byIndex || byUpdated)) sortBy(matches, [first!, ...rest], record);
      else if (isDescending) matches.reverse();
      this.remember(key, matches);
    }
    return { total: matches.length, page: matches.slice(skip, skip + limit) };
  }

  /**
   * The records of [low, high) that match the `updated` comparisons, as runs sorted by `updated`: per
   * update class, the records whose later update is visible (updated = created + delay) and those
   * whose is not (updated = created).
   */
  private updatedRuns(set: EntitySetRuntime, low: number, high: number, nowMs: number, filter: Comparison[]): Run[] {
    const classes = set.definition.versioned ? UPDATE_DELAYS_MS.length : 1;
    const runs: Run[] = [];
    for (let c = 0; c < classes; c++) {
      const delay = set.definition.versioned ? UPDATE_DELAYS_MS[c]! : 0;
      const updatedBefore = delay > 0 ? Math.min(high, Math.max(low, set.visibleCount(nowMs - delay))) : low;
      for (const [from, to, shift] of [[low, updatedBefore, delay], [updatedBefore, high, 0]] as const) {
        const start = from + ((((c - from) % classes) + classes) % classes);
        const size = start < to ? Math.floor((to - 1 - start) / classes) + 1 : 0;
        let run: Run = { start, step: classes, size, key: (index) => set.createdMs(index) + shift };
        for (const comparison of filter) {
          const [first, end] = bounds(run, run.key, comparison.operator, comparison.value);
          run = slice(run, first, end);
        }
        if (run.size > 0) runs.push(run);
      }
    }
    return runs;
  }

  private remember(key: string, matches: number[]): void {
    this.cache.set(key, matches);
    if (this.cache.size > 8) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** Positions [from, to) of `run` whose value (non-decreasing along the run) satisfies `operator value`. */
function bounds(run: Run, valueOf: (index: number) => RawValue, operator: ComparisonOperator, value: RawValue): [number, number] {
  const atLeast = () => firstPosition(run, (index) => compare(valueOf(index), value) >= 0);
  const above = () => firstPosition(run, (index) => compare(valueOf(index), value) > 0);
  switch (operator) {
    case 'gt':
      return [above(), run.size];
    case 'ge':
      return [atLeast(), run.size];
    case 'lt':
      return [0, atLeast()];
    case 'le':
      return [0, above()];
    default:
      return [atLeast(), above()];
  }
}

function compare(a: RawValue, b: RawValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** OData null semantics: null equals only null, and no ordering comparison with null holds. */
function holds(actual: RawValue, operator: ComparisonOperator, expected: RawValue): boolean {
  if (actual === null || expected === null) {
    if (operator === 'eq') return actual === expected;
    if (operator === 'ne') return actual !== expected;
    return false;
  }
  const order = compare(actual, expected);
  switch (operator) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}

/** OData v4 Protocol §11.2.6.2: nulls sort first ascending; ties by index (id) in the first item's direction. */
function sortBy(indices: number[], orderBy: OrderItem[], record: (index: number) => { get(property: string): RawValue }): void {
  const keys = new Map(indices.map((index) => [index, orderBy.map((item) => record(index).get(item.property))]));
  const direction = orderBy[0]!.descending ? -1 : 1;
  indices.sort((a, b) => {
    const left = keys.get(a)!;
    const right = keys.get(b)!;
    for (let i = 0; i < orderBy.length; i++) {
      const x = left[i]!;
      const y = right[i]!;
      const order = x === y ? 0 : x === null ? -1 : y === null ? 1 : compare(x, y);
      if (order !== 0) return orderBy[i]!.descending ? -order : order;
    }
    return direction * (a - b);
  });
}
