// Rate-limit use: backfills against the sandbox with its real per-provider limits on and the tap at
// its default client rate. The ideal is requests ÷ the limit in seconds; the figure is elapsed ÷
// ideal (goal ≤ 1.05×) with zero 429s. Elapsed is the tap process's wall time, start-up included.
//
//   node bench/rate-limit.js
import { figure, formatNumber, formatSection, isMain, markdownTable, runTap, sandboxAnchor, startBenchSandbox, tapConfig, trafficSince, trafficSnapshot } from './lib.js';

const GOAL = 1.05;

/**
 * Each case is a backfill of about 25–35 s: Gong's calls with their transcripts (Gong API v2 "Limits":
 * 3 requests/s) and Clari Copilot's calls with one /call-details request each (Clari Copilot OpenAPI "Rate limit": 10/s).
 */
const CASES = [
  { provider: 'gong', prefix: 'gong', perSecond: 3, scale: 15, days: 89, streams: ['gong_calls', 'gong_transcripts'] },
  { provider: 'clari_copilot', prefix: 'clari-copilot', perSecond: 10, scale: 1, days: 17, streams: ['clari_copilot_calls', 'clari_copilot_call_details'] },
];

async function measure({ provider, prefix, perSecond, scale, days, streams }) {
  const sandbox = await startBenchSandbox({ scale });
  try {
    const end = sandboxAnchor().minus({ days: 1 });
    const start = end.minus({ days });
    const before = trafficSnapshot(sandbox, prefix);
    const run = await runTap({ config: tapConfig(sandbox, [provider], { start, end }), streams });
    const traffic = trafficSince(sandbox, prefix, before);
    const idealSeconds = traffic.requests / perSecond;
    return { provider, perSecond, streams, start, end, run, traffic, idealSeconds, ratio: run.seconds / idealSeconds };
  } finally {
    await sandbox.close();
  }
}

export async function benchRateLimit() {
  const results = [];
  for (const testCase of CASES) results.push(await measure(testCase));
  const rows = results.map((r) => [
    `${r.provider} (${r.perSecond}/s)`,
    r.streams.map((s) => `${s} ${formatNumber(r.run.records[s] ?? 0, 0)}`).join(', '),
    `${r.start.toISODate()} – ${r.end.toISODate()}`,
    String(r.traffic.requests),
    formatNumber(r.idealSeconds),
    formatNumber(r.run.seconds),
    String(r.traffic.peakPerSecond),
    String(r.traffic.rateLimited),
  ]);
  return {
    title: 'Rate-limit use: backfills under the real limits',
    figures: results.flatMap((r) => [
      figure(`${r.provider}: elapsed ÷ (requests ÷ ${r.perSecond}/s)`, r.ratio, `≤ ${GOAL}×`, r.ratio <= GOAL, { unit: '×' }),
      figure(`${r.provider}: 429 answers`, r.traffic.rateLimited, '0', r.traffic.rateLimited === 0, { digits: 0 }),
    ]),
    details: [
      'Sandbox limits on (sliding one-second window, 429 beyond it), tap at its default rate; Clari\'s seeded 502s are off so the time measures pacing, not retries.',
      '',
      markdownTable(['provider', 'records', 'range', 'requests', 'ideal s', 'elapsed s', 'peak req/s', '429s'], rows),
    ].join('\n'),
  };
}

if (isMain(import.meta)) process.stdout.write(formatSection(await benchRateLimit()));
