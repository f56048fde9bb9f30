/**
 * Sorted runs: a query's matches as a few arithmetic runs of record indices, each strictly increasing
 * in its sort key. The k-th match of their union is found by binary search on the key, so a page deep
 * into millions of records is served without visiting the records before it.
 */

/** Indices start, start+step, … (`size` of them); `key` strictly increases along the run. */
export interface Run {
  start: number;
  step: number;
  size: number;
  key: (index: number) => number;
}

export const indexAt = (run: Run, position: number): number => run.start + position * run.step;

/** The first position in `run` whose index satisfies `reached` (false … false, true … true), or `run.size`. */
export function firstPosition(run: Run, reached: (index: number) => boolean): number {
  let low = 0;
  let high = run.size;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(indexAt(run, middle))) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The part of `run` from position `from` up to (not including) position `to`. */
export function slice(run: Run, from: number, to: number): Run {
  return { ...run, start: indexAt(run, from), size: Math.max(0, to - from) };
}

const countBelow = (run: Run, key: number) => firstPosition(run, (index) => run.key(index) >= key);

/**
 * Positions in each run such that exactly `rank` elements, the smallest by (key, index), lie before
 * them: where an ascending read skipping `rank` starts, or a descending one ends.
 */
export function cut(runs: readonly Run[], rank: number): number[] {
  const total = runs.reduce((sum, run) => sum + run.size, 0);
  if (rank <= 0) return runs.map(() => 0);
  if (rank >= total) return runs.map((run) => run.size);
  const filled = runs.filter((run) => run.size > 0);
  // Invariant: fewer than or exactly `rank` keys lie below `low`, more than `rank` below `high`.
  let low = Math.min(...filled.map((run) => run.key(run.start)));
  let high = Math.max(...filled.map((run) => run.key(indexAt(run, run.size - 1)))) + 1;
  const below = (key: number) => runs.reduce((sum, run) => sum + countBelow(run, key), 0);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (below(middle) <= rank) low = middle;
    else high = middle;
  }
  const positions = runs.map((run) => countBelow(run, low));
  const ties = runs
    .map((run, r) => ({ r, index: indexAt(run, positions[r]!) }))
    .filter(({ r, index }) => positions[r]! < runs[r]!.size && runs[r]!.key(index) === low)
    .sort((a, b) => a.index - b.index);
  const before = positions.reduce((sum, position) => sum + position, 0);
  for (const { r } of ties.slice(0, rank - before)) positions[r]!++;
  return positions;
}

/** Indices from `positions` onwards, smallest (key, index) first. */
export function* ascending(runs: readonly Run[], positions: number[]): Generator<number> {
  yield* merge(runs, positions, 1);
}

/** Indices before `positions`, largest (key, index) first. */
export function* descending(runs: readonly Run[], positions: number[]): Generator<number> {
  yield* merge(runs, positions, -1);
}

function* merge(runs: readonly Run[], start: number[], direction: 1 | -1): Generator<number> {
  const positions = [...start];
  const headAt = (r: number) => (direction === 1 ? positions[r]! : positions[r]! - 1);
  const head = (r: number) => {
    const position = headAt(r);
    if (position < 0 || position >= runs[r]!.size) return undefined;
    const index = indexAt(runs[r]!, position);
    return { index, key: runs[r]!.key(index) };
  };
  const heads = runs.map((_, r) => head(r));
  for (;;) {
    let best = -1;
    for (let r = 0; r < heads.length; r++) {
      const candidate = heads[r];
      if (!candidate) continue;
      const current = heads[best];
      if (!current || direction * (candidate.key - current.key || candidate.index - current.index) < 0) best = r;
    }
    if (best < 0) return;
    yield heads[best]!.index;
    positions[best]! += direction;
    heads[best] = head(best);
  }
}
