import { settingsSchema, isSecretSetting } from '../core/config.js';
import type { ProviderDefinition } from '../core/definitions.js';
import type { JsonRecord } from './messages.js';
import { PACKAGE } from '../util/package.js';

/** Meltano's capability names for what tap-convo supports (meltano/sdk singer_sdk/helpers/capabilities.py). */
export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'test', 'activate-version', 'structured-logging'] as const;

export interface About {
  name: string;
  description: string;
  version: string;
  capabilities: readonly string[];
  settings: JsonRecord;
}

export function about(providers: readonly ProviderDefinition[]): About {
  return { name: PACKAGE.name, description: PACKAGE.description, version: PACKAGE.version, capabilities: CAPABILITIES, settings: settingsSchema(providers) };
}

interface SettingRow {
  name: string;
  type: string;
  secret: boolean;
  description: string;
  env: string;
}

/** One row per setting, nested ones as `gong.access_key`, each with its environment variable. */
export function settingRows(settings: JsonRecord): SettingRow[] {
  const rows: SettingRow[] = [];
  const walk = (properties: Record<string, JsonRecord>, prefix: string[]) => {
    for (const [name, schema] of Object.entries(properties)) {
      const path = [...prefix, name];
      if (schema.properties) {
        walk(schema.properties as Record<string, JsonRecord>, path);
        continue;
      }
      const type = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null').join('|') : String(schema.type);
      rows.push({
        name: path.join('.'),
        type,
        secret: isSecretSetting(name),
        description: String(schema.description ?? schema.title ?? ''),
        env: `TAP_CONVO_${path.join('__').toUpperCase()}`,
      });
    }
  };
  walk(settings.properties as Record<string, JsonRecord>, []);
  return rows;
}

export function formatAbout(info: About, format: 'text' | 'json' | 'markdown'): string {
  if (format === 'json') return JSON.stringify(info, null, 2);
  const rows = settingRows(info.settings);
  if (format === 'markdown') {
    return [
      `# ${info.name}`,
      '',
      info.description,
      '',
      `Version ${info.version}. Capabilities: ${info.capabilities.join(', ')}.`,
      '',
      '| Setting | Type | Secret | Environment variable | Description |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| \`${r.name}\` | ${r.type} | ${r.secret ? 'yes' : ''} | \`${r.env}\` | ${r.description} |`),
    ].join('\n');
  }
  return [
    `Name: ${info.name}`,
    `Version: ${info.version}`,
    `Description: ${info.description}`,
    `Capabilities: ${info.capabilities.join(', ')}`,
    'Settings:',
    ...rows.map((r) => `  ${r.name} (${r.type}${r.secret ? ', secret' : ''}) env ${r.env}: ${r.description}`),
  ].join('\n');
}
