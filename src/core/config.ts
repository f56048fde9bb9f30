import { readFileSync } from 'node:fs';
import { Duration } from 'luxon';
import type { JsonRecord } from '../protocol/messages.js';
import { InputError, SyncError } from '../util/errors.js';
import { registerSecret, type Logger } from '../util/log.js';
import { defaultsFiller, validator } from '../util/schema.js';
import { planRewrite, rewriteFile, type RewriteMethod } from './config-file.js';
import type { ProviderConfig, ProviderDefinition } from './definitions.js';
import { parseInstant } from './state.js';

/** A setting name that holds a credential: marked secret in every schema and redacted everywhere. */
export function isSecretSetting(name: string): boolean {
  return /(_secret|_password|_token)$|^(api_key|access_key)$/.test(name);
}

/** The published settings schema: the top-level settings plus one block per provider, and a command's own (`extra`: target-convo's). */
export function settingsSchema(providers: readonly ProviderDefinition[], extra: JsonRecord = {}): JsonRecord {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'tap-convo',
    type: 'object',
    additionalProperties: false,
    properties: {
      start_date: { type: 'string', format: 'date-time', title: 'Start date', description: 'Earliest record time to sync on the first run; absent means the full history.', examples: ['2024-01-01T00:00:00Z'] },
      end_date: { type: ['string', 'null'], format: 'date-time', title: 'End date', description: 'Latest record time to sync (exclusive); absent means now.' },
      emit_activate_version_messages: { type: 'boolean', default: false, title: 'Emit ACTIVATE_VERSION', description: 'Version full-table streams so targets can drop rows that disappeared.' },
      ...Object.fromEntries(providers.map((p) => [p.key, p.settings])),
      ...extra,
    },
  };
}

/**
 * Fills in, in place, each absent setting that the settings schema gives a default, in the blocks
 * present only (an absent provider stays unconfigured): the one place defaults apply, so code reads a
 * setting and never falls back to a value of its own. In place, as a rotated credential is later
 * written into this same object.
 */
export function fillDefaults<C extends JsonRecord>(config: C, providers: readonly ProviderDefinition[], extra: JsonRecord = {}): C {
  defaultsFiller(settingsSchema(providers, extra))(config);
  return config;
}

interface LoadedConfig {
  config: JsonRecord;
  /** For each `provider.setting`, the file it came from (absent: environment). */
  origins: Map<string, string>;
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!text.trim()) throw new InputError(`${what} ${path} is empty; it must hold a JSON object`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what} ${path} is not valid JSON: ${withoutExcerpt((error as Error).message)}`);
  }
}

/**
 * V8 quotes the text around an unexpected token (`Unexpected token 's', ..."key": s3cr"... is not
 * valid JSON`), and in a config that text may be a credential someone forgot to quote; the token
 * alone is enough to find the mistake.
 */
function withoutExcerpt(message: string): string {
  return message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
}

export { readJsonFile };

function isObject(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Casts an environment string by the type the schema declares for that setting. */
function castSetting(raw: string, schema: JsonRecord | undefined): unknown {
  const type = Array.isArray(schema?.type) ? (schema!.type as string[]).find((t) => t !== 'null') : schema?.type;
  // A value that is not of the type stays a string, so the schema check names the variable's setting.
  if (type === 'number' || type === 'integer') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') return /^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : raw;
  if (type === 'object' || type === 'array') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Sets an own property even where an inherited one has the name (`__proto__`, `constructor`), so a
 * config can never write into a prototype; the schema then refuses the name as an unknown setting.
 */
function setOwn(target: JsonRecord, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function ownValue(target: JsonRecord, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

/** A copy of a JSON object made of own properties only. */
function ownCopy(source: JsonRecord): JsonRecord {
  const copy: JsonRecord = {};
  for (const [key, value] of Object.entries(source)) setOwn(copy, key, value);
  return copy;
}

/** `SETTING` or `PROVIDER__SETTING`: words of letters and digits joined by single underscores. */
const ENV_SETTING = /^[a-z0-9]+(?:_[a-z0-9]+)*(?:__[a-z0-9]+(?:_[a-z0-9]+)*)?$/;

/** Settings from `TAP_CONVO_<SETTING>` variables; nested settings are joined with `__`. */
function configFromEnv(env: NodeJS.ProcessEnv, schema: JsonRecord): JsonRecord {
  const config: JsonRecord = {};
  const properties = schema.properties as Record<string, JsonRecord>;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TAP_CONVO_') || raw === undefined) continue;
    const path = name.slice('TAP_CONVO_'.length).toLowerCase();
    // No setting has an empty part or a third level, so such a name can only be a mistake (or `__proto__`).
    if (!ENV_SETTING.test(path)) throw new InputError(`config: environment variable ${name} is not a known setting`);
    const [top, nested] = path.split('__') as [string, string | undefined];
    const topSchema = ownValue(properties, top) as JsonRecord | undefined;
    if (nested) {
      const block = ownValue(config, top) ?? {};
      // `TAP_CONVO_GONG` holding a value too: the schema refuses that, so the nested one can wait.
      if (!isObject(block)) continue;
      setOwn(config, top, block);
      setOwn(block, nested, castSetting(raw, ownValue((topSchema?.properties ?? {}) as JsonRecord, nested) as JsonRecord | undefined));
    } else {
      setOwn(config, top, castSetting(raw, topSchema));
    }
  }
  return config;
}

/** Later sources win, block by block (a second file may add one setting to a provider). */
function mergeInto(target: JsonRecord, source: JsonRecord, origins: Map<string, string>, origin: string | undefined): void {
  for (const [key, value] of Object.entries(source)) {
    const current = ownValue(target, key);
    if (isObject(value) && isObject(current)) {
      for (const [nested, nestedValue] of Object.entries(value)) setOwn(current, nested, nestedValue);
    } else {
      setOwn(target, key, isObject(value) ? ownCopy(value) : value);
    }
    if (isObject(value)) {
      for (const nested of Object.keys(value)) {
        if (origin) origins.set(`${key}.${nested}`, origin);
        else origins.delete(`${key}.${nested}`);
      }
    }
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i;

/**
 * Reads `--config` sources in order (a path, or `ENV`), validates the result against the settings
 * schema and each provider's own rules, and registers every credential for redaction.
 * Problems are reported together in one line.
 */
export function loadConfig(sources: readonly string[], providers: readonly ProviderDefinition[], env: NodeJS.ProcessEnv = process.env, extra: JsonRecord = {}): LoadedConfig {
  const schema = settingsSchema(providers, extra);
  const config: JsonRecord = {};
  const origins = new Map<string, string>();
  for (const source of sources) {
    const document = source === 'ENV' ? configFromEnv(env, schema) : readJsonFile(source, 'config');
    if (!isObject(document)) throw new InputError(`config ${source} must be a JSON object`);
    mergeInto(config, document, origins, source === 'ENV' ? undefined : source);
  }
  for (const [name, block] of Object.entries(config)) {
    if (isObject(block)) for (const [key, value] of Object.entries(block)) if (isSecretSetting(key)) registerSecret(value);
    if (isSecretSetting(name)) registerSecret(block);
  }
  const problems: string[] = [];
  const schemaProblem = validator(schema)(config);
  if (schemaProblem) problems.push(schemaProblem);
  for (const provider of providers) {
    const block = config[provider.key];
    if (!isObject(block)) continue;
    // Cross-field rules only speak once the block's shape is right, so one mistake gives one message.
    if (!schemaProblem) problems.push(...(provider.validate?.(block as ProviderConfig) ?? []).map((p) => `${provider.key}: ${p}`));
    if (!schemaProblem && typeof block.lookback === 'string' && !isLookback(block.lookback)) {
      problems.push(`${provider.key}.lookback must be an ISO-8601 duration of zero or more, such as P1D or PT12H`);
    }
    for (const setting of ['base_url', 'token_url'] as const) {
      const text = block[setting];
      if (typeof text !== 'string') continue;
      const url = safeUrl(text);
      // The schema's `uri` format passes a port out of range (`:99999`), which the URL parser refuses.
      const problem = url ? endpointProblem(setting, url, text) : schemaProblem ? undefined : UNREQUESTABLE;
      if (problem) problems.push(`${provider.key}.${setting} ${problem}`);
    }
  }
  const start = parseInstant(config.start_date);
  const end = parseInstant(config.end_date);
  if (start && end && start > end) problems.push(`start_date ${String(config.start_date)} is after end_date ${String(config.end_date)}; swap them or remove end_date`);
  if (!schemaProblem && !providers.some((p) => isObject(config[p.key]))) {
    problems.push(`no provider is configured; add a block for one of ${providers.map((p) => p.key).join(', ')}`);
  }
  if (problems.length) throw new InputError(`config: ${problems.join('; ')}`);
  return { config: fillDefaults(config, providers, extra), origins };
}

/** luxon accepts a bare `P` and negative durations; a negative lookback would skip data past the bookmark. */
function isLookback(text: string): boolean {
  const duration = Duration.fromISO(text);
  return duration.isValid && /\d/.test(text) && duration.toMillis() >= 0;
}

const UNREQUESTABLE = 'is not a URL that can be requested; check the host name and that the port is from 1 to 65535';

/** What is wrong with an endpoint setting, found before the first request rather than by it. */
function endpointProblem(setting: 'base_url' | 'token_url', url: URL, text: string): string | undefined {
  if (url.port === '0') return UNREQUESTABLE;
  // Both endpoints receive credentials: the API root gets every request, the token URL the OAuth secrets.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    return 'must use https (plain http is allowed only for loopback hosts such as 127.0.0.1)';
  }
  // API paths are appended to the root, so a query or fragment there would end up in front of them.
  if (setting === 'base_url' && /[?#]/.test(text)) return 'must be the API root, without a query string or fragment';
  // RFC 6749 §3.2: the token endpoint URI "MUST NOT include a fragment component"; a query it may keep.
  if (setting === 'token_url' && text.includes('#')) return 'must not have a fragment (RFC 6749 section 3.2)';
  return undefined;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * A setting the provider changed (a rotated refresh token) that could not be saved, while the old
 * value no longer works: the one failure after which the next run cannot start either.
 */
export class UnsavedSetting extends SyncError {}

export interface ConfigPersister {
  /** Writes changed settings back into the config file each came from. */
  persistConfig(providerKey: string, patch: JsonRecord): Promise<void>;
  /**
   * Throws unless a change to these settings could be saved; asked before a single-use credential
   * is spent, so one that could not be replaced is never used up.
   */
  ensurePersistable(providerKey: string, keys: readonly string[]): void;
}

/**
 * Saves changed provider settings into the config file they came from, keeping everything else in
 * it, its mode and its owner, and writing through a symlink to its target. The file is replaced
 * atomically (a copy renamed over it) where its directory is writable, and overwritten in place
 * where only the file is. A setting from the environment cannot be written back.
 */
export function createConfigPersister(origins: Map<string, string>, logger: Logger): ConfigPersister {
  const fileOf = (providerKey: string, key: string) => origins.get(`${providerKey}.${key}`);
  return {
    ensurePersistable(providerKey, keys) {
      for (const key of keys) {
        const file = fileOf(providerKey, key);
        const plan = file ? planRewrite(file) : undefined;
        const problem = !file
          ? 'it comes from the environment, which tap-convo cannot write; put it in a config file'
          : plan!.methods.length === 0 && `${file} cannot be rewritten: ${plan!.obstacles.join(', ')}; make the file or its directory writable for this user`;
        if (problem) throw new SyncError(`${providerKey}.${key} may be rotated by the provider, but ${problem}. It was not used, so it still works once that is done`, 'config_error');
      }
    },
    async persistConfig(providerKey, patch) {
      for (const [key, value] of Object.entries(patch)) {
        if (isSecretSetting(key)) registerSecret(value);
        const file = fileOf(providerKey, key);
        const saved = file ? saveSetting(file, providerKey, key, value) : { problem: 'it came from the environment, which tap-convo cannot write' };
        if ('problem' in saved) {
          // The new value is not printed: it is a credential. Recovering means getting another one.
          throw new UnsavedSetting(
            `${providerKey}.${key} was rotated by the provider, but the new value could not be saved: ${saved.problem}. The old value no longer works: ` +
              `authorise tap-convo with the provider again to get a new ${key}, put it in ${file ?? 'a config file'} as ${providerKey}.${key}, make sure tap-convo can write that file, and run again`,
            'config_error',
          );
        }
        const through = saved.path === file ? '' : ` (through the link to ${saved.path})`;
        const how = saved.method === 'in place' ? ', in place because its directory is not writable' : '';
        logger.info(`${providerKey}.${key} was rotated by the provider; saved the new value to ${file}${through}${how}`);
      }
    },
  };
}

/** Sets one setting in a config file, by the best way the file can be rewritten. */
function saveSetting(file: string, providerKey: string, key: string, value: unknown): { path: string; method: RewriteMethod } | { problem: string } {
  const plan = planRewrite(file);
  let document: JsonRecord;
  try {
    document = readJsonFile(plan.path, 'config') as JsonRecord;
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const block = isObject(ownValue(document, providerKey)) ? (document[providerKey] as JsonRecord) : {};
  setOwn(block, key, value);
  setOwn(document, providerKey, block);
  try {
    return { path: plan.path, method: rewriteFile(plan, JSON.stringify(document, null, 2) + '\n') };
  } catch (error) {
    return { problem: `${plan.path}: ${(error as Error).message}` };
  }
}
