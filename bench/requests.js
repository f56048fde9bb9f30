// Request economy: requests the tap sends per 1,000 calls read with their transcripts (Gong) or
// details (Clari Copilot), counted by the sandbox, against the floor: ceil(N / 100) per paged
// endpoint (pages of 100: providers.md §1.4, §2.3), and for Clari details one request per call.
// The figure is tap requests ÷ floor requests; 1.00× is the least any client can send.
//
//   node bench/requests.js
import { figure, formatNumber, formatSection, isMain, markdownTable, runTap, sandboxAnchor, startBenchSandbox, tapConfig, trafficSince, trafficSnapshot } from './lib.js';

const PAGE = 100;

/** A 90-day backfill each (three of the tap's 30-day windows), paced only by the tap itself. */
const CASES = [
  {
    provider: 'gong',
    prefix: 'gong',
    scale: 10,
    streams: ['gong_calls', 'gong_transcripts'],
    // Calls are listed in pages; transcripts are asked for 100 call ids at a time.
    floor: (records) => Math.ceil(records.gong_calls / PAGE) + Math.ceil(records.gong_transcripts / PAGE),
    perThousandOf: 'gong_calls',
  },
  {
    provider: 'clari_copilot',
    prefix: 'clari-copilot',
    scale: 2,
    streams: ['clari_copilot_calls', 'clari_copilot_call_details'],
    // Calls are listed in pages; /call-details takes one id per request (providers.md §2.4).
    floor: (records) => Math.ceil(records.clari_copilot_calls / PAGE) + records.clari_copilot_call_details,
    perThousandOf: 'clari_copilot_calls',
  },
];

async function measure({ provider, prefix, scale, streams, floor, perThousandOf }) {
  const sandbox = await startBenchSandbox({ scale, unlimited: true });
  try {
    const end = sandboxAnchor().minus({ days: 1 });
    const start = end.minus({ days: 89 });
    const before = trafficSnapshot(sandbox, prefix);
    const run = await runTap({ config: tapConfig(sandbox, [provider], { start, end, requestsPerSecond: 100_000 }), streams });
    const requests = trafficSince(sandbox, prefix, before).requests;
    const calls = run.records[perThousandOf] ?? 0;
    const floorRequests = floor(run.records);
    return { provider, streams, records: run.records, requests, floorRequests, perThousand: (requests * 1000) / calls, floorPerThousand: (floorRequests * 1000) / calls };
  } finally {
    await sandbox.close();
  }
}

export async function benchRequests() {
  const results = [];
  for (const testCase of CASES) results.push(await measure(testCase));
  const rows = results.map((r) => [
    r.provider,
    r.streams.map((s) => `${s} ${formatNumber(r.records[s] ?? 0, 0)}`).join(', '),
    String(r.requests),
    String(r.floorRequests),
    formatNumber(r.perThousand, 1),
    formatNumber(r.floorPerThousand, 1),
  ]);
  return {
    title: 'Request economy: requests per 1,000 calls',
    figures: results.map((r) => figure(`${r.provider}: requests ÷ floor (${formatNumber(r.perThousand, 1)} per 1,000 calls)`, r.requests / r.floorRequests, '≈ 1× (reference)', undefined, { unit: '×' })),
    details: [
      'An 89-day backfill each against an unlimited sandbox (no faults, no 502s); requests counted by the sandbox.',
      '',
      markdownTable(['provider', 'records', 'requests', 'floor', 'per 1,000 calls', 'floor per 1,000'], rows),
    ].join('\n'),
  };
}

if (isMain(import.meta)) process.stdout.write(formatSection(await benchRequests()));
