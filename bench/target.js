// Benchmark of target-convo-duckdb against DuckDB's own NDJSON loader, on the same call-like rows.
//
//   node bench/target.js [--rows N] [--batch-size-rows N]
//
// One run writes the same generated records twice: as Singer lines (SCHEMA, RECORDs, a STATE per
// 100 records like a tap's pages) and as NDJSON of the bare records. It then times (a) the target
// reading the Singer file line by line (as the binary does) into a fresh database, (b)
// `CREATE TABLE … AS SELECT * FROM read_json(file)` into another fresh database, and (c) the part
// of (a) no JavaScript target can skip: JSON.parse and ajv validation of each line. read_json
// infers its own types (nested values become STRUCTs, offsets are dropped into TIMESTAMP) and does
// no upsert, so it is a speed reference, not the same load. (d) is DuckDB reading the Singer file
// itself into the target's column types in one statement, with no validation, no upsert and no
// commit per batch: the cost of DuckDB's reader on the target's own input, before any checking. (e)
// is DuckDB doing the rest of the target's duties, still without validation: the same RECORD lines
// in the target's batches (split into files beforehand, untimed), each batch read the same way,
// the last row per key kept, the table's rows with those keys deleted, the batch inserted and
// committed, as the target must before passing on a STATE. The phases run in that order in one
// process; peak RSS is sampled during each. It prints a markdown table and exports `benchTarget`
// for a runner that writes bench/results.md.
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { DateTime } from 'luxon';
import { DEFAULT_BATCH_SIZE_ROWS, runDuckdbTarget } from '../dist/targets/duckdb/index.js';
import { DATABASE_SETTINGS } from '../dist/targets/duckdb/loader.js';
import { validator } from '../dist/util/schema.js';
import { mulberry32 } from '../dist/sandbox/random.js';

const SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: ['string', 'null'] },
    started: { type: 'string', format: 'date-time' },
    scheduled: { type: ['string', 'null'], format: 'date-time' },
    duration: { type: ['integer', 'null'] },
    url: { type: ['string', 'null'] },
    direction: { type: ['string', 'null'] },
    scope: { type: ['string', 'null'] },
    language: { type: ['string', 'null'] },
    workspaceId: { type: ['string', 'null'] },
    primaryUserId: { type: ['string', 'null'] },
    isPrivate: { type: ['boolean', 'null'] },
    sentiment: { type: ['number', 'null'] },
    parties: { type: ['array', 'null'], items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, emailAddress: { type: 'string' } } } },
    context: { type: ['object', 'null'], properties: { system: { type: 'string' }, objects: { type: 'array' } } },
  },
};

/** SCHEMA's columns as the target types them (README.md#the-duckdb-target), for DuckDB reading the Singer lines itself. */
const RECORD_STRUCT =
  'STRUCT(id VARCHAR, title VARCHAR, started TIMESTAMPTZ, scheduled TIMESTAMPTZ, duration BIGINT, url VARCHAR, direction VARCHAR, scope VARCHAR, ' +
  'language VARCHAR, workspaceId VARCHAR, primaryUserId VARCHAR, isPrivate BOOLEAN, sentiment DOUBLE, parties JSON, context JSON)';

const OFFSETS = ['+00:00', '-05:00', '+02:00', '+05:30'];
const DIRECTIONS = ['Inbound', 'Outbound', 'Conference', 'Unknown'];
const START = DateTime.fromISO('2024-01-01T00:00:00Z', { setZone: true });

function* callRecords(rows) {
  const next = mulberry32(42);
  for (let i = 0; i < rows; i += 1) {
    const offset = OFFSETS[i % OFFSETS.length];
    const started = START.plus({ minutes: i * 7 }).setZone(`UTC${offset === '+00:00' ? '' : offset}`);
    yield {
      // Gong ids are 19–20 digits (docs/sources.md#gong-records); keep them as strings.
      id: String(7_000_000_000_000_000_000n + BigInt(i) * 7919n),
      title: `Call ${i} with Account ${Math.floor(next() * 5000)} about renewal`,
      started: started.toISO(),
      scheduled: started.minus({ minutes: 5 }).toUTC().toISO(),
      duration: Math.floor(next() * 3600),
      url: `https://app.gong.io/call?id=${i}`,
      direction: DIRECTIONS[i % DIRECTIONS.length],
      scope: next() < 0.6 ? 'External' : 'Internal',
      language: 'eng',
      workspaceId: '5562739194953732039',
      primaryUserId: String(2_000_000_000_000_000_000n + BigInt(i % 400)),
      isPrivate: next() < 0.1,
      sentiment: Math.round(next() * 1000) / 100,
      parties: [
        { id: `p${i}a`, name: 'Ada Lovelace', emailAddress: 'ada@example.com' },
        { id: `p${i}b`, name: 'Alan Turing', emailAddress: 'alan@example.org' },
      ],
      context: { system: 'Salesforce', objects: [{ objectType: 'Opportunity', objectId: `006${i}` }] },
    };
  }
}

/** Appends lines to a file in 1 MiB writes, so generating millions of rows takes no memory. */
function lineFile(path) {
  const fd = openSync(path, 'w');
  let pending = [];
  let size = 0;
  const flush = () => {
    writeSync(fd, pending.join(''));
    pending = [];
    size = 0;
  };
  return {
    write(line) {
      pending.push(line, '\n');
      size += line.length + 1;
      if (size >= 2 ** 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

/**
 * What a tap syncing `rows` calls would write: SCHEMA, each RECORD, and a STATE after every 100th
 * record as after a page. Yields `{ line }`, with the record beside each RECORD line.
 */
export function* singerLines(rows) {
  yield { line: JSON.stringify({ type: 'SCHEMA', stream: 'gong_calls', schema: SCHEMA, key_properties: ['id'] }) };
  let index = 0;
  for (const record of callRecords(rows)) {
    yield { line: JSON.stringify({ type: 'RECORD', stream: 'gong_calls', record, time_extracted: '2024-06-01T00:00:00.000Z' }), record };
    index += 1;
    if (index % 100 === 0) yield { line: JSON.stringify({ type: 'STATE', value: { bookmarks: { gong_calls: { replication_key: 'started', replication_key_value: record.started } } } }) };
  }
}

/** The Singer file, the NDJSON file of its records, and its RECORD lines cut into batch files. */
function writeInputs(dir, rows, batchSizeRows) {
  const paths = { singer: join(dir, 'calls.singer.jsonl'), ndjson: join(dir, 'calls.ndjson'), batches: [] };
  const singer = lineFile(paths.singer);
  const ndjson = lineFile(paths.ndjson);
  let batch;
  let records = 0;
  for (const { line, record } of singerLines(rows)) {
    singer.write(line);
    if (!record) continue;
    ndjson.write(JSON.stringify(record));
    if (records % batchSizeRows === 0) {
      batch?.close();
      paths.batches.push(join(dir, `batch-${paths.batches.length}.jsonl`));
      batch = lineFile(paths.batches.at(-1));
    }
    batch.write(line);
    records += 1;
  }
  batch?.close();
  singer.close();
  ndjson.close();
  return paths;
}

/** Runs `work`, sampling RSS every 10 ms; returns seconds taken and the highest RSS seen (MiB). */
async function measured(work) {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const started = performance.now();
  try {
    await work();
    return { seconds: (performance.now() - started) / 1000, peakRssMiB: Math.max(peak, process.memoryUsage.rss()) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

function lines(path) {
  return createInterface({ input: createReadStream(path), crlfDelay: Infinity });
}

/** Opens `database` with `settings`, hands a connection to `work`, and closes both after it. */
async function withDatabase(database, work, settings = {}) {
  const instance = await DuckDBInstance.create(database, settings);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** DuckDB's reader over a file of Singer lines, typing `record` as the target types its columns. */
const singerReader = (file) => `read_ndjson('${file}', columns = {type: 'VARCHAR', record: '${RECORD_STRUCT}'})`;

/**
 * DuckDB loading the batch files as the target loads its batches, minus validation: one
 * transaction per batch that keeps the last row per key and replaces the table's rows with those
 * keys. The ids are unique, so the dedup keeps every row, but it is computed as the target does.
 * The target's checkpoint threshold (a fifth faster here than DuckDB's default) is used; its thread
 * count is not, as no JavaScript runs beside DuckDB in this phase.
 */
function loadBatchesInDuckdb(database, batches) {
  return withDatabase(
    database,
    async (connection) => {
      const read = (file) => `SELECT record.*, row_number() OVER () AS seq FROM ${singerReader(file)}`;
      await connection.run(`CREATE TABLE gong_calls AS SELECT * EXCLUDE (seq) FROM (${read(batches[0])}) LIMIT 0`);
      for (const file of batches) {
        await connection.run('BEGIN TRANSACTION');
        await connection.run(`CREATE OR REPLACE TEMP TABLE batch AS ${read(file)}`);
        await connection.run('DELETE FROM batch WHERE seq NOT IN (SELECT max(seq) FROM batch GROUP BY id)');
        await connection.run('DELETE FROM gong_calls AS target USING batch WHERE target.id = batch.id');
        await connection.run('INSERT INTO gong_calls SELECT * EXCLUDE (seq) FROM batch');
        await connection.run('COMMIT');
      }
    },
    { checkpoint_threshold: DATABASE_SETTINGS.checkpoint_threshold },
  );
}

/** The rows of `table` in `database`. */
export function countRows(database, table) {
  return withDatabase(database, async (connection) => Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJson()[0].n));
}

/**
 * Runs the five measurements and returns their figures: rows, seconds, rows/s and peak RSS per
 * method, and `ratio` = target rows/s ÷ read_json rows/s.
 */
export async function benchTarget({ rows = 300_000, batchSizeRows = DEFAULT_BATCH_SIZE_ROWS } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-target-'));
  try {
    const inputs = writeInputs(dir, rows, batchSizeRows);
    const targetDb = join(dir, 'target.duckdb');
    const config = { database: targetDb, batch_size_rows: batchSizeRows };
    const target = await measured(() => runDuckdbTarget(lines(inputs.singer), () => undefined, config));
    const readJsonDb = join(dir, 'read_json.duckdb');
    const readJson = await measured(() => withDatabase(readJsonDb, (connection) => connection.run(`CREATE TABLE gong_calls AS SELECT * FROM read_json('${inputs.ndjson}')`)));
    const check = validator(SCHEMA);
    const floor = await measured(async () => {
      for await (const line of lines(inputs.singer)) {
        const message = JSON.parse(line);
        if (message.type === 'RECORD' && check(message.record)) throw new Error('bench record does not match its schema');
      }
    });
    const singerDb = join(dir, 'singer.duckdb');
    const singerDirect = await measured(() =>
      withDatabase(singerDb, (connection) => connection.run(`CREATE TABLE gong_calls AS SELECT record.* FROM ${singerReader(inputs.singer)} WHERE type = 'RECORD'`)),
    );
    const batchedDb = join(dir, 'batched.duckdb');
    const batched = await measured(() => loadBatchesInDuckdb(batchedDb, inputs.batches));
    const loaded = {
      target: await countRows(targetDb, 'gong_calls'),
      readJson: await countRows(readJsonDb, 'gong_calls'),
      singerDirect: await countRows(singerDb, 'gong_calls'),
      batched: await countRows(batchedDb, 'gong_calls'),
    };
    if (Object.values(loaded).some((n) => n !== rows)) throw new Error(`expected ${rows} rows, got ${JSON.stringify(loaded)}`);
    const figure = (name, run) => ({ method: name, rows, seconds: run.seconds, rowsPerSecond: rows / run.seconds, peakRssMiB: run.peakRssMiB });
    const methods = [
      figure('target-convo-duckdb (Singer lines → upsert on id)', target),
      figure('DuckDB read_json (NDJSON → CREATE TABLE AS)', readJson),
      figure('JSON.parse + ajv only (no load; the floor of any JS target)', floor),
      figure('DuckDB read_ndjson of the Singer lines into typed columns (no validation, no upsert: the reader alone)', singerDirect),
      figure(`DuckDB doing the target's duties without validation (read_ndjson per ${batchSizeRows.toLocaleString('en-US')}-row batch, last per key, delete + insert, commit)`, batched),
    ];
    return {
      rows,
      batchSizeRows,
      methods,
      ratio: methods[0].rowsPerSecond / methods[1].rowsPerSecond,
      readerRatio: methods[3].rowsPerSecond / methods[1].rowsPerSecond,
      batchedRatio: methods[4].rowsPerSecond / methods[1].rowsPerSecond,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatFigures(figures) {
  const round = (n) => Math.round(n).toLocaleString('en-US');
  return [
    `${figures.rows.toLocaleString('en-US')} call-like rows, 15 columns (nested JSON, timestamps with offsets, 19-digit ids); batch_size_rows ${figures.batchSizeRows.toLocaleString('en-US')}`,
    '',
    '| method | seconds | rows/s | peak RSS (MiB) |',
    '| --- | ---: | ---: | ---: |',
    ...figures.methods.map((m) => `| ${m.method} | ${m.seconds.toFixed(2)} | ${round(m.rowsPerSecond)} | ${round(m.peakRssMiB)} |`),
    '',
    `ratio target ÷ read_json: **${figures.ratio.toFixed(2)}**; DuckDB reading the Singer lines itself ÷ read_json: ${figures.readerRatio.toFixed(2)}; DuckDB doing the target's duties without validation ÷ read_json: ${figures.batchedRatio.toFixed(2)}; process max RSS ${round(figures.maxRssMiB)} MiB`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const option = (name) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : undefined;
  };
  const figures = await benchTarget({ rows: option('--rows'), batchSizeRows: option('--batch-size-rows') });
  process.stdout.write(formatFigures(figures) + '\n');
}
