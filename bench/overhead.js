// Overhead: tap-convo reading gong_calls from a zero-latency sandbox (no rate limit, no faults) vs
// the floor, bench/floor-gong-calls.js, which sends the same requests and only writes the bodies.
// Both are child processes with stdout to /dev/null; the sandbox runs in this process, so both pay
// the same generation cost. The figure is tap seconds ÷ floor seconds (goal ≤ 1.5×).
//
//   node bench/overhead.js [--scale N]
import { join } from 'node:path';
import { figure, formatNumber, formatSection, isMain, markdownTable, ROOT, runNode, runTap, sandboxAnchor, startBenchSandbox, tapConfig, trafficSince, trafficSnapshot } from './lib.js';

const GOAL = 1.5;
const REPEATS = 3;

/** `scale` 120 gives about 11,600 calls in the 29-day range (one of the tap's 30-day windows). */
export async function benchOverhead({ scale = 120 } = {}) {
  const sandbox = await startBenchSandbox({ scale, unlimited: true });
  try {
    // Well inside the sandbox's 90 days of history, so every call is processed and served.
    const end = sandboxAnchor().minus({ days: 31 });
    const start = end.minus({ days: 29 });
    // No client-side pacing either: the sandbox is unlimited and the tap should run flat out.
    const config = tapConfig(sandbox, ['gong'], { start, end, requestsPerSecond: 100_000 });
    const plan = JSON.stringify({ baseUrl: config.gong.base_url, accessKey: config.gong.access_key, accessKeySecret: config.gong.access_key_secret, start: start.toISO(), end: end.toISO() });

    // One unmeasured read first, so neither side pays for the sandbox's own warm-up (JIT, caches).
    await runNode(join(ROOT, 'bench', 'floor-gong-calls.js'), [plan]);
    const tapRuns = [];
    const floorRuns = [];
    // Alternating runs, best of each: one warms nothing the other lacks, and noise only adds time.
    for (let i = 0; i < REPEATS; i++) {
      const before = trafficSnapshot(sandbox, 'gong');
      const tap = await runTap({ config, streams: ['gong_calls'] });
      tapRuns.push({ ...tap, requests: trafficSince(sandbox, 'gong', before).requests });
      const floorBefore = trafficSnapshot(sandbox, 'gong');
      const floor = await runNode(join(ROOT, 'bench', 'floor-gong-calls.js'), [plan]);
      if (floor.code !== 0) throw new Error(`floor exited ${floor.code}: ${floor.stderr.slice(-500)}`);
      floorRuns.push({ ...floor, requests: trafficSince(sandbox, 'gong', floorBefore).requests });
    }
    const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const tap = best(tapRuns);
    const floor = best(floorRuns);
    if (tap.requests !== floor.requests) throw new Error(`the floor sent ${floor.requests} requests, the tap ${tap.requests}: they must read the same pages`);
    const records = tap.records.gong_calls ?? 0;
    const ratio = tap.seconds / floor.seconds;
    const rows = [
      ['tap-convo → Singer lines', formatNumber(tap.seconds), formatNumber(records / tap.seconds, 0), tapRuns.map((r) => formatNumber(r.seconds)).join(', ')],
      ['floor: same requests, bodies → stdout', formatNumber(floor.seconds), formatNumber(records / floor.seconds, 0), floorRuns.map((r) => formatNumber(r.seconds)).join(', ')],
    ];
    return {
      title: 'Overhead: tap-convo vs a bare fetch loop (zero-latency sandbox)',
      figures: [figure('gong_calls: tap seconds ÷ floor seconds', ratio, `≤ ${GOAL}×`, ratio <= GOAL, { unit: '×' })],
      details: [
        `${formatNumber(records, 0)} gong_calls (extensive: parties, content, interaction, collaboration) from ${start.toISODate()} to ${end.toISODate()}, sandbox scale ${scale}, ${tap.requests} requests per run; after one unmeasured warm-up read, best of ${REPEATS} alternating runs, each a fresh process including Node start-up.`,
        '',
        markdownTable(['client', 'seconds (best)', 'records/s', 'all runs (s)'], rows),
      ].join('\n'),
    };
  } finally {
    await sandbox.close();
  }
}

if (isMain(import.meta)) {
  const at = process.argv.indexOf('--scale');
  process.stdout.write(formatSection(await benchOverhead(at > 0 ? { scale: Number(process.argv[at + 1]) } : {})));
}
