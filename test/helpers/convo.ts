import { Readable } from 'node:stream';
import { createConfigPersister, fillDefaults } from '../../src/core/config.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { runConvoTarget, TARGET_SETTINGS } from '../../src/targets/convo/target.js';
import { memoryLogger } from './logger.js';
import { TEST_NOW } from './sync.js';

/** A Singer RECORD line of `stream`. */
export const record = (stream: string, fields: JsonRecord) => JSON.stringify({ type: 'RECORD', stream, record: fields });

/** A Singer STATE line. */
export const state = (value: JsonRecord) => JSON.stringify({ type: 'STATE', value });

/** What target-convo remembers per stream and key, in a state it echoed. */
export type WrittenKeys = Record<string, Record<string, { id: string; hash: string; deleted?: true }>>;

/** One in-process run of target-convo over these lines (retries and job polls shortened, the clock at TEST_NOW), collecting what it prints. */
export async function writeWithTarget(config: JsonRecord, lines: string[], from?: JsonRecord) {
  const out: string[] = [];
  const rejects: JsonRecord[] = [];
  const logger = memoryLogger('info');
  const settings = fillDefaults(structuredClone(config), PROVIDERS, TARGET_SETTINGS);
  const summary = await runConvoTarget(Readable.from(lines), async (line) => void out.push(line), settings, {
    logger,
    persister: createConfigPersister(new Map(), logger),
    state: from,
    reject: (line) => void rejects.push(JSON.parse(line) as JsonRecord),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    jobPoll: { firstMs: 1, longestMs: 4 },
    now: () => TEST_NOW,
  });
  const states = out.map((line) => JSON.parse(line) as { type: string; value: JsonRecord });
  const last = states.at(-1)?.value;
  return { summary, rejects, logs: logger.lines, states, last, written: (last?.target_convo ?? {}) as WrittenKeys };
}
