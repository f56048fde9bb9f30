import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DIR } from '../../core/catalog.js';
import type { ConfigPersister } from '../../core/config.js';
import type { ProviderConfig, RequestSpec } from '../../core/definitions.js';
import { absoluteRequest, createProviderClient } from '../../core/provider-client.js';
import { HttpStatusError, type HttpClient } from '../../http/client.js';
import type { RetryPolicy } from '../../http/retry.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { decodeSingerLine } from '../../protocol/singer-reader.js';
import { InputError, SyncError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { validator } from '../../util/schema.js';
import { clariCopilotWriters } from './clari-copilot.js';
import type { ObjectWriter, WriteChannel, Written } from './writers.js';

/** Every object target-convo writes, by the stream that names it. */
const WRITERS = clariCopilotWriters as readonly ObjectWriter[];

/** target-convo's own settings, beside the tap's provider blocks. */
export const TARGET_SETTINGS = {
  dry_run: { type: 'boolean', default: false, title: 'Dry run', description: 'Validate every record and print each request it would send, sending nothing.' },
  max_rejects: { type: 'integer', minimum: 0, default: 100, title: 'Most rejects', description: 'Stop once more records than this were rejected by validation or the API.' },
} as const;

/** The key of target-convo's part of the Singer state: what it wrote, per stream and key. */
const STATE_KEY = 'target_convo';

export interface ConvoTargetOptions {
  logger: Logger;
  persister: ConfigPersister;
  /** The state a rerun starts from (`--state`): what earlier runs wrote. */
  state?: JsonRecord;
  /** One reject as a JSON line (stream, key, status, message), on stderr. */
  reject(line: string): void;
  /** The HTTP client's retry policy, if not its default (tests shorten the waits). */
  retry?: Partial<RetryPolicy>;
}

/** The outcome: how many records were written, left unchanged, and rejected. */
export interface ConvoTargetSummary {
  written: number;
  unchanged: number;
  rejected: number;
}

/**
 * Reads Singer messages and writes each RECORD to the API its stream names, in order, one at a time:
 * validated against the object's write schema first; skipped, costing no request, when its payload
 * is what this target last wrote for the key. After each record is acknowledged or rejected the
 * state holds it, and a STATE (the tap's, plus `target_convo`) is echoed when one arrives and at the end.
 */
export async function runConvoTarget(lines: AsyncIterable<string>, writeLine: (line: string) => Promise<void>, config: JsonRecord, options: ConvoTargetOptions): Promise<ConvoTargetSummary> {
  const writers = new Map(WRITERS.map((writer) => [writer.stream, writer]));
  const written = structuredClone(((options.state?.[STATE_KEY] ?? {}) as Record<string, Record<string, Written>>));
  const channels = new Map<string, { channel: WriteChannel; client?: HttpClient }>();
  const checks = new Map<string, { check: (value: unknown) => string | undefined; fields: ReadonlySet<string> }>();
  const droppedFields = new Set<string>();
  const summary: ConvoTargetSummary = { written: 0, unchanged: 0, rejected: 0 };
  let tapState: JsonRecord = {};
  let changedSinceState = false;
  const echoState = async () => {
    await writeLine(JSON.stringify({ type: 'STATE', value: { ...tapState, [STATE_KEY]: written } }));
    changedSinceState = false;
  };
  const rejectRecord = (stream: string, key: unknown, status: number | undefined, message: string) => {
    summary.rejected++;
    options.reject(JSON.stringify({ stream, key, status: status ?? null, message }));
    if (summary.rejected > (config.max_rejects as number)) throw new SyncError(`stopped after ${summary.rejected} rejected records (more than max_rejects ${String(config.max_rejects)})`);
  };

  const channelOf = (writer: ObjectWriter): WriteChannel => {
    const known = channels.get(writer.provider.key);
    if (known) return known.channel;
    const providerConfig = config[writer.provider.key] as ProviderConfig | undefined;
    if (!providerConfig) throw new InputError(`${writer.stream}: the config has no ${writer.provider.key} block to write with`);
    const made = config.dry_run ? { channel: dryRunChannel(writer, providerConfig, options.logger) } : liveChannel(writer, providerConfig, options);
    channels.set(writer.provider.key, made);
    return made.channel;
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
        tapState = (message.value ?? {}) as JsonRecord;
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
      const key = payload[writer.key];
      const problem = check(payload);
      if (problem) {
        rejectRecord(writer.stream, key ?? null, undefined, `the record does not fit ${writer.stream}'s write schema: ${problem}`);
        continue;
      }
      const deleting = record._sdc_deleted_at !== undefined && record._sdc_deleted_at !== null;
      const byKey = (written[writer.stream] ??= {});
      const before = byKey[String(key)];
      const hash = payloadHash(deleting ? { deleted: true } : payload);
      if (before?.hash === hash) {
        summary.unchanged++;
        continue;
      }
      try {
        if (deleting) {
          if (!writer.remove) {
            rejectRecord(writer.stream, key, undefined, `${writer.stream} cannot be deleted through the API`);
            continue;
          }
          await writer.remove(String(key), before, channelOf(writer));
          if (!config.dry_run) byKey[String(key)] = { id: before?.id ?? '', hash, deleted: true };
        } else {
          const id = await writer.upsert(payload, before, channelOf(writer));
          // A dry run wrote nothing, so the state must not say it did.
          if (!config.dry_run) byKey[String(key)] = { id, hash };
        }
        summary.written++;
        changedSinceState = !config.dry_run;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        rejectRecord(writer.stream, key, error.status, apiMessage(error));
      }
    }
  } finally {
    if (changedSinceState) await echoState();
    for (const { client } of channels.values()) await client?.close();
  }
  return summary;
}

/** A record the API refused (4xx but credentials and rate limits): rejected, and the target goes on. */
function isRefusal(error: unknown): error is HttpStatusError {
  return error instanceof HttpStatusError && error.status >= 400 && error.status < 500 && ![401, 403, 429].includes(error.status);
}

/** The API's own words for a refusal, else the client's message. */
function apiMessage(error: HttpStatusError): string {
  const body = error.body as JsonRecord | string | undefined;
  if (typeof body === 'string') return body;
  const said = body?.errorMessage ?? body?.message ?? body?.error ?? body?.errors;
  return said === undefined ? error.message : typeof said === 'string' ? said : JSON.stringify(said);
}

/** A stable hash of a payload: keys sorted at every depth, so field order in the warehouse does not matter. */
function payloadHash(payload: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(canonical) : value && typeof value === 'object' ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as JsonRecord)[k])])) : value;
  return createHash('sha256').update(JSON.stringify(canonical(payload))).digest('hex');
}

/** The provider's one client, with the tap's rate limit, retries and credential rotation. */
function liveChannel(writer: ObjectWriter, config: ProviderConfig, options: ConvoTargetOptions): { channel: WriteChannel; client: HttpClient } {
  const client = createProviderClient(writer.provider, config, { logger: options.logger, persistConfig: options.persister.persistConfig, ensurePersistable: options.persister.ensurePersistable, retry: options.retry });
  const scratch = new Map<string, unknown>();
  return {
    client,
    channel: {
      async send(spec, { unsafeToRepeat } = {}) {
        return (await client.send({ ...absoluteRequest(writer.provider, config, spec, scratch), ...(unsafeToRepeat ? { unsafeToRepeat } : {}) })).body;
      },
    },
  };
}

/** Prints each request instead of sending it; a read finds nothing (as for a key never written), a write answers a placeholder id. */
function dryRunChannel(writer: ObjectWriter, config: ProviderConfig, logger: Logger): WriteChannel {
  return {
    async send(spec: RequestSpec) {
      const request = absoluteRequest(writer.provider, config, spec, new Map());
      logger.info(`dry run: ${JSON.stringify({ method: request.method, url: request.url, query: request.query, body: request.body })}`);
      if (spec.method === 'GET') throw new HttpStatusError(404, undefined, `${spec.method} ${spec.path}`, 'dry run: not read');
      return { id: 'dry-run', call_id: 'dry-run' };
    },
  };
}
