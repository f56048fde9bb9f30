import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/core/catalog.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import { GONG_SANDBOX_CLIENT_ID, GONG_SANDBOX_CLIENT_SECRET, GONG_SANDBOX_REFRESH_TOKEN, GONG_TOKEN_PATH } from '../../src/sandbox/gong/auth.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, SECRET_SETTINGS, secretsOf, tempDir, writeJson, type BinaryRun } from '../helpers/binary.js';
import { CAN_MAKE_UNWRITABLE, makeUnwritable } from '../helpers/read-only.js';
import { collectSync, TEST_NOW } from '../helpers/sync.js';

/**
 * Issue 7, secrets: runBinary scans every run of the suite for the secrets of its configs and
 * rejects on a hit; these runs cover what could print one — errors, debug logs, every protocol,
 * and OAuth rotations (the spent and the new refresh token alike).
 */
let sandbox: RunningSandbox;
let dir: string;
let configPath: string;
const START = { start_date: '2026-06-01T00:00:00Z', end_date: TEST_NOW.toISO() };
/** Small streams of each provider, so the runs stay quick. */
const STREAMS = ['gong_users', 'gong_calls', 'clari_copilot_users', 'fourfour_topics'];
/** A Singer catalog selecting `streams`; the tap fills in schemas and keys from its own files. */
const singerCatalog = (streams: readonly string[]) => ({ streams: streams.map((name) => ({ tap_stream_id: name, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) }) as unknown as Catalog;

const savedConfig = () => JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startAllSandboxes({ seed: 11, now: () => TEST_NOW, unlimited: true });
  dir = tempDir('tap-convo-secrets-');
  configPath = writeJson(dir, 'config.json', sandbox.tapConfig(START));
});

afterAll(async () => {
  await sandbox?.close();
});

describe('the secret scan itself', () => {
  it('looks for every setting --about marks secret, and only those', async () => {
    const run = await runBinary('tap-convo', ['--about', '--format', 'json']);
    const settings = (JSON.parse(run.stdout) as { settings: { properties: Record<string, { properties?: Record<string, { airbyte_secret?: boolean }> }> } }).settings;
    const published = Object.entries(settings.properties).flatMap(([block, schema]) =>
      Object.entries(schema.properties ?? {})
        .filter(([, setting]) => setting.airbyte_secret === true)
        .map(([name]) => `${block}.${name}`),
    );
    expect(SECRET_SETTINGS.map((path) => path.join('.')).sort()).toEqual(published.sort());
    expect(published).toEqual(expect.arrayContaining(['gong.access_key', 'gong.refresh_token', 'clari_copilot.api_password', 'fourfour.client_secret']));
  });

  it('fails a run that prints a secret of its config', async () => {
    const secret = 'leaky-format-secret';
    const config = writeJson(dir, 'leaky.json', { gong: { access_key: 'leaky-key', access_key_secret: secret } });
    // yargs echoes an invalid choice, which is how this run prints the value.
    await expect(runBinary('tap-convo', ['--config', config, '--about', '--format', secret])).rejects.toThrow(/printed 1 secret\(s\) of its config: le…\(19 chars\)/);
  });
});

describe('no run prints a secret', () => {
  it('holds secrets of every provider to look for', () => {
    expect(secretsOf(savedConfig()).length).toBeGreaterThanOrEqual(6);
  });

  it('--discover (Four/Four describes itself live through $metadata)', async () => {
    const run = await runBinary('tap-convo', ['--config', configPath, '--discover']);
    expect(run.code, run.stderr).toBe(0);
    const streams = (run.lines[0] as { streams: Array<{ tap_stream_id: string }> }).streams.map((s) => s.tap_stream_id);
    expect(streams).toEqual(expect.arrayContaining(STREAMS));
  });

  it('a sync at --log-level debug, spent and rotated tokens included', async () => {
    const spent = secretsOf(savedConfig());
    const run = await runBinary('tap-convo', ['--config', configPath, '--catalog', writeJson(dir, 'catalog.json', singerCatalog(STREAMS)), '--log-level', 'debug'], { secrets: spent });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/^DEBUG /m);
    expect(new Set(run.lines.filter((line) => line.type === 'RECORD').map((line) => line.stream))).toEqual(new Set(STREAMS));
  });

  it('a sync the API refuses (401), at --log-level debug with its stack trace', async () => {
    const wrong = { ...START, clari_copilot: { ...(savedConfig().clari_copilot as object), api_password: 'wrong-clari-password' } };
    const run = await runBinary('tap-convo', ['--config', writeJson(dir, 'wrong.json', wrong), '--log-level', 'debug']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^CRITICAL .*401.*clari_copilot\.api_password/m);
  });

  it('a Gong OAuth sync that rotates the single-use refresh token', async () => {
    const base = (savedConfig().gong as { base_url: string }).base_url;
    const oauthPath = writeJson(dir, 'gong-oauth.json', { ...START, gong: { base_url: base, client_id: GONG_SANDBOX_CLIENT_ID, client_secret: GONG_SANDBOX_CLIENT_SECRET, refresh_token: GONG_SANDBOX_REFRESH_TOKEN, token_url: base + GONG_TOKEN_PATH } });
    const run = await runBinary('tap-convo', ['--config', oauthPath, '--catalog', writeJson(dir, 'workspaces.json', singerCatalog(['gong_workspaces'])), '--log-level', 'debug'], { secrets: [GONG_SANDBOX_REFRESH_TOKEN] });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const rotated = (JSON.parse(readFileSync(oauthPath, 'utf8')) as { gong: { refresh_token: string } }).gong.refresh_token;
    expect(rotated).not.toBe(GONG_SANDBOX_REFRESH_TOKEN);
  });

  describe('Airbyte', () => {
    /** The platform keeps the config a CONTROL message hands it; the next command runs with that. */
    async function airbyte(args: string[]): Promise<BinaryRun> {
      const platformPath = writeJson(dir, 'airbyte-config.json', readFileSync(configPath, 'utf8'));
      const run = await runBinary('tap-convo', [...args, '--config', platformPath]);
      const control = run.lines.filter((line) => line.type === 'CONTROL').at(-1) as { control: { connectorConfig: { config: object } } } | undefined;
      if (control) writeJson(dir, 'config.json', control.control.connectorConfig.config);
      return run;
    }

    it('spec', async () => {
      const run = await runBinary('tap-convo', ['spec']);
      expect(run.code).toBe(0);
      expect(run.lines.map((line) => line.type)).toEqual(['SPEC']);
    });

    it('check, with a rotation sent back as CONTROL', async () => {
      const run = await airbyte(['check']);
      expect(run.code).toBe(0);
      expect(run.lines.find((line) => line.type === 'CONNECTION_STATUS')).toMatchObject({ connectionStatus: { status: 'SUCCEEDED' } });
      expect(run.lines.some((line) => line.type === 'CONTROL')).toBe(true);
    });

    it('read at debug level', async () => {
      const catalog = writeJson(dir, 'configured.json', { streams: STREAMS.map((name) => ({ stream: { name }, sync_mode: 'full_refresh' })) });
      const run = await airbyte(['read', '--catalog', catalog, '--log-level', 'debug']);
      expect(run.code, run.stdout.slice(-2000)).toBe(0);
      expect(run.lines.some((line) => line.type === 'LOG' && (line.log as { level: string }).level === 'DEBUG')).toBe(true);
      expect(run.lines.filter((line) => line.type === 'RECORD').length).toBeGreaterThan(0);
    });
  });

  it('an in-process sync with a Four/Four rotation (collectSync scans its logs and events)', async () => {
    // The refresh token the Airbyte runs above left current; the sandbox's first one is spent.
    const config: JsonRecord = { ...START, fourfour: { ...(savedConfig().fourfour as JsonRecord) } };
    const before = secretsOf(config);
    const sync = await collectSync(config, { now: TEST_NOW, catalog: singerCatalog(['fourfour_topics']) });
    expect(sync.records.fourfour_topics?.length).toBeGreaterThan(0);
    expect(secretsOf(config)).not.toEqual(before);
  });
});

/**
 * Issue 13.1 and 13.2: a Gong refresh token is single-use, so the one the sandbox rotates to must
 * reach the config file the user keeps, or the next run cannot start. Each case has a sandbox of its
 * own, whose first refresh token works once; the second run proves which token the file holds.
 */
describe('a rotated refresh token is never lost', () => {
  let own: RunningSandbox;
  let home: string;
  let cases = 0;
  beforeEach(async () => {
    own = await startAllSandboxes({ seed: 13, now: () => TEST_NOW, unlimited: true });
    home = join(dir, `rotation-${++cases}`);
    mkdirSync(home);
  });
  afterEach(async () => {
    await own?.close();
  });

  /** A Gong OAuth config in the case's directory, holding the sandbox's first refresh token. */
  function oauthConfig(): string {
    const base = (own.tapConfig().gong as { base_url: string }).base_url;
    return writeJson(home, 'config.json', { ...START, gong: { base_url: base, client_id: GONG_SANDBOX_CLIENT_ID, client_secret: GONG_SANDBOX_CLIENT_SECRET, refresh_token: GONG_SANDBOX_REFRESH_TOKEN, token_url: base + GONG_TOKEN_PATH } });
  }
  const refreshTokenIn = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { gong: { refresh_token: string } }).gong.refresh_token;
  const syncWorkspaces = (config: string) => runBinary('tap-convo', ['--config', config, '--catalog', writeJson(dir, 'workspaces.json', singerCatalog(['gong_workspaces']))], { secrets: [GONG_SANDBOX_REFRESH_TOKEN] });

  it('writes through a symlinked config to its target, keeping its mode', async () => {
    const target = oauthConfig();
    chmodSync(target, 0o640);
    const link = join(home, 'link.json');
    symlinkSync(target, link);
    const run = await syncWorkspaces(link);
    expect(run.code, run.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(refreshTokenIn(target)).not.toBe(GONG_SANDBOX_REFRESH_TOKEN);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect((await syncWorkspaces(link)).code).toBe(0);
  });

  it.runIf(CAN_MAKE_UNWRITABLE)('saves it in place when only the file, not its directory, is writable', async () => {
    const config = oauthConfig();
    const unlock = makeUnwritable(home);
    try {
      const run = await syncWorkspaces(config);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`INFO gong.refresh_token was rotated by the provider; saved the new value to ${config}, in place because its directory is not writable`);
      expect(refreshTokenIn(config)).not.toBe(GONG_SANDBOX_REFRESH_TOKEN);
      const next = await syncWorkspaces(config);
      expect(next.code, next.stderr).toBe(0);
    } finally {
      unlock();
    }
  });

  it.runIf(CAN_MAKE_UNWRITABLE)('does not spend it when neither the file nor its directory is writable', async () => {
    const config = oauthConfig();
    const unlockFile = makeUnwritable(config);
    const unlockDir = makeUnwritable(home);
    let run: BinaryRun;
    try {
      run = await syncWorkspaces(config);
    } finally {
      unlockDir();
      unlockFile();
    }
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('CRITICAL'))).toEqual([
      expect.stringMatching(/^CRITICAL gong_workspaces: gong\.refresh_token may be rotated by the provider, but .*config\.json cannot be rewritten: its directory is not writable \((EACCES|EPERM)\), the file is not writable \((EACCES|EPERM)\); make the file or its directory writable for this user\. It was not used, so it still works once that is done$/),
    ]);
    expect(own.traffic.gong?.requests ?? 0).toBe(0);
    // Made writable, the same file starts the next run: its token was never spent.
    expect(refreshTokenIn(config)).toBe(GONG_SANDBOX_REFRESH_TOKEN);
    const next = await syncWorkspaces(config);
    expect(next.code, next.stderr).toBe(0);
  });
});
