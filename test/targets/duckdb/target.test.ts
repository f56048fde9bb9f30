import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadLineError, runDuckdbTarget } from '../../../src/targets/duckdb/index.js';
import { InputError } from '../../../src/util/errors.js';
import { FIXTURES, fixtureLines, load, loadFailing, memoryDatabase, type TestDatabase } from './helpers.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await memoryDatabase();
});
afterEach(() => db.close());

const columnTypes = async (table: string) =>
  Object.fromEntries((await db.query(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`)).map((r) => [r.column_name, r.data_type]));

describe('record before schema', () => {
  it('fails on the first line, naming the line and the stream, with exit code 1', async () => {
    const { error } = await loadFailing(db, fixtureLines('record_before_schema'));
    expect(error).toBeInstanceOf(BadLineError);
    expect(error.message).toBe('line 1: RECORD before its SCHEMA (stream users)');
    expect(error.exitCode).toBe(1);
  });
});

describe('bad lines', () => {
  it('reports a record that does not fit its schema and keeps what came before it', async () => {
    const { error, states } = await loadFailing(db, fixtureLines('invalid_record'));
    expect(error.message).toBe('line 5: record does not match its schema: record.count must be integer (stream users)');
    expect(await db.query('SELECT id, count FROM users ORDER BY id')).toEqual([
      { id: '1', count: '10' },
      { id: '2', count: '20' },
    ]);
    // The STATE after the valid records is passed on once they are committed.
    expect(states).toEqual([{ bookmarks: { users: { last_id: 2 } } }]);
  });

  it('reports a line that is not JSON and keeps what came before it', async () => {
    const { error, states } = await loadFailing(db, fixtureLines('invalid_json'));
    expect(error.message).toMatch(/^line 4: not valid JSON \(.+\)$/);
    expect(await db.query('SELECT id FROM users')).toEqual([{ id: '1' }]);
    expect(states).toEqual([{ bookmarks: { users: { last_id: 1 } } }]);
  });

  it.each(['2016-12-31T23:59:60Z', '2024-03-10t12:00:00Z', '2024-03-10T12:00:00z', '2024-03-10\t12:00:00Z'])('refuses the date-time %j, valid RFC 3339 that DuckDB cannot read, instead of storing NULL', async (value) => {
    const schema = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"at": {"type": "string", "format": "date-time"}}}, "key_properties": []}';
    const { error } = await loadFailing(db, [schema, JSON.stringify({ type: 'RECORD', stream: 's', record: { at: value } })]);
    expect(error.message).toBe(`line 2: at ${JSON.stringify(value)} is a date-time DuckDB cannot read: write T and Z in upper case, and no leap second (stream s)`);
  });

  it('refuses a lone UTF-16 surrogate, which DuckDB cannot store, and stores escaped emoji', async () => {
    const schema = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"text": {"type": "string"}}}, "key_properties": []}';
    const emoji = String.raw`{"type": "RECORD", "stream": "s", "record": {"text": "caf\u00e9 \ud83d\ude00"}}`;
    const { error } = await loadFailing(db, [schema, emoji, String.raw`{"type": "RECORD", "stream": "s", "record": {"text": "half \ud83d"}}`]);
    expect(error.message).toBe(String.raw`line 3: a string holds a lone UTF-16 surrogate (an unpaired \uD800–\uDFFF escape), which DuckDB cannot store (stream s)`);
    expect(await db.query('SELECT text FROM s')).toEqual([{ text: 'café 😀' }]);
  });

  it('refuses a record whose key is null, which would merge with every other such record into one row', async () => {
    const schema = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"id": {"type": ["string", "null"]}, "n": {"type": "integer"}}}, "key_properties": ["id"]}';
    const { error } = await loadFailing(db, [schema, '{"type": "RECORD", "stream": "s", "record": {"id": "a", "n": 1}}', '{"type": "RECORD", "stream": "s", "record": {"id": null, "n": 2}}']);
    expect(error.message).toBe('line 3: record lacks key property id (stream s)');
    expect(await db.query('SELECT id, n FROM s')).toEqual([{ id: 'a', n: '1' }]);
  });

  it('stores the last value of a repeated key, as the schema check saw it, keeping every digit', async () => {
    const schema = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"id": {"type": "integer"}, "tags": {"type": "object"}}}, "key_properties": ["id"]}';
    await load(db, [schema, '{"type": "RECORD", "stream": "s", "record": {"id": 1, "tags": {"a": 12345678901234567890123, "a": 98765432109876543210987}, "id": 18446744073709551617}}']);
    expect(await db.query('SELECT id::VARCHAR AS id, tags::VARCHAR AS tags FROM s')).toEqual([{ id: '18446744073709551617', tags: '{"a":98765432109876543210987}' }]);
  });

  it('refuses a SCHEMA whose key property is not one of its properties', async () => {
    const { error } = await loadFailing(db, ['{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"a": {"type": "string"}}}, "key_properties": ["id"]}']);
    expect(error.message).toBe('line 1: key property "id" is not in the schema (stream s)');
  });

  it('refuses two properties that would be the same column', async () => {
    const { error } = await loadFailing(db, ['{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"Call Id": {"type": "string"}, "call_id": {"type": "string"}}}, "key_properties": []}']);
    expect(error.message).toBe('line 1: properties "Call Id" and "call_id" would both be column "call_id" (stream s)');
  });

  it('rejects a bad config before reading input, with exit code 2', async () => {
    const rejection = runDuckdbTarget([], () => undefined, { database: ':memory:', batch_size_rows: 0 });
    await expect(rejection).rejects.toBeInstanceOf(InputError);
    await expect(rejection).rejects.toThrow('bad target config: config.batch_size_rows must be >= 1');
  });
});

describe('schema changes', () => {
  it('adds columns and widens types, never dropping a column or a value', async () => {
    await load(db, fixtureLines('schema_updates'));
    expect(await columnTypes('users')).toEqual({ id: 'BIGINT', name: 'VARCHAR', email: 'VARCHAR', score: 'VARCHAR' });
    expect(await db.query('SELECT id, name, email, score FROM users ORDER BY id')).toEqual([
      { id: '1', name: 'Ada', email: null, score: null },
      { id: '2', name: 'Alan', email: null, score: null },
      // score was BIGINT, then DOUBLE, then VARCHAR: each ALTER kept the value.
      { id: '3', name: 'Grace', email: 'grace@example.com', score: '5.0' },
      { id: '4', name: 'Edsger', email: null, score: '2.5' },
      { id: '5', name: 'Barbara', email: null, score: 'high' },
      // The last SCHEMA no longer names email and score; the columns stay, empty for new rows.
      { id: '6', name: 'Donald', email: null, score: null },
    ]);
  });

  it('skips a SCHEMA identical to the current one without committing', async () => {
    const [schema, ...rest] = fixtureLines('duplicate_records');
    const { logs } = await load(db, [schema!, rest[0]!, schema!, ...rest.slice(1)], { batch_size_rows: 100 });
    expect(logs.filter((line) => line.startsWith('DEBUG committed'))).toEqual(['DEBUG committed 2 rows to users']);
  });
});

describe('upserts on key_properties', () => {
  it('keeps the last record per key across batches, for single and composite keys', async () => {
    const { summary } = await load(db, fixtureLines('pk_updates'), { batch_size_rows: 2 });
    expect(await db.query('SELECT id, stage, amount FROM deals ORDER BY id')).toEqual([
      { id: 'd1', stage: 'closed', amount: 125 },
      { id: 'd2', stage: 'lost', amount: null },
      { id: 'd3', stage: 'open', amount: 300 },
    ]);
    expect(await db.query('SELECT deal_id, line, product FROM deal_lines ORDER BY ALL')).toEqual([
      { deal_id: 'd1', line: '1', product: 'seats' },
      { deal_id: 'd1', line: '2', product: 'premium support' },
      { deal_id: 'd2', line: '1', product: 'seats' },
    ]);
    expect(summary.rows).toEqual({ deals: 6, deal_lines: 4 });
  });

  it('keeps the last of several records with one key inside one batch', async () => {
    const { summary } = await load(db, fixtureLines('duplicate_records'));
    expect(await db.query('SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: '1', name: 'last' },
      { id: '2', name: 'only' },
    ]);
    expect(summary.rows).toEqual({ users: 2 });
  });

  it('appends every record of a stream without keys, duplicates included', async () => {
    await load(db, fixtureLines('no_key_append'));
    expect(await db.query(`SELECT page, CAST("at" AS VARCHAR) AS at FROM page_views ORDER BY ALL`)).toEqual([
      { page: '/home', at: '2024-05-01 10:00:00+00' },
      { page: '/home', at: '2024-05-01 10:00:00+00' },
      { page: '/pricing', at: '2024-05-01 10:01:00+00' },
    ]);
  });

  it('upserts again on a second run into the same database', async () => {
    await load(db, fixtureLines('duplicate_records'));
    await load(db, ['{"type": "SCHEMA", "stream": "users", "schema": {"properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}, "key_properties": ["id"]}', '{"type": "RECORD", "stream": "users", "record": {"id": 2, "name": "updated"}}']);
    expect(await db.query('SELECT id, name FROM users ORDER BY id')).toEqual([
      { id: '1', name: 'last' },
      { id: '2', name: 'updated' },
    ]);
  });
});

describe('ACTIVATE_VERSION', () => {
  it('with hard_delete, deletes the rows of older versions', async () => {
    await load(db, fixtureLines('activate_version'), { hard_delete: true });
    expect(await db.query('SELECT id, name, _sdc_table_version, _sdc_deleted_at FROM users ORDER BY id')).toEqual([
      { id: '1', name: 'Ada Lovelace', _sdc_table_version: '2', _sdc_deleted_at: null },
      { id: '3', name: 'Grace Hopper', _sdc_table_version: '2', _sdc_deleted_at: null },
    ]);
  });

  it('without hard_delete, marks the rows of older versions with _sdc_deleted_at', async () => {
    await load(db, fixtureLines('activate_version'));
    expect(await db.query('SELECT id, _sdc_table_version, CAST(_sdc_deleted_at AS VARCHAR) AS deleted FROM users ORDER BY id')).toEqual([
      { id: '1', _sdc_table_version: '2', deleted: null },
      { id: '2', _sdc_table_version: '1', deleted: '2024-06-01 12:00:00+00' },
      { id: '3', _sdc_table_version: '2', deleted: null },
    ]);
  });

  it('ignores a stream with no SCHEMA yet, with a warning', async () => {
    const { logs, states } = await load(db, fixtureLines('lenient_envelopes'));
    expect(logs).toContain('WARNING ACTIVATE_VERSION for stream nobody, which has no SCHEMA yet, ignored');
    expect(states).toEqual([{ bookmarks: { users: { last_id: 1 } } }]);
  });
});

describe('STATE', () => {
  it('is emitted only once every record before it is committed, and not once per STATE', async () => {
    const seen: Array<{ lastId: number; events: number; notes: number }> = [];
    const { states } = await load(db, fixtureLines('state_after_commit'), { batch_size_rows: 3 }, async (value) => {
      const lastId = (value as { bookmarks: { events: { last_id: number } } }).bookmarks.events.last_id;
      const [counts] = await db.query('SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM notes) AS notes');
      seen.push({ lastId, events: Number(counts!.events), notes: Number(counts!.notes) });
    });
    // Each emitted state's events (ids 1..last_id) are in the table at the moment it is emitted,
    // and so are the notes read before it: a commit covers every stream.
    const notesBefore = (lastId: number) => (lastId >= 8 ? 3 : lastId >= 4 ? 2 : lastId >= 1 ? 1 : 0);
    for (const { lastId, events, notes } of seen) {
      expect(events).toBeGreaterThanOrEqual(lastId);
      expect(notes).toBeGreaterThanOrEqual(notesBefore(lastId));
    }
    const emitted = seen.map((s) => s.lastId);
    expect(emitted).toEqual([...emitted].sort((a, b) => a - b));
    expect(emitted[0]).toBe(0);
    expect(emitted.at(-1)).toBe(10);
    // 11 STATE messages in; states are passed on at commits (every 3 records and at the end).
    expect(states.length).toBeLessThan(11);
    expect(emitted.filter((id) => id > 0 && id < 10).length).toBeGreaterThanOrEqual(2);
  });

  it('passes a STATE on at once when no record is waiting', async () => {
    const { states } = await load(db, ['{"type": "STATE", "value": {"n": 1}}', '{"type": "STATE", "value": {"n": 2}}']);
    expect(states).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe('type mapping', () => {
  it('creates the types of README.md#the-duckdb-target, widening integers beyond int64 by their values', async () => {
    await load(db, fixtureLines('type_mapping'));
    expect(await columnTypes('type_mapping')).toEqual({
      id: 'VARCHAR',
      big_id: 'HUGEINT',
      huge: 'VARCHAR',
      count: 'BIGINT',
      ratio: 'DOUBLE',
      flag: 'BOOLEAN',
      day: 'DATE',
      at_utc: 'TIMESTAMP WITH TIME ZONE',
      at_india: 'TIMESTAMP WITH TIME ZONE',
      at_pacific: 'TIMESTAMP WITH TIME ZONE',
      at_fraction: 'TIMESTAMP WITH TIME ZONE',
      at_space: 'TIMESTAMP WITH TIME ZONE',
      nested: 'JSON',
      list: 'JSON',
      maybe: 'VARCHAR',
      text_or_number: 'VARCHAR',
      int_or_float: 'DOUBLE',
      date_or_time: 'TIMESTAMP WITH TIME ZONE',
      anything: 'VARCHAR',
      first_name: 'VARCHAR',
    });
  });

  it('keeps every digit of 19- and 20-digit ids and of integers past 2^53', async () => {
    await load(db, fixtureLines('type_mapping'));
    expect(await db.query('SELECT id, CAST(big_id AS VARCHAR) AS big_id, huge, count FROM type_mapping ORDER BY id')).toEqual([
      { id: '7782342274025937895', big_id: '12345678901234567890', huge: '1234567890123456789012345678901234567890', count: '42' },
      { id: '7782342274025937896', big_id: '1', huge: null, count: '-9007199254740993' },
    ]);
  });

  it('widens an existing BIGINT column when a later batch brings an integer beyond int64', async () => {
    const schema = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"id": {"type": "integer"}}}, "key_properties": ["id"]}';
    const record = (id: string) => `{"type": "RECORD", "stream": "s", "record": {"id": ${id}}}`;
    const typesAtState: unknown[] = [];
    await load(db, [schema, record('7'), record('9223372036854774784'), '{"type": "STATE", "value": 1}', record('18446744073709551616')], { batch_size_rows: 2 }, async () => {
      typesAtState.push(await columnTypes('s'));
    });
    expect(typesAtState).toEqual([{ id: 'BIGINT' }]);
    expect(await columnTypes('s')).toEqual({ id: 'HUGEINT' });
    expect(await db.query('SELECT CAST(id AS VARCHAR) AS v FROM s ORDER BY s.id')).toEqual([{ v: '7' }, { v: '9223372036854774784' }, { v: '18446744073709551616' }]);
  });

  it('stores nested objects and arrays as JSON, numbers exact', async () => {
    await load(db, fixtureLines('type_mapping'));
    expect(await db.query(`SELECT nested, list, nested->>'$.big' AS big, list->>'$[1].x' AS second_x, anything FROM type_mapping ORDER BY id`)).toEqual([
      { nested: '{"a":{"b":[1,2]},"big":123456789012345678901234567890}', list: '[{"x":1},{"x":2}]', big: '123456789012345678901234567890', second_x: '2', anything: '{"k":"v"}' },
      { nested: '{}', list: '[]', big: null, second_x: null, anything: 'text' },
    ]);
  });

  it('stores date-times with non-UTC offsets as the right instant', async () => {
    await load(db, fixtureLines('type_mapping'));
    const rows = await db.query(
      `SELECT CAST(at_utc AS VARCHAR) AS utc, CAST(at_india AS VARCHAR) AS india, CAST(at_pacific AS VARCHAR) AS pacific, CAST(at_fraction AS VARCHAR) AS fraction, CAST(at_space AS VARCHAR) AS space, CAST(date_or_time AS VARCHAR) AS date_or_time, CAST(day AS VARCHAR) AS day FROM type_mapping ORDER BY id`,
    );
    expect(rows).toEqual([
      { utc: '2024-03-10 12:00:00+00', india: '2024-03-10 06:30:00+00', pacific: '2024-03-10 09:00:00+00', fraction: '2024-03-10 12:00:00.123456+00', space: '2024-03-10 12:00:00+00', date_or_time: '2024-01-02 00:00:00+00', day: '2024-02-29' },
      { utc: '1970-01-01 00:00:00+00', india: '2024-12-31 18:29:59+00', pacific: null, fraction: '2024-03-10 13:00:00.5+00', space: '2024-03-10 12:00:00+00', date_or_time: '2024-01-02 02:04:05+00', day: '1999-12-31' },
    ]);
  });

  it('stores numbers, booleans, unions and nulls', async () => {
    await load(db, fixtureLines('type_mapping'));
    expect(await db.query('SELECT ratio, flag, maybe, text_or_number, int_or_float, first_name FROM type_mapping ORDER BY id')).toEqual([
      { ratio: 0.25, flag: true, maybe: null, text_or_number: '7', int_or_float: 3, first_name: 'Ada' },
      { ratio: -1.5e-7, flag: false, maybe: 'here', text_or_number: 'seven', int_or_float: 2.5, first_name: 'Alan' },
    ]);
  });
});

describe('wide schemas', () => {
  // Wider than one json_transform shreds (COLUMNS_PER_SHRED, 256): the columns come from three structs.
  it('loads and upserts a stream of 600 columns of every type, with its metadata, value for value', async () => {
    const types = [{ type: ['null', 'string'] }, { type: ['null', 'integer'] }, { type: ['null', 'number'] }, { type: ['null', 'boolean'] }, { type: ['null', 'string'], format: 'date-time' }, { type: ['null', 'object'] }];
    const values = (row: number) => [`text ${row}`, 1e15 + row, row + 0.5, row % 2 === 0, `2024-05-0${row}T10:00:00Z`, { row }];
    const properties: Record<string, unknown> = { id: { type: 'integer' } };
    for (let column = 0; column < 599; column++) properties[`c${column}`] = types[column % types.length];
    const record = (id: number, row: number) => ({ id, ...Object.fromEntries(Array.from({ length: 599 }, (_, column) => [`c${column}`, values(row)[column % types.length]])) });
    const lines = [
      { type: 'SCHEMA', stream: 'wide', schema: { type: 'object', properties }, key_properties: ['id'] },
      { type: 'RECORD', stream: 'wide', record: record(1, 1), version: 7 },
      { type: 'RECORD', stream: 'wide', record: record(2, 2), version: 7 },
      { type: 'RECORD', stream: 'wide', record: record(1, 3), version: 7, time_extracted: '2024-05-31T23:00:00Z' },
    ].map((message) => JSON.stringify(message));
    const { summary } = await load(db, lines, { add_record_metadata: true });
    expect(summary.rows).toEqual({ wide: 2 });
    const rows = await db.query('SELECT * EXCLUDE (_sdc_received_at, _sdc_batched_at, _sdc_deleted_at) REPLACE (CAST(_sdc_extracted_at AS VARCHAR) AS _sdc_extracted_at) FROM wide ORDER BY id');
    const stored = (id: number, row: number, extracted: string | null, sequence: string) => ({
      id: String(id),
      ...Object.fromEntries(Array.from({ length: 599 }, (_, column) => [`c${column}`, [`text ${row}`, String(1e15 + row), row + 0.5, row % 2 === 0, `2024-05-0${row} 10:00:00+00`, `{"row":${row}}`][column % types.length]])),
      _sdc_extracted_at: extracted,
      _sdc_sequence: sequence,
      _sdc_table_version: '7',
    });
    expect(rows).toEqual([stored(1, 3, '2024-05-31 23:00:00+00', '4'), stored(2, 2, null, '3')]);
    expect(Object.keys(await columnTypes('wide'))).toHaveLength(600 + 6);
  });
});

describe('record metadata', () => {
  it('adds the _sdc_ columns with the envelope, clock and line number values', async () => {
    const lines = fixtureLines('activate_version').map((line) => line.replace('"record": {"id": 1, "name": "Ada"}', '"record": {"id": 1, "name": "Ada"}, "time_extracted": "2024-05-31T23:00:00-02:00"'));
    await load(db, lines.slice(0, 5), { add_record_metadata: true });
    expect(await db.query(`SELECT id, CAST(_sdc_extracted_at AS VARCHAR) AS extracted, CAST(_sdc_received_at AS VARCHAR) AS received, CAST(_sdc_batched_at AS VARCHAR) AS batched, _sdc_sequence, _sdc_table_version, _sdc_deleted_at FROM users ORDER BY id`)).toEqual([
      { id: '1', extracted: '2024-06-01 01:00:00+00', received: '2024-06-01 12:00:00+00', batched: '2024-06-01 12:00:00+00', _sdc_sequence: '3', _sdc_table_version: '1', _sdc_deleted_at: null },
      { id: '2', extracted: null, received: '2024-06-01 12:00:00+00', batched: '2024-06-01 12:00:00+00', _sdc_sequence: '4', _sdc_table_version: '1', _sdc_deleted_at: null },
      { id: '3', extracted: null, received: '2024-06-01 12:00:00+00', batched: '2024-06-01 12:00:00+00', _sdc_sequence: '5', _sdc_table_version: '1', _sdc_deleted_at: null },
    ]);
  });

  it('leaves them out by default', async () => {
    await load(db, fixtureLines('duplicate_records'));
    expect(Object.keys(await columnTypes('users'))).toEqual(['id', 'name']);
  });
});

describe('input and naming', () => {
  it('matches types case-insensitively, skips blank lines and ignores unknown message types', async () => {
    const { summary, logs } = await load(db, fixtureLines('lenient_envelopes'));
    expect(await db.query('SELECT id FROM users')).toEqual([{ id: '1' }]);
    expect(summary).toEqual({ rows: { users: 1 }, lines: 7, states: 1 });
    expect(logs).toContain('DEBUG ignoring a message of unknown type "BATCH"');
  });

  it('loads into the configured schema, creating it, with sanitized table and column names', async () => {
    const schema = '{"type": "SCHEMA", "stream": "crm-deals.v2", "schema": {"properties": {"Deal Id": {"type": "string"}, "2nd owner": {"type": "string"}}}, "key_properties": ["Deal Id"]}';
    await load(db, [schema, '{"type": "RECORD", "stream": "crm-deals.v2", "record": {"Deal Id": "x", "2nd owner": "Ada"}}'], { schema: 'raw' });
    expect(await db.query('SELECT "Deal_Id", "_2nd_owner" FROM raw.crm_deals_v2')).toEqual([{ Deal_Id: 'x', _2nd_owner: 'Ada' }]);
  });

  it('reads a readline interface that starts flowing before the database is open', async () => {
    const lines = createInterface({ input: createReadStream(new URL('pk_updates.jsonl', FIXTURES)), crlfDelay: Infinity });
    const { summary } = await load(db, lines);
    expect(summary.lines).toBe(15);
    expect(await db.query('SELECT count(*) AS n FROM deals')).toEqual([{ n: '3' }]);
  });
});
