// Request economy, counted by the sandbox:
//  1. A backfill of calls with their transcripts (Gong) or details (Clari Copilot) against the floor:
//     ceil(N / 100) per paged endpoint (pages of 100: docs/sources.md#gong-paging, #clari-copilot-paging) and per batch of 100
//     transcript ids, one request per call for Clari details. 1.00× is the least any client can send.
//     The scales are not whole numbers, so windows end on partial pages as real histories do.
//  2. Gong calls read in the tap's 30-day windows vs the same calls as one range.
//  3. Clari call details over a week of daily runs (7-day lookback): requests sent vs one per call
//     re-read, which is what reading the details of every call the lookback re-reads would cost.
//
//   node bench/requests.js
import { figure, formatNumber, formatSection, isMain, markdownTable, runTap, sandboxAnchor, startBenchSandbox, tapConfig } from './lib.js';

const PAGE = 100;
const ceilPages = (count) => Math.ceil(count / PAGE);

/** An 89-day backfill each (three of the tap's 30-day windows), paced only by the tap itself. */
const CASES = [
  {
    provider: 'gong',
    prefix: 'gong',
    scale: 4.1,
    streams: ['gong_calls', 'gong_transcripts'],
    endpoints: { list: '/v2/calls/extensive', child: '/v2/calls/transcript' },
    // Calls are listed in pages; transcripts are asked for 100 call ids at a time.
    floor: (records) => ({ list: ceilPages(records.gong_calls), child: ceilPages(records.gong_transcripts) }),
    perThousandOf: 'gong_calls',
  },
  {
    provider: 'clari_copilot',
    prefix: 'clari-copilot',
    scale: 2.3,
    streams: ['clari_copilot_calls', 'clari_copilot_call_details'],
    endpoints: { list: '/calls', child: '/call-details' },
    // Calls are listed in pages; /call-details takes one id per request (Clari Copilot OpenAPI, GET /call-details), for the processed calls.
    floor: (records) => ({ list: ceilPages(records.clari_copilot_calls), child: records.clari_copilot_call_details }),
    perThousandOf: 'clari_copilot_calls',
  },
];

/** Requests to `path` the sandbox answered for `prefix` since log entry `from`. */
function requestsTo(sandbox, prefix, path, from = 0) {
  return sandbox.traffic[prefix].log.slice(from).filter((entry) => entry.path === path).length;
}

async function measureBackfill({ provider, prefix, scale, streams, endpoints, floor, perThousandOf }) {
  const sandbox = await startBenchSandbox({ scale, unlimited: true });
  try {
    const end = sandboxAnchor().minus({ days: 1 });
    const start = end.minus({ days: 89 });
    const run = await runTap({ config: tapConfig(sandbox, [provider], { start, end, requestsPerSecond: 100_000 }), streams });
    const sent = { list: requestsTo(sandbox, prefix, endpoints.list), child: requestsTo(sandbox, prefix, endpoints.child) };
    const least = floor(run.records);
    const calls = run.records[perThousandOf] ?? 0;
    const requests = sent.list + sent.child;
    const floorRequests = least.list + least.child;
    return { provider, streams, records: run.records, sent, least, requests, floorRequests, perThousand: (requests * 1000) / calls, floorPerThousand: (floorRequests * 1000) / calls };
  } finally {
    await sandbox.close();
  }
}

/** The same Gong calls read in 30-day windows (a start_date before the history) and as one range (no start_date). */
async function measureGongWindows() {
  const sandbox = await startBenchSandbox({ scale: 4.1, unlimited: true });
  try {
    const end = sandboxAnchor().minus({ days: 1 });
    const results = {};
    for (const [name, start] of [
      ['30-day windows', end.minus({ days: 120 })],
      ['one range', undefined],
    ]) {
      const from = sandbox.traffic.gong.log.length;
      const run = await runTap({ config: tapConfig(sandbox, ['gong'], { start, end, requestsPerSecond: 100_000 }), streams: ['gong_calls'] });
      results[name] = { calls: run.records.gong_calls, requests: requestsTo(sandbox, 'gong', '/v2/calls/extensive', from) };
    }
    return results;
  } finally {
    await sandbox.close();
  }
}

const DAILY_RUNS = 7;

/** A 30-day backfill of Clari calls with details, then a week of daily runs, each from the last one's state. */
async function measureClariWeek() {
  const first = sandboxAnchor().minus({ days: DAILY_RUNS + 1 }).plus({ hours: 6 });
  let clock = first;
  const sandbox = await startBenchSandbox({ scale: 2.3, unlimited: true, now: () => clock });
  const streams = ['clari_copilot_calls', 'clari_copilot_call_details'];
  const config = () => tapConfig(sandbox, ['clari_copilot'], { start: first.minus({ days: 30 }), end: clock, requestsPerSecond: 100_000 });
  try {
    let { state } = await runTap({ config: config(), streams, keepState: true });
    const week = { detailRequests: 0, publicCallsReread: 0, details: 0 };
    for (let day = 1; day <= DAILY_RUNS; day++) {
      clock = first.plus({ days: day });
      const from = sandbox.traffic['clari-copilot'].log.length;
      const run = await runTap({ config: config(), streams, state, keepState: true });
      state = run.state;
      week.detailRequests += requestsTo(sandbox, 'clari-copilot', '/call-details', from);
      // Private calls are never listed here (include_private is off), so every call emitted is public.
      week.publicCallsReread += run.records.clari_copilot_calls ?? 0;
      week.details += run.records.clari_copilot_call_details ?? 0;
    }
    const versions = state.bookmarks.clari_copilot_call_details?.parent_versions ?? {};
    return { ...week, stateEntries: Object.keys(versions).length, stateBytes: JSON.stringify(versions).length };
  } finally {
    await sandbox.close();
  }
}

export async function benchRequests() {
  const results = [];
  for (const testCase of CASES) results.push(await measureBackfill(testCase));
  const windows = await measureGongWindows();
  const week = await measureClariWeek();
  const rows = results.map((r) => [
    r.provider,
    r.streams.map((s) => `${s} ${formatNumber(r.records[s] ?? 0, 0)}`).join(', '),
    `${r.sent.list} + ${r.sent.child}`,
    `${r.least.list} + ${r.least.child}`,
    formatNumber(r.perThousand, 1),
    formatNumber(r.floorPerThousand, 1),
  ]);
  const windowed = windows['30-day windows'];
  const single = windows['one range'];
  return {
    title: 'Request economy: requests per 1,000 calls',
    figures: [
      ...results.map((r) => figure(`${r.provider}: requests ÷ floor (${formatNumber(r.perThousand, 1)} per 1,000 calls)`, r.requests / r.floorRequests, '≈ 1× (reference)', undefined, { unit: '×' })),
      figure(`clari_copilot: detail requests in a week of daily runs ÷ calls re-read (${week.detailRequests} of ${week.publicCallsReread})`, week.detailRequests / week.publicCallsReread, '≤ 1/7', week.detailRequests * DAILY_RUNS <= week.publicCallsReread, { unit: '×' }),
    ],
    details: [
      'An 89-day backfill each against an unlimited sandbox (no faults, no 502s); requests counted by the sandbox, as list pages + child requests.',
      '',
      markdownTable(['provider', 'records', 'requests', 'floor', 'per 1,000 calls', 'floor per 1,000'], rows),
      '',
      `Gong calls, the same ${formatNumber(single.calls, 0)} calls: ${windowed.requests} requests in 30-day windows (${formatNumber(windowed.calls, 0)} calls), ${single.requests} as one range. Each window boundary costs at most one partial page.`,
      '',
      `Clari call details, ${DAILY_RUNS} daily runs after a 30-day backfill (scale 2.3, lookback 7 days): ${week.publicCallsReread} calls re-read, ${week.detailRequests} detail requests sent, ${week.details} details emitted; the last state remembers ${week.stateEntries} calls (${formatNumber(week.stateBytes / 1024, 1)} KiB).`,
    ].join('\n'),
  };
}

if (isMain(import.meta)) process.stdout.write(formatSection(await benchRequests()));
