import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSecretSetting, loadConfig } from '../../src/core/config.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { TARGET_SETTINGS } from '../../src/targets/convo/target.js';
import { resolveTargetConfig, TARGET_CONFIG_SCHEMA } from '../../src/targets/duckdb/config.js';
import { ROOT, runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { TEST_NOW } from '../helpers/sync.js';

/**
 * The Meltano plugin definitions (MeltanoHub format, meltano/) and the example project
 * (meltano.yml) must say what the executables do: the tap's `--about --format json`, the target's
 * config schema, the package's executables.
 */
type Setting = { name: string; label?: string; description?: string; kind?: string; sensitive?: boolean; value?: unknown; [key: string]: unknown };
type Plugin = { name: string; namespace: string; executable: string; capabilities: string[]; settings: Setting[]; settings_group_validation: string[][]; [key: string]: unknown };

const readYaml = <T>(path: string) => parse(readFileSync(join(ROOT, path), 'utf8')) as T;
const extractor = readYaml<Plugin>('meltano/extractors/tap-convo.yml');
const loader = readYaml<Plugin>('meltano/loaders/target-convo-duckdb.yml');
const writer = readYaml<Plugin>('meltano/loaders/target-convo.yml');
const project = readYaml<{ version: number; plugins: { extractors: Array<Plugin & { config?: JsonRecord; select?: string[] }>; loaders: Array<Plugin & { config?: JsonRecord }> } }>('meltano.yml');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };

/**
 * What MeltanoHub's schemas allow (meltano/hub schemas/plugin_definitions/{extractors,loaders}.schema.json,
 * common/base_setting.schema.json, common/{extractors,loaders}_specific.schema.json).
 */
const HUB = {
  required: ['name', 'namespace', 'variant', 'label'],
  pluginKeys: ['name', 'pip_url', 'variant', 'namespace', 'label', 'description', 'executable', 'settings', 'docs', 'repo', 'logo_url', 'hidden', 'settings_group_validation', 'commands', 'capabilities', 'requires', 'maintenance_status', 'domain_url', 'keywords', 'definition', 'next_steps', 'settings_preamble', 'usage', 'prereq'],
  extractorKeys: ['metadata', 'schema', 'select'],
  loaderKeys: ['dialect', 'target_schema'],
  settingKeys: ['name', 'aliases', 'label', 'value', 'placeholder', 'kind', 'description', 'tooltip', 'documentation', 'env', 'value_processor', 'value_post_processor', 'oauth', 'options', 'docs', 'hidden', 'sensitive'],
  kinds: ['oauth', 'hidden', 'password', 'date_iso8601', 'file', 'email', 'integer', 'options', 'object', 'array', 'boolean', 'string', 'decimal'],
  extractorCapabilities: ['properties', 'catalog', 'discover', 'state', 'about', 'stream-maps', 'schema-flattening', 'activate-version', 'batch', 'test', 'log-based', 'structured-logging'],
  loaderCapabilities: ['about', 'stream-maps', 'activate-version', 'batch', 'soft-delete', 'hard-delete', 'datatype-failsafe', 'record-flattening'],
  maintenanceStatus: ['active', 'beta', 'development', 'inactive', 'unknown'],
};

/** The Meltano kind for a JSON Schema type (base_setting.schema.json's enum). */
function kindOf(schema: JsonRecord): string {
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string);
  if (type === 'string' && schema.format === 'date-time') return 'date_iso8601';
  return type === 'number' ? 'decimal' : type!;
}

/**
 * The Meltano settings a JSON Schema implies: dotted names for nested settings, secrets sensitive.
 * A nested (provider) setting carries no default: Meltano passes every default, and a provider block
 * present is a provider synced (README.md#configuration).
 */
function expectedSettings(schema: JsonRecord, prefix: string[] = []): Setting[] {
  return Object.entries(schema.properties as Record<string, JsonRecord>).flatMap(([name, property]) => {
    const path = [...prefix, name];
    if (property.properties) return expectedSettings(property, path);
    return [
      {
        name: path.join('.'),
        label: property.title as string,
        description: property.description as string,
        kind: kindOf(property),
        ...(isSecretSetting(name) ? { sensitive: true } : {}),
        ...(property.default !== undefined && prefix.length === 0 ? { value: property.default } : {}),
      },
    ];
  });
}

/** A config holding one value per named setting, dotted names nested. */
function configWith(names: readonly string[]): JsonRecord {
  const config: JsonRecord = {};
  for (const name of names) {
    const [block, setting] = name.split('.') as [string, string];
    ((config[block] ??= {}) as JsonRecord)[setting] = `value-of-${setting}`;
  }
  return config;
}

function hubProblems(plugin: Plugin, typeKeys: string[], capabilities: string[]): string[] {
  const problems: string[] = [];
  for (const key of HUB.required) if (typeof plugin[key] !== 'string') problems.push(`missing ${key}`);
  for (const key of Object.keys(plugin)) if (![...HUB.pluginKeys, ...typeKeys].includes(key)) problems.push(`unknown key ${key}`);
  for (const capability of plugin.capabilities) if (!capabilities.includes(capability)) problems.push(`unknown capability ${capability}`);
  if (plugin.maintenance_status !== undefined && !HUB.maintenanceStatus.includes(plugin.maintenance_status as string)) problems.push('bad maintenance_status');
  for (const setting of plugin.settings) {
    for (const key of Object.keys(setting)) if (!HUB.settingKeys.includes(key)) problems.push(`${setting.name}: unknown key ${key}`);
    if (setting.kind !== undefined && !HUB.kinds.includes(setting.kind)) problems.push(`${setting.name}: unknown kind ${setting.kind}`);
  }
  const names = new Set(plugin.settings.map((s) => s.name));
  for (const group of plugin.settings_group_validation) for (const name of group) if (!names.has(name)) problems.push(`group names unknown setting ${name}`);
  return problems;
}

describe('extractor definition (meltano/extractors/tap-convo.yml)', () => {
  // The document is printed indented over many lines, so it is read whole.
  const about = spawnSync(process.execPath, [join(ROOT, pkg.bin['tap-convo']!), '--about', '--format', 'json'], { encoding: 'utf8' });
  const info = JSON.parse(about.stdout) as { name: string; capabilities: string[]; settings: JsonRecord };

  it('is a valid MeltanoHub definition', () => {
    expect(hubProblems(extractor, HUB.extractorKeys, HUB.extractorCapabilities)).toEqual([]);
  });

  it('names the executable the package installs, and the capabilities --about declares', () => {
    expect(extractor.name).toBe(info.name);
    expect(Object.keys(pkg.bin)).toContain(extractor.executable);
    expect(extractor.pip_url).toBeUndefined();
    expect([...extractor.capabilities].sort()).toEqual([...info.capabilities].sort());
  });

  it('lists every setting of --about with its label, description and kind, secrets sensitive', () => {
    expect(extractor.settings).toEqual(expectedSettings(info.settings));
    expect(extractor.settings.filter((s) => s.sensitive).length).toBeGreaterThan(0);
  });

  it('has credential groups that each configure a provider alone, and only whole', () => {
    for (const provider of PROVIDERS) expect(extractor.settings_group_validation.some((group) => group[0]!.startsWith(`${provider.key}.`)), provider.key).toBe(true);
    const dir = tempDir();
    const accepts = (names: readonly string[]) => {
      try {
        loadConfig([writeJson(dir, 'config.json', configWith(names))], PROVIDERS);
        return true;
      } catch {
        return false;
      }
    };
    for (const group of extractor.settings_group_validation) {
      expect(accepts(group), group.join(' + ')).toBe(true);
      for (const left of group) if (group.length > 1) expect(accepts(group.filter((name) => name !== left)), `${group.join(' + ')} without ${left}`).toBe(false);
    }
  });
});

describe('loader definition (meltano/loaders/target-convo-duckdb.yml)', () => {
  it('is a valid MeltanoHub definition naming the package executable', () => {
    expect(hubProblems(loader, HUB.loaderKeys, HUB.loaderCapabilities)).toEqual([]);
    expect(Object.keys(pkg.bin)).toContain(loader.executable);
    expect(loader.target_schema).toBe('$TARGET_CONVO_DUCKDB_SCHEMA');
  });

  it('lists the target config schema, defaults included, with the required settings as its group', () => {
    expect(loader.settings).toEqual(expectedSettings(TARGET_CONFIG_SCHEMA as unknown as JsonRecord).map((s) => ({ ...s, ...valueOf(s.name) })));
    expect(loader.settings_group_validation).toEqual([[...TARGET_CONFIG_SCHEMA.required]]);
    expect(resolveTargetConfig(configWithValues(loader.settings_group_validation[0]!))).toMatchObject({ database: 'value-of-database' });
  });
});

describe('loader definition (meltano/loaders/target-convo.yml)', () => {
  it('is a valid MeltanoHub definition naming the package executable', () => {
    expect(hubProblems(writer, HUB.loaderKeys, HUB.loaderCapabilities)).toEqual([]);
    expect(Object.keys(pkg.bin)).toContain(writer.executable);
  });

  it("lists its own settings with their defaults, and each provider setting exactly as the tap's definition does", () => {
    const own = writer.settings.filter((s) => !s.name.includes('.'));
    expect(own).toEqual(expectedSettings({ properties: TARGET_SETTINGS } as unknown as JsonRecord));
    const tapSettings = new Map(extractor.settings.map((s) => [s.name, s]));
    const shared = writer.settings.filter((s) => s.name.includes('.'));
    for (const setting of shared) expect(setting, setting.name).toEqual(tapSettings.get(setting.name));
    // Every provider it writes to can be configured, credentials and quota included.
    for (const name of ['gong.access_key', 'gong.daily_request_quota', 'clari_copilot.api_key', 'clari_copilot.weekly_request_quota', 'fourfour.import_token']) expect(shared.map((s) => s.name)).toContain(name);
  });
});

/** The target's defaults belong in its definition: a loader has no blocks a default could switch on. */
function valueOf(name: string): Partial<Setting> {
  const property = (TARGET_CONFIG_SCHEMA.properties as Record<string, { default?: unknown }>)[name]!;
  return property.default === undefined ? {} : { value: property.default };
}

function configWithValues(names: readonly string[]): JsonRecord {
  return Object.fromEntries(names.map((name) => [name, `value-of-${name}`]));
}

describe('example project (meltano.yml)', () => {
  const [tap] = project.plugins.extractors;
  const [target] = project.plugins.loaders;
  const definitionOf = (plugin: Plugin) => ({
    namespace: plugin.namespace,
    executable: plugin.executable,
    capabilities: plugin.capabilities,
    settings: plugin.settings,
    settings_group_validation: plugin.settings_group_validation,
  });

  it('declares both plugins exactly as their definitions do', () => {
    expect(project.version).toBe(1);
    expect(tap!.name).toBe(extractor.name);
    expect(definitionOf(tap!)).toEqual(definitionOf(extractor));
    expect(target!.name).toBe(loader.name);
    expect(definitionOf(target!)).toEqual(definitionOf(loader));
  });

  it('configures only settings that exist and selects only streams that exist', () => {
    const flatten = (config: JsonRecord, prefix = ''): string[] =>
      Object.entries(config).flatMap(([key, value]) => (value && typeof value === 'object' && !Array.isArray(value) ? flatten(value as JsonRecord, `${prefix}${key}.`) : [`${prefix}${key}`]));
    const tapSettings = new Set(extractor.settings.map((s) => s.name));
    for (const name of flatten(tap!.config ?? {})) expect(tapSettings.has(name), name).toBe(true);
    const targetSettings = new Set(loader.settings.map((s) => s.name));
    for (const name of flatten(target!.config ?? {})) expect(targetSettings.has(name), name).toBe(true);
    const streams = new Set(PROVIDERS.flatMap((p) => p.streams.map((s) => s.name)));
    for (const pattern of tap!.select ?? []) expect(streams.has(pattern.split('.')[0]!), pattern).toBe(true);
  });
});

describe('--test, as Meltano users run it', () => {
  let sandbox: RunningSandbox;

  beforeAll(async () => {
    sandbox = await startAllSandboxes({ seed: 11, now: () => TEST_NOW, unlimited: true });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('syncs one record per stream, each after its SCHEMA, and ends with a STATE', async () => {
    const config = sandbox.tapConfig({ start_date: '2026-05-01T00:00:00Z', end_date: TEST_NOW.toISO() });
    for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 500 });
    const run = await runBinary('tap-convo', ['--config', writeJson(tempDir(), 'config.json', config), '--test']);
    expect(run.code, run.stderr).toBe(0);
    const counts = new Map<string, number>();
    const announced = new Set<string>();
    for (const message of run.lines) {
      if (message.type === 'SCHEMA') announced.add(String(message.stream));
      if (message.type !== 'RECORD') continue;
      expect(announced.has(String(message.stream))).toBe(true);
      counts.set(String(message.stream), (counts.get(String(message.stream)) ?? 0) + 1);
    }
    expect(Math.max(...counts.values())).toBe(1);
    for (const provider of PROVIDERS.filter((p) => config[p.key] !== undefined)) {
      expect(provider.streams.some((s) => counts.get(s.name) === 1), provider.key).toBe(true);
    }
    expect(run.lines.at(-1)!.type).toBe('STATE');
  });
});
