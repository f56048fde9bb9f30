import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { FormData } from 'undici';
import { CATALOG_DIR } from '../../core/catalog.js';
import type { ConfigPersister } from '../../core/config.js';
import type { ProviderConfig, RequestSpec } from '../../core/definitions.js';
import { absoluteRequest, createProviderClient } from '../../core/provider-client.js';
import { QuotaLedger, type QuotaUsage } from '../../core/quota.js';
import { latestQuotas, parseInstant } from '../../core/state.js';
import { HttpStatusError, TextBody, type HttpClient } from '../../http/client.js';
import type { RetryPolicy } from '../../http/retry.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { decodeSingerLine } from '../../protocol/singer-reader.js';
import { InputError, SyncError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { validator } from '../../util/schema.js';
import { clariCopilotWriters } from './clari-copilot.js';
import { fourfourWriters } from './fourfour.js';
import { gongWriters } from './gong.js';
import type { Change, ObjectWriter, WriteChannel, Written } from './writers.js';

/** Every object target-convo writes, by the stream that names it. */
const WRITERS = [...gongWriters, ...clariCopilotWriters, ...fourfourWriters] as readonly ObjectWriter[];

/** target-convo's own settings, beside the tap's provider blocks. */
export const TARGET_SETTINGS = {
  dry_run: { type: 'boolean', default: false, title: 'Dry run', description: 'Validate every record and print each request it would send, sending nothing.' },
  max_rejects: { type: 'integer', minimum: 0, default: 100, title: 'Most rejects', description: 'Stop once more records than this were rejected by validation or the API.' },
} as const;

/** The key of target-convo's part of the Singer state: what it wrote, per stream and key. */
const STATE_KEY = 'target_convo';

/** Waits between looks at an asynchronous job: the first, doubling up to the longest. */
const JOB_POLL = { firstMs: 250, longestMs: 5_000 };

export interface ConvoTargetOptions {
  logger: Logger;
  persister: ConfigPersister;
  /** The state a rerun starts from (`--state`): what earlier runs wrote, and the requests they counted. */
  state?: JsonRecord;
  /** One reject as a JSON line (stream, key, status, message), on stderr. */
  reject(line: string): void;
  /** The HTTP client's retry policy, if not its default (tests shorten the waits). */
  retry?: Partial<RetryPolicy>;
  /** The waits between looks at a job, if not JOB_POLL's (tests shorten them). */
  jobPoll?: typeof JOB_POLL;
  /** The clock the quota windows turn on. */
  now?: () => DateTime;
}

/** The outcome: how many records were written, left unchanged, and rejected. */
export interface ConvoTargetSummary {
  written: number;
  unchanged: number;
  rejected: number;
}

/** Changes of one stream waiting to be written together, with the hash each key will be remembered by. */
interface Batch {
  writer: ObjectWriter;
  changes: Change[];
  hashes: string[];
  /** Each record's key as the record gives it, for the rejects output. */
  keys: unknown[];
}

/**
 * Reads Singer messages and writes each RECORD to the API its stream names, in order: validated
 * against the object's write schema first; skipped, costing no request, when its payload is what
 * this target last wrote for the key; gathered into batches where the API imports several at once.
 * After each record is acknowledged or rejected the state holds it, and a STATE (the tap's, plus the
 * requests counted against each quota and `target_convo`) is echoed, once every record before it
 * was written, when one arrives and at the end.
 */
export async function runConvoTarget(lines: AsyncIterable<string>, writeLine: (line: string) => Promise<void>, config: JsonRecord, options: ConvoTargetOptions): Promise<ConvoTargetSummary> {
  const writers = new Map(WRITERS.map((writer) => [writer.stream, writer]));
  const { [STATE_KEY]: before, ...carried } = options.state ?? {};
  const written = structuredClone((before ?? {}) as Record<string, Record<string, Written>>);
  const channels = new Channels(config, options);
  channels.passOn(carried.quota);
  const checks = new Map<string, { check: (value: unknown) => string | undefined; fields: ReadonlySet<string> }>();
  const droppedFields = new Set<string>();
  const pending = new Map<string, Batch>();
  const summary: ConvoTargetSummary = { written: 0, unchanged: 0, rejected: 0 };
  let tapState: JsonRecord = carried;
  let changedSinceState = false;

  const echoState = async () => {
    const quota = { ...(tapState.quota as JsonRecord | undefined), ...channels.quotaUsage() };
    await writeLine(JSON.stringify({ type: 'STATE', value: { ...tapState, ...(Object.keys(quota).length ? { quota } : {}), [STATE_KEY]: written } }));
    changedSinceState = false;
  };
  const rejectRecord = (stream: string, key: unknown, status: number | undefined, message: string) => {
    summary.rejected++;
    options.reject(JSON.stringify({ stream, key: key ?? null, status: status ?? null, message }));
  };
  const stopPastMostRejects = () => {
    if (summary.rejected > (config.max_rejects as number)) throw new SyncError(`stopped after ${summary.rejected} rejected records (more than max_rejects ${String(config.max_rejects)})`);
  };
  const flush = async (stream: string) => {
    const batch = pending.get(stream);
    if (!batch) return;
    pending.delete(stream);
    const outcomes = await batch.writer.write(batch.changes, channels.of(batch.writer));
    const byKey = (written[stream] ??= {});
    batch.changes.forEach((change, i) => {
      const outcome = outcomes[i]!;
      if ('refused' in outcome) return rejectRecord(stream, batch.keys[i], outcome.refused.status, outcome.refused.message);
      summary.written++;
      // A dry run wrote nothing, so the state must not say it did.
      if (config.dry_run) return;
      byKey[change.key] = { id: outcome.id, hash: batch.hashes[i]!, ...(change.deleting ? { deleted: true as const } : {}) };
      changedSinceState = true;
    });
    stopPastMostRejects();
  };
  const flushAll = async () => {
    for (const stream of [...pending.keys()]) await flush(stream);
  };
  const checkOf = (writer: ObjectWriter) => {
    let known = checks.get(writer.stream);
    if (!known) {
      const schema = JSON.parse(readFileSync(join(CATALOG_DIR, writer.provider.key, 'write', `${writer.schemaFile}.json`), 'utf8')) as JsonRecord;
      checks.set(writer.stream, (known = { check: validator(schema), fields: new Set(Object.keys(schema.properties as object)) }));
    }
    return known;
  };

  try {
    for await (const line of lines) {
      const message = decodeSingerLine(line, options.logger);
      if (!message) continue;
      if (message.type === 'STATE') {
        await flushAll();
        tapState = (message.value ?? {}) as JsonRecord;
        channels.passOn(tapState.quota);
        await echoState();
        continue;
      }
      if (message.type !== 'RECORD') continue;
      const writer = writers.get(message.stream);
      if (!writer) throw new InputError(`target-convo writes ${[...writers.keys()].join(', ')}; it cannot write stream ${message.stream}`);
      const { check, fields } = checkOf(writer);
      const record = message.record as JsonRecord;
      // A null column is a value not given: the write schemas have no nulls, and the API keeps what it holds.
      const payload: JsonRecord = {};
      for (const [field, value] of Object.entries(record)) {
        if (value === null || field.startsWith('_sdc_')) continue;
        if (fields.has(field)) payload[field] = value;
        else if (!droppedFields.has(`${writer.stream}.${field}`)) {
          droppedFields.add(`${writer.stream}.${field}`);
          options.logger.warn(`${writer.stream}: field "${field}" is not in its write schema; it is not sent`);
        }
      }
      const problem = check(payload);
      if (problem) {
        rejectRecord(writer.stream, payload[writer.key], undefined, `the record does not fit ${writer.stream}'s write schema: ${problem}`);
        stopPastMostRejects();
        continue;
      }
      const key = String(payload[writer.key]);
      const deleting = record._sdc_deleted_at !== undefined && record._sdc_deleted_at !== null;
      const hash = payloadHash(deleting ? { deleted: true } : payload);
      let batch = pending.get(writer.stream);
      // A key met twice in one batch is written in order: the batch holding the first goes out first.
      if (batch?.changes.some((change) => change.key === key)) {
        await flush(writer.stream);
        batch = undefined;
      }
      const earlier = written[writer.stream]?.[key];
      if (earlier?.hash === hash) {
        summary.unchanged++;
        continue;
      }
      if (!batch) pending.set(writer.stream, (batch = { writer, changes: [], hashes: [], keys: [] }));
      batch.changes.push({ key, payload, before: earlier, deleting });
      batch.hashes.push(hash);
      batch.keys.push(payload[writer.key]);
      if (batch.changes.length >= writer.batchSize) await flush(writer.stream);
    }
    await flushAll();
  } finally {
    if (changedSinceState) await echoState();
    await channels.close();
  }
  return summary;
}

/** A stable hash of a payload: keys sorted at every depth, so field order in the warehouse does not matter. */
function payloadHash(payload: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(canonical) : value && typeof value === 'object' ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as JsonRecord)[k])])) : value;
  return createHash('sha256').update(JSON.stringify(canonical(payload))).digest('hex');
}

/**
 * The target's way to each API: per provider (and per set of credentials) one client, with the tap's
 * rate limit, retries and credential rotation, and one quota ledger, counting on from the state.
 */
class Channels {
  private readonly channels = new Map<string, WriteChannel>();
  private readonly clients: HttpClient[] = [];
  private readonly ledgers = new Map<string, QuotaLedger>();
  /** The quota counts the states so far carried (the one the run started from, a tap's passed on), by provider. */
  private counted: Record<string, QuotaUsage> = {};

  constructor(
    private readonly config: JsonRecord,
    private readonly options: ConvoTargetOptions,
  ) {}

  of(writer: ObjectWriter): WriteChannel {
    // A provider's writers share one client, and those that authenticate with their own credentials another.
    const name = writer.credentials ? `${writer.provider.key} (own credentials)` : writer.provider.key;
    let channel = this.channels.get(name);
    if (!channel) {
      const block = this.config[writer.provider.key] as ProviderConfig | undefined;
      if (!block) throw new InputError(`${writer.stream}: the config has no ${writer.provider.key} block to write with`);
      const providerConfig = writer.credentials?.(block) ?? block;
      channel = this.config.dry_run ? dryRunChannel(writer, providerConfig, this.options.logger) : this.live(writer, providerConfig);
      this.channels.set(name, channel);
    }
    return channel;
  }

  /** A state's counts of the quotas (a tap's STATE passed on counts what the tap spent): the higher count of a window holds. */
  passOn(quota: unknown): void {
    const usages = Object.entries(quota && typeof quota === 'object' ? quota : {}).filter(([, usage]) => parseInstant((usage as QuotaUsage | undefined)?.window_start) && Number.isInteger((usage as QuotaUsage).requests));
    this.counted = latestQuotas([this.counted, Object.fromEntries(usages) as Record<string, QuotaUsage>]);
    for (const [provider, ledger] of this.ledgers) if (this.counted[provider]) ledger.rebase(this.counted[provider]);
  }

  /** Each quota's count as the state keeps it, for the providers this run wrote to. */
  quotaUsage(): Record<string, QuotaUsage> {
    return Object.fromEntries([...this.ledgers].map(([provider, ledger]) => [provider, ledger.usage()]));
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.close();
  }

  private live(writer: ObjectWriter, config: ProviderConfig): WriteChannel {
    const { provider } = writer;
    const { logger, persister, retry } = this.options;
    const client = createProviderClient(provider, config, { logger, persistConfig: persister.persistConfig, ensurePersistable: persister.ensurePersistable, retry });
    this.clients.push(client);
    const ledger = this.ledgerOf(writer, config, client);
    const scratch = new Map<string, unknown>();
    const poll = this.options.jobPoll ?? JOB_POLL;
    return {
      dryRun: false,
      async send(spec, { unsafeToRepeat } = {}) {
        ledger?.spend();
        try {
          return (await client.send({ ...absoluteRequest(provider, config, spec, scratch), ...(unsafeToRepeat ? { unsafeToRepeat } : {}) })).body;
        } catch (error) {
          // The client waits out every 429 it can; one it hands back is the quota spent.
          if (error instanceof HttpStatusError && error.status === 429 && ledger) throw ledger.refused(error.message, error.retryAfterMs);
          throw error;
        }
      },
      pause: (attempt) => new Promise((resolve) => setTimeout(resolve, Math.min(poll.longestMs, poll.firstMs * 2 ** (attempt - 1)))),
    };
  }

  private ledgerOf(writer: ObjectWriter, config: ProviderConfig, client: HttpClient): QuotaLedger | undefined {
    const { provider } = writer;
    const rule = provider.quota;
    if (!rule) return undefined;
    let ledger = this.ledgers.get(provider.key);
    if (!ledger) {
      ledger = new QuotaLedger({
        provider: provider.title,
        period: rule.period,
        limit: rule.limit(config),
        setting: `${provider.key}.${rule.setting}`,
        usage: this.counted[provider.key],
        now: this.options.now ?? (() => DateTime.utc()),
        traffic: client.requests,
        logger: this.options.logger,
      });
      this.ledgers.set(provider.key, ledger);
    }
    return ledger;
  }
}

/** Prints each request instead of sending it; a read finds nothing (as for a key never written), a write answers a placeholder id. */
function dryRunChannel(writer: ObjectWriter, config: ProviderConfig, logger: Logger): WriteChannel {
  return {
    dryRun: true,
    async send(spec: RequestSpec) {
      const request = absoluteRequest(writer.provider, config, spec, new Map());
      logger.info(`dry run: ${JSON.stringify({ method: request.method, url: request.url, query: request.query, body: printable(request.body) })}`);
      if (spec.method === 'GET') throw new HttpStatusError(404, undefined, `${spec.method} ${spec.path}`, 'dry run: not read');
      return { id: 'dry-run', call_id: 'dry-run', callId: 'dry-run' };
    },
    pause: async () => undefined,
  };
}

/** A request body as a dry run shows it: JSON as it is, a CSV as its text, a multipart form as its parts (files by name and size). */
function printable(body: unknown): unknown {
  if (body instanceof TextBody) return body.text;
  if (!(body instanceof FormData)) return body;
  return Object.fromEntries([...body.entries()].map(([name, value]) => [name, typeof value === 'string' ? value : `${value.name} (${value.size} bytes)`]));
}
