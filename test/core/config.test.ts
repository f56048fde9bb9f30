import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConfigPersister, loadConfig, UnsavedSetting } from '../../src/core/config.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { redact } from '../../src/util/log.js';
import { memoryLogger } from '../helpers/logger.js';
import { CAN_MAKE_UNWRITABLE, makeUnwritable } from '../helpers/read-only.js';

const dir = mkdtempSync(join(tmpdir(), 'tap-convo-config-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
const good = { start_date: '2024-01-01T00:00:00Z', gong: { access_key: 'AKEY1234', access_key_secret: 'very-secret-1' } };
/** What loading adds to a Gong block that sets none of the settings with a default (the settings schema's defaults). */
const GONG_DEFAULTS = { lookback: 'P1D', token_url: 'https://app.gong.io/oauth2/generate-customer-token', expose_media_urls: false, include_private: false, daily_request_quota: 10_000, request_timeout: 60 };

function problem(sources: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(sources, PROVIDERS, env);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('loadConfig', () => {
  it('merges several files, later ones winning setting by setting', () => {
    const { config } = loadConfig([file('a.json', good), file('b.json', { gong: { lookback: 'PT6H' } })], PROVIDERS, {});
    expect(config.gong).toEqual({ ...GONG_DEFAULTS, ...good.gong, lookback: 'PT6H' });
  });

  it('fills each setting the schema gives a default once, where the config leaves it out, in the configured blocks only', () => {
    const { config } = loadConfig([file('a.json', { gong: { ...good.gong, request_timeout: 5 } })], PROVIDERS, {});
    expect(config).toEqual({ emit_activate_version_messages: false, gong: { ...GONG_DEFAULTS, ...good.gong, request_timeout: 5 } });
  });

  it('reads TAP_CONVO_ variables with nested settings joined by __, cast by the schema', () => {
    const { config } = loadConfig(['ENV'], PROVIDERS, {
      TAP_CONVO_START_DATE: '2024-02-01T00:00:00Z',
      TAP_CONVO_GONG__ACCESS_TOKEN: 'tok-123456',
      TAP_CONVO_GONG__REQUESTS_PER_SECOND: '2',
      TAP_CONVO_EMIT_ACTIVATE_VERSION_MESSAGES: 'true',
      OTHER: 'ignored',
    });
    expect(config).toEqual({ start_date: '2024-02-01T00:00:00Z', emit_activate_version_messages: true, gong: { ...GONG_DEFAULTS, access_token: 'tok-123456', requests_per_second: 2 } });
  });

  it.each([
    ['a missing partner setting', { gong: { access_key: 'AKEY1234' } }, 'config: gong.access_key_secret is required when gong.access_key is set'],
    ['no credentials', { gong: {} }, 'config: gong: credentials are missing: set access_key + access_key_secret, or access_token, or client_id + client_secret + refresh_token'],
    ['two kinds of credentials', { gong: { access_token: 'abcdef', ...good.gong } }, 'config: gong: set only one kind of credentials'],
    ['an unknown setting', { ...good, gong: { ...good.gong, acces_key: 'x' } }, 'config: gong.acces_key is not a known setting'],
    ['a wrong type', { ...good, gong: { ...good.gong, requests_per_second: 'fast' } }, 'config: gong.requests_per_second must be number'],
    ['a bad start_date', { ...good, start_date: 'last tuesday' }, 'config: start_date must be a valid date-time'],
    ['plain http to a remote host', { gong: { ...good.gong, base_url: 'http://api.gong.io' } }, 'config: gong.base_url must use https'],
    ['no provider at all', { start_date: '2024-01-01T00:00:00Z' }, 'config: no provider is configured'],
  ])('rejects %s in one line without the secret', (_name, content, message) => {
    const text = problem([file('bad.json', content)]);
    expect(text).toContain(message);
    expect(text).not.toContain('\n');
    expect(text).not.toContain('very-secret-1');
  });

  it.each([
    ['an empty file', '', 'is empty'],
    ['broken JSON', '{"gong": ', 'is not valid JSON'],
    ['a JSON array', '[]', 'must be a JSON object'],
  ])('rejects %s', (_name, content, message) => {
    expect(problem([file('broken.json', content)])).toContain(message);
  });

  it.each([
    ['a __proto__ key in a file', [`{"__proto__": {"polluted": "yes"}}`], {}, 'config: __proto__ is not a known setting'],
    ['a __proto__ key merged into a provider block', [JSON.stringify(good), `{"gong": {"__proto__": {"polluted": "yes"}}}`], {}, 'config: gong.__proto__ is not a known setting'],
    ['a constructor key merged over another file', [JSON.stringify({ ...good, constructor: {} }), `{"constructor": {"prototype": {"polluted": "yes"}}}`], {}, 'config: constructor is not a known setting'],
    ['TAP_CONVO_CONSTRUCTOR__ variables', ['ENV'], { TAP_CONVO_GONG__ACCESS_TOKEN: 'tok-123456', TAP_CONVO_CONSTRUCTOR__POLLUTED: 'yes', TAP_CONVO_CONSTRUCTOR__PROTOTYPE: 'yes' }, 'config: constructor is not a known setting'],
    ['a TAP_CONVO___PROTO__ variable', ['ENV'], { TAP_CONVO_GONG__ACCESS_TOKEN: 'tok-123456', TAP_CONVO___PROTO____POLLUTED: 'yes' }, 'config: environment variable TAP_CONVO___PROTO____POLLUTED is not a known setting'],
  ])('refuses %s and leaves every prototype alone', (_name, documents, env, message) => {
    const sources = documents.map((content, index) => (content === 'ENV' ? 'ENV' : file(`proto-${index}.json`, content)));
    expect(problem(sources, env)).toBe(message);
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names a missing file', () => {
    expect(problem([join(dir, 'nope.json')])).toMatch(/cannot read config .*nope.json: ENOENT/);
  });

  it('allows http only to loopback hosts', () => {
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9']) {
      expect(problem([file('l.json', { gong: { ...good.gong, base_url: `http://${host}/gong` } })])).toBe('no error');
    }
  });

  it('registers credentials so no log line can print them', () => {
    loadConfig([file('s.json', good)], PROVIDERS, {});
    expect(redact('key=AKEY1234 secret=very-secret-1')).toBe('key=*** secret=***');
  });
});

describe('createConfigPersister', () => {
  it('rewrites the file a rotated token came from, keeping the rest of it', async () => {
    const path = file('oauth.json', { start_date: '2024-01-01T00:00:00Z', gong: { client_id: 'cid', client_secret: 'csecret-1', refresh_token: 'rt-old-1', lookback: 'P2D' } });
    const { origins } = loadConfig([path], PROVIDERS, {});
    const logger = memoryLogger();
    await createConfigPersister(origins, logger).persistConfig('gong', { refresh_token: 'rt-new-2' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ start_date: '2024-01-01T00:00:00Z', gong: { client_id: 'cid', client_secret: 'csecret-1', refresh_token: 'rt-new-2', lookback: 'P2D' } });
    expect(logger.lines.join('\n')).toContain(`gong.refresh_token was rotated by the provider; saved the new value to ${path}`);
    expect(logger.lines.join('\n')).not.toContain('rt-new-2');
  });

  const oauth = { gong: { client_id: 'cid', client_secret: 'csecret-1', refresh_token: 'rt-old-1' } };
  /** A config holding an OAuth refresh token, alone in its own directory. */
  function oauthConfig(name: string): string {
    const home = join(dir, name);
    mkdirSync(home);
    return file(`${name}/config.json`, oauth);
  }
  const refreshTokenIn = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as typeof oauth).gong.refresh_token;

  it('writes through a symlink to its target, keeping the mode', async () => {
    const target = oauthConfig('linked');
    chmodSync(target, 0o640);
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    const persister = createConfigPersister(loadConfig([link], PROVIDERS, {}).origins, memoryLogger());
    persister.ensurePersistable('gong', ['refresh_token']);
    await persister.persistConfig('gong', { refresh_token: 'rt-new-2' });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(refreshTokenIn(target)).toBe('rt-new-2');
    expect(statSync(target).mode & 0o777).toBe(0o640);
  });

  it.runIf(process.getuid?.() === 0)('keeps the owner of a file root rewrites', async () => {
    const path = oauthConfig('owned');
    chownSync(path, 4321, 4322);
    await createConfigPersister(loadConfig([path], PROVIDERS, {}).origins, memoryLogger()).persistConfig('gong', { refresh_token: 'rt-new-2' });
    expect(refreshTokenIn(path)).toBe('rt-new-2');
    expect([statSync(path).uid, statSync(path).gid]).toEqual([4321, 4322]);
  });

  it.runIf(CAN_MAKE_UNWRITABLE)('writes in place when only the file, not its directory, is writable', async () => {
    const path = oauthConfig('locked-dir');
    const inode = statSync(path).ino;
    const logger = memoryLogger();
    const persister = createConfigPersister(loadConfig([path], PROVIDERS, {}).origins, logger);
    const unlock = makeUnwritable(join(dir, 'locked-dir'));
    try {
      persister.ensurePersistable('gong', ['refresh_token']);
      await persister.persistConfig('gong', { refresh_token: 'rt-new-2' });
    } finally {
      unlock();
    }
    expect(refreshTokenIn(path)).toBe('rt-new-2');
    expect(statSync(path).ino).toBe(inode);
    expect(logger.lines.join('\n')).toContain(`saved the new value to ${path}, in place because its directory is not writable`);
  });

  it.runIf(CAN_MAKE_UNWRITABLE)('refuses before the token is spent when neither the file nor its directory can be written, and tells how to recover after', async () => {
    const path = oauthConfig('locked');
    const persister = createConfigPersister(loadConfig([path], PROVIDERS, {}).origins, memoryLogger());
    const unlockFile = makeUnwritable(path);
    const unlockDir = makeUnwritable(join(dir, 'locked'));
    try {
      expect(() => persister.ensurePersistable('gong', ['refresh_token'])).toThrow(
        new RegExp(`^gong\\.refresh_token may be rotated by the provider, but ${path} cannot be rewritten: its directory is not writable \\((EACCES|EPERM)\\), the file is not writable \\((EACCES|EPERM)\\); make the file or its directory writable for this user\\. It was not used, so it still works once that is done$`),
      );
      // Were the provider to rotate it anyway (the file locked after the check), the run says how to recover, without the token.
      const failure = persister.persistConfig('gong', { refresh_token: 'rt-new-unsaved' });
      await expect(failure).rejects.toThrow(UnsavedSetting);
      await expect(failure).rejects.toThrow(/^gong\.refresh_token was rotated by the provider, but the new value could not be saved: .*The old value no longer works: authorise tap-convo with the provider again to get a new refresh_token, put it in .*config\.json as gong\.refresh_token/);
      await expect(failure).rejects.not.toThrow('rt-new-unsaved');
    } finally {
      unlockDir();
      unlockFile();
    }
    expect(refreshTokenIn(path)).toBe('rt-old-1');
  });

  it('refuses to spend a refresh token from the environment, where a rotated one cannot be saved', () => {
    const env = { TAP_CONVO_GONG__CLIENT_ID: 'cid', TAP_CONVO_GONG__CLIENT_SECRET: 'csecret-1', TAP_CONVO_GONG__REFRESH_TOKEN: 'rt-env-1' };
    const persister = createConfigPersister(loadConfig(['ENV'], PROVIDERS, env).origins, memoryLogger());
    expect(() => persister.ensurePersistable('gong', ['refresh_token'])).toThrow(
      'gong.refresh_token may be rotated by the provider, but it comes from the environment, which tap-convo cannot write; put it in a config file. It was not used',
    );
  });
});
