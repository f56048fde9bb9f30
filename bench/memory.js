// Memory: peak RSS of the tap process reading 10,000 vs 1,000,000 records of fourfour_chat_messages,
// the cheapest family that reaches a million (small records, 1,500 per unit of sandbox scale,
// paged arithmetically by the sandbox). The sandbox runs in this process, so its memory is not
// counted. Goals: the large run within 1.2× of the small one, and under 256 MB.
//
//   node bench/memory.js [--large N]
import { figure, formatNumber, formatSection, isMain, markdownTable, runTap, startBenchSandbox, tapConfig } from './lib.js';

const RATIO_GOAL = 1.2;
const LIMIT_MIB = 256;
// Four/Four's sandbox: ChatMessages count 1,500 per unit of scale over its 90 days of history.
const MESSAGES_PER_SCALE = 1500;
const STREAM = 'fourfour_chat_messages';

async function measure(records) {
  const sandbox = await startBenchSandbox({ scale: records / MESSAGES_PER_SCALE, unlimited: true });
  try {
    // Full history: no start date, so one unbounded read of every message.
    const run = await runTap({ config: tapConfig(sandbox, ['fourfour'], { requestsPerSecond: 100_000 }), streams: [STREAM], measureMemory: true });
    return { records: run.records[STREAM] ?? 0, seconds: run.seconds, peakRssMiB: run.peakRssMiB };
  } finally {
    await sandbox.close();
  }
}

export async function benchMemory({ small = 10_000, large = 1_000_000 } = {}) {
  const runs = [await measure(small), await measure(large)];
  const ratio = runs[1].peakRssMiB / runs[0].peakRssMiB;
  return {
    title: `Memory: peak RSS of tap-convo, ${formatNumber(small, 0)} vs ${formatNumber(large, 0)} records`,
    figures: [
      figure('peak RSS large ÷ small', ratio, `≤ ${RATIO_GOAL}×`, ratio <= RATIO_GOAL, { unit: '×' }),
      figure(`peak RSS at ${formatNumber(runs[1].records, 0)} records`, runs[1].peakRssMiB, `< ${LIMIT_MIB} MiB`, runs[1].peakRssMiB < LIMIT_MIB, { unit: ' MiB', digits: 0 }),
    ],
    details: [
      `${STREAM}, full history, stdout to /dev/null; peak RSS is the process's high-water mark (GNU time %M, else /proc VmHWM).`,
      '',
      markdownTable(['records', 'seconds', 'records/s', 'peak RSS (MiB)'], runs.map((r) => [formatNumber(r.records, 0), formatNumber(r.seconds), formatNumber(r.records / r.seconds, 0), formatNumber(r.peakRssMiB, 0)])),
    ].join('\n'),
  };
}

if (isMain(import.meta)) {
  const at = process.argv.indexOf('--large');
  process.stdout.write(formatSection(await benchMemory(at > 0 ? { large: Number(process.argv[at + 1]) } : {})));
}
