import { availableParallelism } from 'node:os';
import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { DateTime } from 'luxon';
import type { JsonSchema, RecordMessage } from '../../protocol/messages.js';
import { SingerLineError } from '../../protocol/singer-reader.js';
import { InputError, SyncError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { ResolvedTargetConfig } from './config.js';
import { METADATA_COLUMNS, VERSION_COLUMNS, columnsOfSchema, literal, planTable, quote, sanitizeIdentifier, tableColumnsFromCatalog, type Column, type TableColumns } from './ddl.js';
import { integerTypeFor, widen, type ColumnType } from './types.js';

/**
 * The RFC 3339 date-times DuckDB reads. ajv also accepts a lower-case `t` or `z`, a leap second
 * and other whitespace as the separator; DuckDB cannot read those, and `json_transform` would
 * store NULL. RFC 3339 §5.6 lets a format require upper-case `T` and `Z`, so those are refused.
 * A bare date is there for DATE values in a column widened to TIMESTAMPTZ.
 */
const STORABLE_TIMESTAMP = /^\d{4}-\d\d-\d\d(?:$|[T ]\d\d:\d\d:[0-5]\d(?:\.\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)$)/;

/**
 * A `\uD800`–`\uDFFF` escape in a line. JSON.parse accepts a lone surrogate; DuckDB's JSON reader
 * refuses the whole batch for one. Paired ones (Python's default escaping of emoji) are fine, so a
 * line with such an escape has its strings checked for a lone one.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(item));
}

/**
 * DuckDB settings when the loader opens the database itself.
 *
 * - `checkpoint_threshold`: at the default 16 MB of WAL a checkpoint comes every few batches and
 *   rewrites the table's last, partly filled row group each time; loading 1M rows in 10,000-row
 *   batches, 256 MB cut the CPU time by about a fifth. 1 GB gained nothing more and kept more
 *   unmerged rows in memory. The WAL is still written and synced at every commit, so nothing is
 *   less durable.
 * - `threads`: one core is left to the JavaScript thread, which parses and validates the next
 *   batch while DuckDB merges the last; on two cores, two DuckDB threads cost more CPU and gained
 *   no speed.
 */
export const DATABASE_SETTINGS = { checkpoint_threshold: '256MB', threads: String(Math.max(1, availableParallelism() - 1)) };

/**
 * The most columns one `json_transform` shreds. Each `m.record['…']` of the projection carries the
 * type of the whole struct it reads, so a single struct of every column costs memory in columns²
 * (5.6 GB of 8.1 at 10,000 columns); structs of at most this many keep it linear, while a stream
 * this narrow, as nearly all are, still has each line parsed once.
 */
const COLUMNS_PER_SHRED = 256;

/** Names the staging database so loaders sharing an instance (tests, the demo) never collide. */
let stagingDatabases = 0;

/** A per-record check on a column whose type a value can outgrow (integers) or fail (date-times). */
interface ValueCheck {
  property: string;
  key: string;
  type: ColumnType;
}

/** A staging table and the Appender that fills it. */
interface Staging {
  /** `"database"."main"."table"` */
  table: string;
  appender: DuckDBAppender;
  rows: number;
}

/** What the loader knows about one stream's table. */
interface StreamTable {
  stream: string;
  tableName: string;
  /** `"schema"."table"` */
  table: string;
  columns: TableColumns;
  /** One per property of the stream's current SCHEMA, in schema order. */
  dataColumns: Column[];
  keyColumns: string[];
  /** The stream has used versions, so its table has `_sdc_table_version` and `_sdc_deleted_at`. */
  versioned: boolean;
  /** Column types that staged values need and the table does not have yet, by lower-cased name. */
  widenings: Map<string, ColumnType>;
  checks: ValueCheck[];
  staging: Staging;
}

/** One stream's part of a commit: what was staged, and the column changes it needs first. */
interface StreamBatch {
  table: StreamTable;
  staging: Staging;
  widened: Column[];
}

export interface LoaderOptions {
  clock: () => DateTime;
  logger: Logger;
  /** An open instance to load into instead of opening `config.database`; the caller closes it. */
  instance?: DuckDBInstance;
}

/**
 * The DuckDB side of the target. RECORD lines go, unparsed, through the Appender into a staging
 * table per stream, in an in-memory database of their own. A commit shreds them with DuckDB's own
 * JSON reader (`json_transform`, which keeps every digit of a 20-digit id) into typed columns and
 * merges every pending stream in one transaction: delete-then-insert on the key columns, keeping
 * the last record per key, or a plain append without keys. Target tables get no PRIMARY KEY, so
 * the ALTERs of a later SCHEMA and the merge never meet a constraint (docs/sources.md#duckdb).
 *
 * Appends and merges use separate connections, and each commit starts new staging tables, so the
 * next batch is appended while the last one merges: on two cores the JSON parsing and validation
 * in JavaScript and the merge in DuckDB overlap. A merged staging table is dropped, not emptied:
 * an in-memory table keeps the memory of deleted rows.
 */
export class DuckdbLoader {
  private readonly streams = new Map<string, StreamTable>();
  private readonly tablesByName = new Map<string, string>();
  private stagingTables = 0;

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly stagingConnection: DuckDBConnection,
    /** The staging database's name, unquoted. */
    private readonly stagingDatabase: string,
    private readonly ownedInstance: DuckDBInstance | undefined,
    private readonly config: ResolvedTargetConfig,
    private readonly options: LoaderOptions,
  ) {}

  static async open(config: ResolvedTargetConfig, options: LoaderOptions): Promise<DuckdbLoader> {
    let instance = options.instance;
    if (!instance) {
      try {
        instance = await DuckDBInstance.create(config.database, DATABASE_SETTINGS);
      } catch (error) {
        throw new InputError(`cannot open DuckDB database ${config.database}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const connection = await instance.connect();
    const stagingDatabase = `tap_convo_staging_${process.pid}_${(stagingDatabases += 1)}`;
    await connection.run(`ATTACH ':memory:' AS ${quote(stagingDatabase)}`);
    // Casts of dates to TIMESTAMPTZ (a widened column) depend on the session time zone; pin it so
    // the stored instant never depends on the machine's.
    await connection.run(`SET SESSION TimeZone = 'UTC'`);
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quote(sanitizeIdentifier(config.schema))}`);
    return new DuckdbLoader(connection, await instance.connect(), stagingDatabase, options.instance ? undefined : instance, config, options);
  }

  /** Releases everything; a commit must not be running. */
  async close(): Promise<void> {
    for (const table of this.streams.values()) table.staging.appender.closeSync();
    this.stagingConnection.closeSync();
    await this.connection.run(`DETACH ${quote(this.stagingDatabase)}`);
    this.connection.closeSync();
    this.ownedInstance?.closeSync();
  }

  /** Records staged and not yet handed to a commit, over all streams. */
  get pendingRows(): number {
    let rows = 0;
    for (const table of this.streams.values()) rows += table.staging.rows;
    return rows;
  }

  /**
   * Creates or widens the stream's table for a (new) SCHEMA: new columns added, types widened,
   * nothing dropped. Pending records of the stream must have been committed first.
   * Throws SingerLineError when the schema cannot become a table.
   */
  async defineStream(stream: string, schema: JsonSchema, keyProperties: readonly string[]): Promise<void> {
    let dataColumns: Column[];
    try {
      dataColumns = columnsOfSchema(schema);
    } catch (error) {
      throw new SingerLineError((error as Error).message, stream);
    }
    if (!dataColumns.length) throw new SingerLineError('the schema has no properties to make columns from', stream);
    const keyColumns = keyProperties.map((key) => {
      const column = dataColumns.find((c) => c.property === key);
      if (!column) throw new SingerLineError(`key property ${JSON.stringify(key)} is not in the schema`, stream);
      return column.name;
    });
    const table = this.streams.get(stream) ?? (await this.openTable(stream));
    const wanted = [...dataColumns, ...this.metadataColumns(table, dataColumns)];
    await this.transaction(() => this.applyDdl(table, wanted), `creating table ${table.table}`);
    Object.assign(table, { dataColumns, keyColumns });
    this.refreshChecks(table);
  }

  /**
   * Appends one RECORD line to its stream's staging table and returns the stream's pending count.
   * Values the table's current types cannot hold widen the column at the next commit (an integer
   * beyond int64 makes BIGINT a HUGEINT), or throw SingerLineError when no column type could.
   */
  stage(message: RecordMessage, line: string, sequence: number): number {
    const table = this.streams.get(message.stream)!;
    for (const check of table.checks) {
      const value = message.record[check.property];
      if (check.type === 'TIMESTAMPTZ') {
        if (typeof value === 'string' && !STORABLE_TIMESTAMP.test(value)) {
          throw new SingerLineError(`${check.property} ${JSON.stringify(value)} is a date-time DuckDB cannot read: write T and Z in upper case, and no leap second`, table.stream);
        }
      } else if (typeof value === 'number') {
        const type = widen(check.type, integerTypeFor(value));
        if (type !== check.type) {
          check.type = type;
          table.widenings.set(check.key, type);
        }
      }
    }
    if (SURROGATE_ESCAPE.test(line) && hasLoneSurrogate(message.record)) {
      throw new SingerLineError('a string holds a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape), which DuckDB cannot store', table.stream);
    }
    if (message.version !== undefined && !table.versioned) {
      table.versioned = true;
      for (const column of VERSION_COLUMNS) table.widenings.set(column.name.toLowerCase(), column.type);
    }
    const { appender } = table.staging;
    appender.appendVarchar(line);
    appender.appendBigInt(BigInt(sequence));
    if (this.config.add_record_metadata) appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(this.options.clock().toMillis()) * 1000n));
    else appender.appendNull();
    appender.endRow();
    return ++table.staging.rows;
  }

  /**
   * Hands every stream's staged records to a commit and starts new staging tables, so staging can
   * go on at once. `merged` settles when the commit does, with the rows written per table; the
   * loader must not be used for anything but staging until then.
   */
  async startCommit(): Promise<{ merged: Promise<Record<string, number>> }> {
    const batch: StreamBatch[] = [];
    for (const table of this.streams.values()) {
      if (!table.staging.rows) continue;
      const { staging } = table;
      staging.appender.closeSync();
      const widened = [...table.widenings].map(([key, type]) => ({ name: table.columns.get(key)?.name ?? key, type }));
      table.widenings = new Map();
      table.staging = await this.newStaging();
      batch.push({ table, staging, widened });
    }
    return { merged: this.merge(batch) };
  }

  /**
   * ACTIVATE_VERSION: rows of the stream from older versions (or none) are gone — deleted with
   * `hard_delete`, otherwise marked with `_sdc_deleted_at`, as MeltanoLabs' targets do (github.com/MeltanoLabs/target-postgres).
   * Returns the rows affected, or undefined for a stream with no table yet.
   */
  async activateVersion(stream: string, version: number): Promise<number | undefined> {
    const table = this.streams.get(stream);
    if (!table) return undefined;
    table.versioned = true;
    const older = `("_sdc_table_version" IS NULL OR "_sdc_table_version" < ${version})`;
    const sql = this.config.hard_delete
      ? `DELETE FROM ${table.table} WHERE ${older}`
      : `UPDATE ${table.table} SET "_sdc_deleted_at" = TIMESTAMPTZ ${literal(this.options.clock().toUTC().toISO()!)} WHERE ${older} AND "_sdc_deleted_at" IS NULL`;
    return this.transaction(async () => {
      await this.applyDdl(table, VERSION_COLUMNS);
      return (await this.connection.run(sql)).rowsChanged;
    }, `activating version ${version} of ${table.table}`);
  }

  private async openTable(stream: string): Promise<StreamTable> {
    const tableName = sanitizeIdentifier(stream);
    const other = this.tablesByName.get(tableName.toLowerCase());
    if (other) throw new SingerLineError(`streams ${JSON.stringify(other)} and ${JSON.stringify(stream)} would both load table ${quote(tableName)}`, stream);
    this.tablesByName.set(tableName.toLowerCase(), stream);
    const schemaName = sanitizeIdentifier(this.config.schema);
    const catalog = await this.connection.runAndReadAll(
      `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ${literal(schemaName)} AND table_name = ${literal(tableName)} ORDER BY column_index`,
    );
    const columns = tableColumnsFromCatalog(catalog.getRowObjectsJson() as Array<{ column_name: string; data_type: string }>);
    const table: StreamTable = {
      stream,
      tableName,
      table: `${quote(schemaName)}.${quote(tableName)}`,
      columns,
      dataColumns: [],
      keyColumns: [],
      versioned: columns.has('_sdc_table_version'),
      widenings: new Map(),
      checks: [],
      staging: await this.newStaging(),
    };
    this.streams.set(stream, table);
    return table;
  }

  private async newStaging(): Promise<Staging> {
    const name = `stage_${(this.stagingTables += 1)}`;
    const table = `${quote(this.stagingDatabase)}.main.${quote(name)}`;
    await this.stagingConnection.run(`CREATE TABLE ${table} (line VARCHAR, seq BIGINT, received_at TIMESTAMPTZ)`);
    return { table, appender: await this.stagingConnection.createAppender(name, 'main', this.stagingDatabase), rows: 0 };
  }

  /** Metadata columns a SCHEMA adds besides the data columns; a property of the same name wins. */
  private metadataColumns(table: StreamTable, dataColumns: readonly Column[]): Column[] {
    const wanted = this.config.add_record_metadata ? METADATA_COLUMNS : table.versioned ? VERSION_COLUMNS : [];
    const taken = new Set(dataColumns.map((c) => c.name.toLowerCase()));
    return wanted.filter((c) => !taken.has(c.name.toLowerCase()));
  }

  private async applyDdl(table: StreamTable, wanted: readonly Column[]): Promise<void> {
    const plan = planTable(table.table, table.columns.size ? table.columns : undefined, wanted);
    for (const statement of plan.statements) {
      this.options.logger.info(statement);
      await this.connection.run(statement);
    }
    table.columns = plan.columns;
  }

  /** The checks for the table's types, counting widenings that records staged since have asked for. */
  private refreshChecks(table: StreamTable): void {
    table.checks = table.dataColumns.flatMap((column) => {
      const key = column.name.toLowerCase();
      const current = table.columns.get(key)!.type;
      const type = widen(current, table.widenings.get(key) ?? current);
      return type === 'BIGINT' || type === 'HUGEINT' || type === 'TIMESTAMPTZ' ? [{ property: column.property!, key, type }] : [];
    });
  }

  private async merge(batch: readonly StreamBatch[]): Promise<Record<string, number>> {
    if (!batch.length) return {};
    const batchedAt = this.options.clock().toUTC().toISO()!;
    const rows: Record<string, number> = {};
    await this.transaction(async () => {
      for (const { table, staging, widened } of batch) {
        if (widened.length) await this.applyDdl(table, widened);
        rows[table.tableName] = await this.mergeStream(table, staging.table, batchedAt);
      }
    }, `loading ${batch.map((b) => b.table.table).join(', ')}`);
    for (const { table, staging } of batch) {
      this.refreshChecks(table);
      // Outside the transaction: one transaction may write to one attached database only.
      await this.connection.run(`DROP TABLE ${staging.table}`);
    }
    return rows;
  }

  /**
   * Shreds one stream's staged lines into typed values and writes them. `json_transform` stores
   * NULL for a value it cannot convert instead of failing, so every value reaching it has been
   * checked: by the record's schema (ajv) and by `stage`. With keys, the staged rows are
   * materialised once, all but the last row per key dropped, and the table's rows with those keys
   * replaced; a GROUP BY for that measured several times cheaper than a window function.
   */
  private async mergeStream(table: StreamTable, staging: string, batchedAt: string): Promise<number> {
    const typeOf = (column: Column) => table.columns.get(column.name.toLowerCase())!.type;
    const groups: Column[][] = [];
    for (let start = 0; start < table.dataColumns.length; start += COLUMNS_PER_SHRED) groups.push(table.dataColumns.slice(start, start + COLUMNS_PER_SHRED));
    // The envelope's fields ride in the first group's struct, which metadataValue reads as `m0`.
    const shapes = groups.map((columns, group) => ({ record: Object.fromEntries(columns.map((c) => [c.property, typeOf(c)])), ...(group ? {} : { time_extracted: 'TIMESTAMPTZ', version: 'BIGINT' }) }));
    const values = new Map<string, string>(groups.flatMap((columns, group) => columns.map((column) => [column.name, `m${group}.record[${literal(column.property!)}]`] as const)));
    // Metadata columns are filled wherever the table has them: a stream's first versioned record
    // adds two of them at the commit it belongs to, even with add_record_metadata off.
    const taken = new Set(table.dataColumns.map((c) => c.name.toLowerCase()));
    for (const { name } of METADATA_COLUMNS) if (table.columns.has(name) && !taken.has(name)) values.set(name, metadataValue(name, batchedAt));
    const names = [...values.keys()].map(quote).join(', ');
    const select = [...values].map(([name, sql]) => `${sql} AS ${quote(name)}`).join(', ');
    const shredded = shapes.map((shape, group) => `json_transform(line, ${literal(JSON.stringify(shape))}) AS m${group}`).join(', ');
    const source = `(SELECT ${shredded}, seq, received_at FROM ${staging})`;
    if (!table.keyColumns.length) return (await this.connection.run(`INSERT INTO ${table.table} (${names}) SELECT ${select} FROM ${source}`)).rowsChanged;
    const keys = table.keyColumns.map(quote).join(', ');
    // "batch seq" has a space, so no sanitized column name can be the same.
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE "_batch" AS SELECT ${select}, seq AS "batch seq" FROM ${source}`);
    await this.connection.run(`DELETE FROM temp."_batch" WHERE "batch seq" NOT IN (SELECT max("batch seq") FROM temp."_batch" GROUP BY ${keys})`);
    const matches = table.keyColumns.map((name) => `target.${quote(name)} IS NOT DISTINCT FROM batch.${quote(name)}`).join(' AND ');
    await this.connection.run(`DELETE FROM ${table.table} AS target USING temp."_batch" AS batch WHERE ${matches}`);
    const written = (await this.connection.run(`INSERT INTO ${table.table} (${names}) SELECT ${names} FROM temp."_batch"`)).rowsChanged;
    await this.connection.run(`DROP TABLE temp."_batch"`);
    return written;
  }

  private async transaction<T>(work: () => Promise<T>, what: string): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      // The failure is what gets reported; a failed ROLLBACK of an already-aborted transaction adds nothing.
      await this.connection.run('ROLLBACK').catch(() => undefined);
      if (error instanceof SingerLineError) throw error;
      throw new SyncError(`${what} failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

/** The SQL value of a metadata column for a row of the shredded staging table (see `mergeStream`). */
function metadataValue(name: string, batchedAt: string): string {
  switch (name) {
    case '_sdc_extracted_at':
      return 'm0.time_extracted';
    case '_sdc_received_at':
      return 'received_at';
    case '_sdc_batched_at':
      return `TIMESTAMPTZ ${literal(batchedAt)}`;
    case '_sdc_sequence':
      return 'seq';
    case '_sdc_table_version':
      return 'm0.version';
    default:
      // _sdc_deleted_at: a record that arrives is, by arriving, not deleted.
      return 'NULL';
  }
}
