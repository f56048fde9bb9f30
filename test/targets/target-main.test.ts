import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { queryDatabase } from '../helpers/duckdb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { FIXTURES } from './duckdb/helpers.js';

// These run the built binary (dist/, built by `npm test` before vitest), as a pipeline would.
const fixture = (name: string) => readFileSync(new URL(`${name}.jsonl`, FIXTURES), 'utf8');


let dir: string;
beforeAll(() => {
  dir = tempDir('target-convo-duckdb-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('target-convo-duckdb', () => {
  it('loads stdin into the --database file and echoes the committed STATE on stdout', async () => {
    const database = join(dir, 'pk.duckdb');
    const run = await runBinary('target-convo-duckdb', ['--database', database], { input: fixture('pk_updates') });
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([{ type: 'STATE', value: { bookmarks: { deals: { round: 3 } } } }]);
    expect(run.stderr).not.toMatch(/CRITICAL/);
    expect(await queryDatabase(database, 'SELECT id, stage FROM deals ORDER BY id')).toEqual([
      { id: 'd1', stage: 'closed' },
      { id: 'd2', stage: 'lost' },
      { id: 'd3', stage: 'open' },
    ]);
  });

  it('stops at a bad line with one CRITICAL line and exit 1, keeping what came before it', async () => {
    const database = join(dir, 'bad.duckdb');
    const config = writeJson(dir, 'bad-config.json', { database, batch_size_rows: 1 });
    const run = await runBinary('target-convo-duckdb', ['--config', config], { input: fixture('invalid_record') });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('CRITICAL'))).toEqual(['CRITICAL line 5: record does not match its schema: record.count must be integer (stream users)']);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.lines).toEqual([{ type: 'STATE', value: { bookmarks: { users: { last_id: 2 } } } }]);
    expect(await queryDatabase(database, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: '1' }, { id: '2' }]);
  });

  it('merges config files and lets --database override them', async () => {
    const database = join(dir, 'override.duckdb');
    const first = writeJson(dir, 'first.json', { database: join(dir, 'unused.duckdb'), schema: 'first' });
    const second = writeJson(dir, 'second.json', { schema: 'raw', add_record_metadata: true });
    const run = await runBinary('target-convo-duckdb', ['--config', first, '--config', second, '--database', database], { input: fixture('no_key_append') });
    expect(run.code).toBe(0);
    expect(await queryDatabase(database, 'SELECT count(*) AS n, count(_sdc_batched_at) AS batched FROM raw.page_views')).toEqual([{ n: '3', batched: '3' }]);
  });

  it.each([
    [[], /^CRITICAL give --config T \(a JSON file with at least "database"\) or --database F$/m],
    [['--database', 'x.duckdb', '--bogus'], /^CRITICAL Unknown argument: bogus; see target-convo-duckdb --help$/m],
  ])('exits 2 for bad usage %j', async (args, message) => {
    const run = await runBinary('target-convo-duckdb', args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('exits 2 for a bad config, naming the setting', async () => {
    const config = writeJson(dir, 'zero.json', { database: join(dir, 'zero.duckdb'), batch_size_rows: 0 });
    const run = await runBinary('target-convo-duckdb', ['--config', config], { input: fixture('pk_updates') });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('CRITICAL bad target config: config.batch_size_rows must be >= 1');
  });

  it('prints --version and --help', () => {
    // runBinary parses stdout as JSON lines; these two print text.
    const run = (flag: string) => spawnSync(process.execPath, [join(ROOT, 'bin', 'target-convo-duckdb.js'), flag], { encoding: 'utf8' });
    const version = run('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--database +DuckDB database file/);
  });
});
