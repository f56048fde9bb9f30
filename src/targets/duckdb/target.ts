import type { DuckDBInstance } from '@duckdb/node-api';
import { DateTime } from 'luxon';
import type { SchemaMessage } from '../../protocol/messages.js';
import { SingerLineError, decodeSingerLine } from '../../protocol/singer-reader.js';
import { SyncError } from '../../util/errors.js';
import { createLogger, type Logger } from '../../util/log.js';
import { validator } from '../../util/schema.js';
import { resolveTargetConfig, type ResolvedTargetConfig, type TargetConfig } from './config.js';
import { DuckdbLoader } from './loader.js';

export interface TargetOptions {
  /** Where progress and warnings go; default: warnings and worse on stderr. */
  logger?: Logger;
  /** The clock behind `_sdc_received_at`, `_sdc_batched_at` and soft deletes; default now. */
  clock?: () => DateTime;
  /** An open DuckDB instance to load into instead of opening `config.database`; the caller closes it. */
  instance?: DuckDBInstance;
}

export interface TargetSummary {
  /** Rows written per table (after keeping the last record per key within each batch). */
  rows: Record<string, number>;
  /** Input lines read. */
  lines: number;
  /** STATE lines passed to `output`. */
  states: number;
}

/** A bad input line: exit 1, reported as `line <n>: <what> (stream <s>)`. */
export class BadLineError extends SyncError {
  constructor(
    readonly line: number,
    what: string,
    readonly stream?: string,
  ) {
    super(`line ${line}: ${what}${stream === undefined ? '' : ` (stream ${stream})`}`);
  }
}

interface KnownStream {
  /** The SCHEMA message it was defined by, as text, to skip re-sent identical schemas. */
  definition: string;
  check: (record: unknown) => string | undefined;
  keyProperties: readonly string[];
}

/**
 * The schema without `$id` and `$schema`: a tap re-sends the same `$id` with each SCHEMA and ajv
 * rejects a second schema with a known id, and a `$schema` of a draft ajv does not bundle makes it
 * refuse to compile. Neither keyword constrains records.
 */
function withoutSchemaIdentity(schema: Record<string, unknown>): Record<string, unknown> {
  const { $id: _id, $schema: _schema, ...rest } = schema;
  return rest;
}

/** One run of the target over one input: the message loop, state bookkeeping and the summary. */
class TargetRun {
  private readonly streams = new Map<string, KnownStream>();
  private readonly rows: Record<string, number> = {};
  private lineNumber = 0;
  private states = 0;
  /** The latest STATE whose preceding records have not all been handed to a commit yet. */
  private pendingState: string | undefined;
  /** The commit merging in the background, and the STATE emissions queued behind it. */
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly loader: DuckdbLoader,
    private readonly output: (line: string) => unknown,
    private readonly config: ResolvedTargetConfig,
    private readonly logger: Logger,
  ) {}

  async consume(line: string): Promise<void> {
    this.lineNumber += 1;
    if (!line.trim()) return;
    try {
      const message = decodeSingerLine(line, this.logger);
      switch (message?.type) {
        case 'RECORD': {
          const known = this.streams.get(message.stream);
          if (!known) throw new SingerLineError('RECORD before its SCHEMA', message.stream);
          const problem = known.check(message.record);
          if (problem) throw new SingerLineError(`record does not match its schema: ${problem}`, message.stream);
          // The merge matches keys with IS NOT DISTINCT FROM, so records without a key value would all become one row.
          const lacking = known.keyProperties.find((key) => message.record[key] === undefined || message.record[key] === null);
          if (lacking !== undefined) throw new SingerLineError(`record lacks key property ${lacking}`, message.stream);
          // A full batch merges in the background while the next one is read and checked.
          if (this.loader.stage(message, message.lineKeepingLastKeys ?? line, this.lineNumber) >= this.config.batch_size_rows) await this.startCommit();
          return;
        }
        case 'SCHEMA':
          return await this.defineStream(message);
        case 'STATE': {
          const state = JSON.stringify({ type: 'STATE', value: message.value });
          if (this.loader.pendingRows) this.pendingState = state;
          else if (this.inFlight) this.queue(this.inFlight.then(() => this.emit(state)));
          else await this.emit(state);
          return;
        }
        case 'ACTIVATE_VERSION': {
          await this.commit();
          const affected = await this.loader.activateVersion(message.stream, message.version);
          if (affected === undefined) this.logger.warn(`ACTIVATE_VERSION for stream ${message.stream}, which has no SCHEMA yet, ignored`);
          else this.logger.info(`activated version ${message.version} of stream ${message.stream}: ${affected} older rows ${this.config.hard_delete ? 'deleted' : 'marked _sdc_deleted_at'}`);
          return;
        }
      }
    } catch (error) {
      if (error instanceof SingerLineError) throw new BadLineError(this.lineNumber, error.message, error.stream);
      throw error;
    }
  }

  /** Commits everything pending, waits for it, and passes on the STATE that was waiting for it. */
  async commit(): Promise<void> {
    await this.startCommit();
    await this.settle();
  }

  summary(): TargetSummary {
    return { rows: { ...this.rows }, lines: this.lineNumber, states: this.states };
  }

  /**
   * Hands everything pending to a commit that merges in the background, with the waiting STATE
   * queued behind it. The commit before must have finished: the connection runs one at a time.
   */
  private async startCommit(): Promise<void> {
    await this.settle();
    const state = this.pendingState;
    this.pendingState = undefined;
    const { merged } = await this.loader.startCommit();
    this.queue(
      merged.then(async (written) => {
        for (const [table, rows] of Object.entries(written)) {
          this.rows[table] = (this.rows[table] ?? 0) + rows;
          this.logger.debug(`committed ${rows} rows to ${table}`);
        }
        if (state) await this.emit(state);
      }),
    );
  }

  private queue(work: Promise<void>): void {
    // A failure is reported by the next settle(); until then, a handler keeps Node from treating
    // the rejection as unhandled and ending the process.
    work.catch(() => undefined);
    this.inFlight = work;
  }

  /** Waits for the background commit (rethrowing its failure), so the connection is free. */
  async settle(): Promise<void> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    await inFlight;
  }

  private async emit(state: string): Promise<void> {
    this.states += 1;
    await this.output(state);
  }

  private async defineStream(message: SchemaMessage): Promise<void> {
    const definition = JSON.stringify([message.schema, message.key_properties]);
    const known = this.streams.get(message.stream);
    if (known?.definition === definition) return;
    let check: KnownStream['check'];
    try {
      check = validator(withoutSchemaIdentity(message.schema), 'record');
    } catch (error) {
      throw new SingerLineError(`the schema does not compile: ${(error as Error).message}`, message.stream);
    }
    // A changed SCHEMA is a commit point: rows staged under the old one are merged first.
    if (known && this.loader.pendingRows) await this.commit();
    else await this.settle();
    await this.loader.defineStream(message.stream, message.schema, message.key_properties);
    this.streams.set(message.stream, { definition, check, keyProperties: message.key_properties });
  }
}

/**
 * The input with its iterator already taken. A readline interface emits lines as soon as its
 * stream flows, and drops those emitted before an iterator exists — here, while the database opens.
 */
function iterateNow(input: AsyncIterable<string> | Iterable<string>): AsyncIterable<string> | Iterable<string> {
  if (!(Symbol.asyncIterator in input)) return input;
  const iterator = input[Symbol.asyncIterator]();
  return { [Symbol.asyncIterator]: () => iterator };
}

/** Keeps what was valid before a bad line; the bad line stays the reported failure either way. */
async function commitBeforeBadLine(run: TargetRun, logger: Logger): Promise<void> {
  try {
    await run.commit();
  } catch (error) {
    logger.error((error as Error).message);
  }
}

/**
 * The DuckDB Singer target, in process (README.md#the-duckdb-target). Reads Singer lines from `input`, loads
 * them into `config.database`, and calls `output` with each STATE line (the STATE message's JSON)
 * once every record before it is committed; what `output` returns is awaited, so it may return a
 * promise (to wait for a slow reader, or to look at the database at that moment). STATEs are
 * not a flush trigger: the latest one waits for the next commit (a full batch, a changed SCHEMA,
 * ACTIVATE_VERSION or the end of input), and one with nothing pending is passed on at once.
 *
 * Rejects with InputError (exit 2) for a bad config, BadLineError (exit 1) for a bad line — after
 * committing every valid record before it and passing on the STATE they make current — and
 * SyncError (exit 1) when DuckDB refuses a load.
 */
export async function runDuckdbTarget(
  input: AsyncIterable<string> | Iterable<string>,
  output: (line: string) => unknown,
  config: TargetConfig,
  options: TargetOptions = {},
): Promise<TargetSummary> {
  const lines = iterateNow(input);
  const settings = resolveTargetConfig(config);
  const logger = options.logger ?? createLogger('warning');
  const loader = await DuckdbLoader.open(settings, { logger, clock: options.clock ?? (() => DateTime.utc()), instance: options.instance });
  const run = new TargetRun(loader, output, settings, logger);
  try {
    for await (const line of lines) await run.consume(line);
    await run.commit();
  } catch (error) {
    if (error instanceof BadLineError) await commitBeforeBadLine(run, logger);
    else await run.settle().catch(() => undefined); // the error in hand is the one to report
    await loader.close();
    throw error;
  }
  await loader.close();
  const summary = run.summary();
  logger.info(`loaded ${Object.entries(summary.rows).map(([table, rows]) => `${rows} rows into ${table}`).join(', ') || 'nothing'} from ${summary.lines} lines`);
  return summary;
}
