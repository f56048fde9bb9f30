// The floor of the overhead benchmark: the least a client can do to read gong_calls. It sends the
// tap's own requests (the same 30-day windows, the same body from the tap's `extensiveCallsBody`,
// the same cursor paging) with undici, finds each next cursor with one regular expression instead of
// parsing the page, and writes every body unchanged to stdout.
//
//   node bench/floor-gong-calls.js '{"baseUrl":…,"accessKey":…,"accessKeySecret":…,"start":ISO,"end":ISO}'
//
// On stderr it prints one JSON line: {"pages":N}.
import { once } from 'node:events';
import { DateTime, Duration } from 'luxon';
import { Agent, request } from 'undici';
import { extensiveCallsBody } from '../dist/providers/gong/hooks.js';

const plan = JSON.parse(process.argv[2]);
const authorization = 'Basic ' + Buffer.from(`${plan.accessKey}:${plan.accessKeySecret}`).toString('base64');
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
// The tap's gong_calls declaration reads windows of P30D (src/providers/gong/streams.ts).
const WINDOW = Duration.fromISO('P30D');
// Gong's paging object precedes the calls and holds no nested object (Gong API v2, `Records` schema).
const CURSOR = /"records"\s*:\s*\{[^{}]*"cursor"\s*:\s*"([^"]+)"/;

let pages = 0;
const end = DateTime.fromISO(plan.end, { zone: 'utc' });
for (let from = DateTime.fromISO(plan.start, { zone: 'utc' }); from < end; from = DateTime.min(from.plus(WINDOW), end)) {
  const window = { from, to: DateTime.min(from.plus(WINDOW), end) };
  const body = extensiveCallsBody({ config: {}, window, parents: [] });
  for (let cursor; ; ) {
    const response = await request(`${plan.baseUrl}/v2/calls/extensive`, {
      method: 'POST',
      dispatcher,
      headers: { authorization, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(cursor ? { ...body, cursor } : body),
    });
    const text = await response.body.text();
    // Gong answers 404 for a window without calls (Gong API v2, POST /v2/calls/extensive).
    if (response.statusCode === 404) break;
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
    pages++;
    if (!process.stdout.write(text + '\n')) await once(process.stdout, 'drain');
    cursor = CURSOR.exec(text)?.[1];
    if (!cursor) break;
  }
}
await dispatcher.close();
process.stderr.write(JSON.stringify({ pages }) + '\n');
