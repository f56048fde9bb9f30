import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonRecord, JsonSchema } from '../protocol/messages.js';
import { InputError } from '../util/errors.js';
import { validator } from '../util/schema.js';
import type { Logger } from '../util/log.js';
import type { ProviderConfig, ProviderDefinition, StreamDefinition } from './definitions.js';
import { UnsavedSetting } from './config.js';
import { createProviderClient, type ProviderClientOptions } from './provider-client.js';

export const CATALOG_DIR = fileURLToPath(new URL('../../catalogs/', import.meta.url));

export interface MetadataEntry {
  breadcrumb: string[];
  metadata: Record<string, unknown>;
}

export interface CatalogEntry {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  replication_key?: string;
  replication_method?: 'INCREMENTAL' | 'FULL_TABLE';
  metadata: MetadataEntry[];
}

export interface Catalog {
  streams: CatalogEntry[];
}

/** The schema file of a stream: `catalogs/<provider>/<object>.json`. */
export function schemaPath(provider: ProviderDefinition, stream: StreamDefinition): string {
  return `${CATALOG_DIR}${provider.key}/${stream.name.slice(provider.key.length + 1)}.json`;
}

const schemaCache = new Map<string, JsonSchema>();

export function loadSchema(provider: ProviderDefinition, stream: StreamDefinition): JsonSchema {
  const path = schemaPath(provider, stream);
  let schema = schemaCache.get(path);
  if (!schema) {
    schema = JSON.parse(readFileSync(path, 'utf8')) as JsonSchema;
    schemaCache.set(path, schema);
  }
  return schema;
}

/**
 * JSON Schema Draft 4 keywords, the draft Singer targets are written against: a target that checks
 * the draft refuses a schema naming another one ("Schema version must be Draft 4. Found: $schema"),
 * so `$schema`, `$id`, `$comment`, `x-…` and later drafts' keywords (`contentEncoding`, `examples`…)
 * are left out of what the tap publishes. https://datatracker.ietf.org/doc/html/draft-fge-json-schema-validation-00
 */
const DRAFT_4_KEYWORDS = new Set([
  'type', 'properties', 'items', 'required', 'additionalProperties', 'patternProperties', 'format', 'description', 'title',
  'enum', 'default', 'anyOf', 'allOf', 'oneOf', 'not', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'multipleOf', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
]);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
const SCHEMA_LISTS = new Set(['anyOf', 'allOf', 'oneOf']);

/** A schema as the tap publishes it (SCHEMA messages, Singer and Airbyte catalogs): Draft 4 keywords only, at every depth. */
export function publishedSchema(schema: JsonSchema): JsonSchema {
  if (!isSchema(schema)) return schema;
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (!DRAFT_4_KEYWORDS.has(keyword)) continue;
    if (SCHEMA_MAPS.has(keyword)) {
      out[keyword] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([name, sub]) => [name, publishedSchema(sub)]));
    } else if (SCHEMA_LISTS.has(keyword)) {
      out[keyword] = (value as JsonSchema[]).map(publishedSchema);
    } else if ((keyword === 'items' || keyword === 'additionalProperties' || keyword === 'not') && isSchema(value)) {
      out[keyword] = publishedSchema(value);
    } else if (keyword === 'items' && Array.isArray(value)) {
      out[keyword] = (value as JsonSchema[]).map(publishedSchema);
    } else {
      out[keyword] = value;
    }
  }
  return out;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Singer catalog entry for one stream, with the standard discoverable metadata. */
export function catalogEntry(stream: StreamDefinition, fileSchema: JsonSchema): CatalogEntry {
  const schema = publishedSchema(fileSchema);
  const automatic = new Set([...stream.primaryKey, ...(stream.replicationKey ? [stream.replicationKey] : [])]);
  const properties = Object.keys((schema.properties ?? {}) as object);
  return {
    tap_stream_id: stream.name,
    stream: stream.name,
    schema,
    key_properties: [...stream.primaryKey],
    ...(stream.replicationKey
      ? { replication_key: stream.replicationKey, replication_method: 'INCREMENTAL' as const }
      : { replication_method: 'FULL_TABLE' as const }),
    metadata: [
      {
        breadcrumb: [],
        metadata: {
          inclusion: 'available',
          'selected-by-default': stream.selectedByDefault ?? true,
          'table-key-properties': [...stream.primaryKey],
          'forced-replication-method': stream.replicationKey ? 'INCREMENTAL' : 'FULL_TABLE',
          ...(stream.replicationKey ? { 'valid-replication-keys': [stream.replicationKey] } : {}),
          ...(stream.parent ? { 'parent-tap-stream-id': stream.parent.stream } : {}),
        },
      },
      ...properties.map((name) => ({
        breadcrumb: ['properties', name],
        metadata: { inclusion: automatic.has(name) ? 'automatic' : 'available', 'selected-by-default': true },
      })),
    ],
  };
}

/** What a run does with one stream, decided from the catalog (or the defaults without one). */
export interface StreamPlan {
  provider: ProviderDefinition;
  stream: StreamDefinition;
  /** The schema with deselected fields removed. */
  schema: JsonSchema;
  /** Every field of the full schema, so deselected ones are not reported as unknown. */
  knownFields: ReadonlySet<string>;
  incremental: boolean;
}

export function streamMetadata(entry: CatalogEntry | undefined, breadcrumb: string[]): Record<string, unknown> {
  const key = JSON.stringify(breadcrumb);
  return entry?.metadata?.find((m) => JSON.stringify(m.breadcrumb) === key)?.metadata ?? {};
}

const catalogShape = {
  type: 'object',
  required: ['streams'],
  properties: {
    streams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['tap_stream_id'],
        properties: {
          tap_stream_id: { type: 'string' },
          schema: { type: 'object' },
          metadata: {
            type: 'array',
            items: {
              type: 'object',
              required: ['breadcrumb', 'metadata'],
              properties: {
                breadcrumb: { type: 'array', items: { type: 'string' } },
                // The entries that decide what is synced: a wrong type must not quietly select or deselect.
                metadata: {
                  type: 'object',
                  properties: {
                    selected: { type: 'boolean' },
                    'selected-by-default': { type: 'boolean' },
                    'replication-method': { enum: ['INCREMENTAL', 'FULL_TABLE'] },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
const validateCatalog = validator(catalogShape);

/** Checks a user catalog's shape; unknown streams are named so a stale catalog is easy to fix. */
export function parseCatalog(document: unknown, known: ReadonlySet<string>, source: string): Catalog {
  const problem = validateCatalog(document);
  if (problem) throw new InputError(`catalog ${source}: ${problem}; run --discover to produce a valid catalog`);
  const catalog = document as Catalog;
  for (const entry of catalog.streams) {
    if (!known.has(entry.tap_stream_id) && streamMetadata(entry, []).selected === true) {
      throw new InputError(`catalog ${source} selects unknown stream ${entry.tap_stream_id}; run --discover for the current list`);
    }
  }
  return catalog;
}

/**
 * The streams to sync, in declaration order. Without a catalog every selected-by-default stream
 * runs; with one, `selected` decides (falling back to `selected-by-default`), fields marked
 * `selected: false` are left out unless automatic, and `replication-method` may force FULL_TABLE.
 */
export function planStreams(providers: readonly ProviderDefinition[], catalog: Catalog | undefined): StreamPlan[] {
  const byId = new Map(catalog?.streams.map((entry) => [entry.tap_stream_id, entry]));
  const plans: StreamPlan[] = [];
  for (const provider of providers) {
    for (const stream of provider.streams) {
      const entry = byId.get(stream.name);
      const top = streamMetadata(entry, []);
      const selected = catalog ? (entry ? ((top.selected ?? stream.selectedByDefault ?? true) as boolean) : false) : (stream.selectedByDefault ?? true);
      if (!selected) continue;
      // The catalog's schema is what the user discovered and reviewed; the static file is the default.
      const full = (entry?.schema as JsonSchema | undefined) ?? loadSchema(provider, stream);
      const properties = { ...((full.properties ?? {}) as Record<string, JsonSchema>) };
      const automatic = new Set([...stream.primaryKey, stream.replicationKey]);
      for (const name of Object.keys(properties)) {
        if (!automatic.has(name) && streamMetadata(entry, ['properties', name]).selected === false) delete properties[name];
      }
      // Keys and the replication key keep the built-in schema, whatever the catalog says: the tap
      // writes them the same way always (the state and a target's merge depend on them), so a catalog
      // that dropped or retyped one would make the records break the SCHEMA sent before them.
      const builtIn = (loadSchema(provider, stream).properties ?? {}) as Record<string, JsonSchema>;
      for (const name of automatic) if (name && builtIn[name]) properties[name] = builtIn[name];
      const method = top['replication-method'] ?? entry?.replication_method;
      plans.push({
        provider,
        stream,
        // A catalog written by an earlier release may still carry keywords targets refuse.
        schema: publishedSchema({ ...full, properties }),
        knownFields: new Set(Object.keys((full.properties ?? {}) as object)),
        incremental: Boolean(stream.replicationKey) && method !== 'FULL_TABLE',
      });
    }
  }
  return plans;
}

/** Live properties win over static ones; the static file still says what is required. */
function mergeSchemas(base: JsonSchema, live: JsonSchema | undefined): JsonSchema {
  if (!live) return base;
  return { ...base, properties: { ...(base.properties as object), ...(live.properties as object) } };
}

/**
 * The Singer catalog of the configured providers. A provider that can describe itself live
 * (Four/Four's `$metadata`) has those schemas merged over the static files; if that fails, the
 * static files serve alone and a warning says so.
 */
export async function discover(
  providers: readonly ProviderDefinition[],
  config: JsonRecord,
  logger: Logger,
  persistence: Pick<ProviderClientOptions, 'persistConfig' | 'ensurePersistable'> = {},
): Promise<Catalog> {
  const streams: CatalogEntry[] = [];
  for (const provider of providers) {
    let live: Record<string, JsonSchema> = {};
    if (provider.discoverSchemas) {
      const providerConfig = config[provider.key] as ProviderConfig;
      const client = createProviderClient(provider, providerConfig, { logger, ...persistence, retry: { attempts: 2 } });
      try {
        live = await provider.discoverSchemas(providerConfig, (request) => client.send(request), logger);
      } catch (error) {
        // The built-in schemas can stand in for the live ones, but nothing stands in for a lost credential.
        if (error instanceof UnsavedSetting) throw error;
        logger.warn(`${provider.title}: live schema discovery failed (${(error as Error).message}); using the built-in schemas`);
      } finally {
        await client.close();
      }
    }
    for (const stream of provider.streams) streams.push(catalogEntry(stream, mergeSchemas(loadSchema(provider, stream), live[stream.name])));
  }
  return { streams };
}

export type { JsonRecord };
