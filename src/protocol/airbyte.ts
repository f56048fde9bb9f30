import { DateTime } from 'luxon';
import { loadSchema, type Catalog, type CatalogEntry, type MetadataEntry } from '../core/catalog.js';
import { isSecretSetting } from '../core/config.js';
import type { ProviderDefinition, StreamDefinition } from '../core/definitions.js';
import type { SyncEvent } from '../core/events.js';
import type { Bookmark, SingerState } from '../core/state.js';
import { InputError, UserFacingError } from '../util/errors.js';
import { redact, type LogLevel } from '../util/log.js';
import { validator } from '../util/schema.js';
import type { JsonRecord, JsonSchema } from './messages.js';

/**
 * Airbyte protocol messages (airbyte_protocol.yaml, protocol release 0.18.0, v0 models). Each message
 * carries the payload its `type` names; the engine's neutral events are encoded here.
 */
export type AirbyteMessage =
  | { type: 'RECORD'; record: { stream: string; data: JsonRecord; emitted_at: number } }
  | { type: 'STATE'; state: AirbyteStateMessage }
  | { type: 'LOG'; log: { level: AirbyteLogLevel; message: string } }
  | { type: 'SPEC'; spec: JsonRecord }
  | { type: 'CONNECTION_STATUS'; connectionStatus: { status: 'SUCCEEDED' | 'FAILED'; message: string } }
  | { type: 'CATALOG'; catalog: { streams: AirbyteStream[] } }
  | { type: 'TRACE'; trace: AirbyteTrace }
  | { type: 'CONTROL'; control: { type: 'CONNECTOR_CONFIG'; emitted_at: number; connectorConfig: { config: JsonRecord } } };

type AirbyteLogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
type StreamStatus = Extract<SyncEvent, { type: 'stream-status' }>['status'];
type FailureType = UserFacingError['failureType'];

type AirbyteStreamState = Bookmark | Record<string, never>;

interface AirbyteStateMessage {
  type: 'STREAM';
  stream: { stream_descriptor: { name: string }; stream_state: AirbyteStreamState };
  sourceStats: { recordCount: number };
}

type AirbyteTrace =
  | { type: 'STREAM_STATUS'; emitted_at: number; stream_status: { stream_descriptor: { name: string }; status: StreamStatus } }
  | {
      type: 'ERROR';
      emitted_at: number;
      error: { message: string; internal_message: string; failure_type: FailureType; stack_trace?: string; stream_descriptor?: { name: string } };
    };

export interface AirbyteStream {
  name: string;
  json_schema: JsonSchema;
  supported_sync_modes: Array<'full_refresh' | 'incremental'>;
  source_defined_cursor: boolean;
  default_cursor_field: string[];
  source_defined_primary_key: string[][];
  is_resumable: boolean;
}

/**
 * The protocol version we declare. The platform reads an absent one as 0.2.0 and supports v0 up to
 * 0.3.x (airbyte-commons AirbyteProtocolVersion); the YAML's own `version: 0.3.2` is the models'.
 */
export const AIRBYTE_PROTOCOL_VERSION = '0.2.0';

/** Where users read about the connector: the package page, which shows the README. */
export const DOCUMENTATION_URL = 'https://www.npmjs.com/package/tap-convo';

/** A clock for `emitted_at`: epoch milliseconds, injectable so tests are deterministic. */
export type MillisClock = () => number;
const systemClock: MillisClock = () => DateTime.utc().toMillis();

/**
 * The Airbyte connection specification, generated from the settings schema `--about` publishes:
 * titles, descriptions, defaults and examples kept; `order` fixes the form's field order to the
 * declaration order; every credential is `airbyte_secret`. An optional block (a provider the user may
 * not use) keeps no required settings of its own, because Airbyte's form fills in defaults and would
 * otherwise demand credentials for it; tap-convo checks a block's credentials itself once it holds
 * any. `additionalProperties` is left open: the protocol allows unknown properties everywhere
 * (https://docs.airbyte.com/understanding-airbyte/airbyte-protocol), and a config saved by a newer release must still load in the form.
 */
export function connectionSpecification(settings: JsonRecord): JsonRecord {
  return airbyteSchema(settings, true);
}

/** `mandatory`: the parent requires this schema's value, so its own required settings stand. */
function airbyteSchema(schema: JsonRecord, mandatory: boolean): JsonRecord {
  const dropped = ['properties', 'additionalProperties', ...(mandatory ? [] : ['required', 'dependencies'])];
  const out = withoutKeys(schema, dropped);
  const properties = schema.properties;
  if (!properties) return out;
  const requiredNames = new Set(mandatory ? ((schema.required as string[] | undefined) ?? []) : []);
  out.properties = Object.fromEntries(
    Object.entries(properties as Record<string, JsonRecord>).map(([name, property], order) => [
      name,
      { ...airbyteSchema(property, requiredNames.has(name)), order, ...(isSecretSetting(name) ? { airbyte_secret: true } : {}) },
    ]),
  );
  return out;
}

function withoutKeys(record: JsonRecord, keys: readonly string[]): JsonRecord {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

export function specMessage(settings: JsonRecord): AirbyteMessage {
  return {
    type: 'SPEC',
    spec: {
      documentationUrl: DOCUMENTATION_URL,
      connectionSpecification: connectionSpecification(settings),
      supportsIncremental: true,
      protocol_version: AIRBYTE_PROTOCOL_VERSION,
    },
  };
}

/** An Airbyte stream from the Singer catalog entry discovery produced and the stream's declaration. */
export function airbyteStream(entry: CatalogEntry, stream: StreamDefinition): AirbyteStream {
  const cursor = stream.replicationKey;
  return {
    name: entry.stream,
    json_schema: entry.schema,
    supported_sync_modes: cursor ? ['full_refresh', 'incremental'] : ['full_refresh'],
    source_defined_cursor: Boolean(cursor),
    default_cursor_field: cursor ? [cursor] : [],
    source_defined_primary_key: stream.primaryKey.map((key) => [key]),
    // airbyte_protocol.yaml: "Should be set to true if the stream supports incremental".
    is_resumable: Boolean(cursor),
  };
}

export function catalogMessage(catalog: Catalog, providers: readonly ProviderDefinition[]): AirbyteMessage {
  const streams = new Map(providers.flatMap((p) => p.streams.map((s) => [s.name, s] as const)));
  return { type: 'CATALOG', catalog: { streams: catalog.streams.map((entry) => airbyteStream(entry, streams.get(entry.stream)!)) } };
}

export function connectionStatusMessage(status: 'SUCCEEDED' | 'FAILED', message: string): AirbyteMessage {
  return { type: 'CONNECTION_STATUS', connectionStatus: { status, message: redact(message) } };
}

/**
 * CONTROL CONNECTOR_CONFIG after the engine changed a setting (a rotated refresh token): the platform
 * stores this config in place of the one it passed, so it is that whole config with the engine's
 * blocks laid over it (blocks the engine never loaded stay as the platform sent them).
 */
export function controlMessage(platformConfig: JsonRecord, engineConfig: JsonRecord, now: MillisClock = systemClock): AirbyteMessage {
  return { type: 'CONTROL', control: { type: 'CONNECTOR_CONFIG', emitted_at: now(), connectorConfig: { config: { ...platformConfig, ...engineConfig } } } };
}

const LOG_LEVELS: Record<LogLevel, AirbyteLogLevel> = { debug: 'DEBUG', info: 'INFO', warning: 'WARN', error: 'ERROR', critical: 'FATAL' };

/** A logger line (`LEVEL text`, already redacted) as a LOG message; the level moves to its own field. */
export function logMessage(level: LogLevel, line: string): AirbyteMessage {
  const prefix = `${level.toUpperCase()} `;
  return { type: 'LOG', log: { level: LOG_LEVELS[level], message: line.startsWith(prefix) ? line.slice(prefix.length) : line } };
}

export function streamStatusTrace(stream: string, status: StreamStatus, now: MillisClock = systemClock): AirbyteMessage {
  return { type: 'TRACE', trace: { type: 'STREAM_STATUS', emitted_at: now(), stream_status: { stream_descriptor: { name: stream }, status } } };
}

/**
 * A TRACE ERROR for a failure. An error a user can act on keeps its own failure type and needs no
 * stack trace; anything else is a bug in tap-convo (system_error) and carries its stack, redacted.
 */
export function errorTrace(error: unknown, stream?: string, now: MillisClock = systemClock): AirbyteMessage {
  const failure = error instanceof Error ? error : new Error(String(error));
  const userFacing = failure instanceof UserFacingError;
  return {
    type: 'TRACE',
    trace: {
      type: 'ERROR',
      emitted_at: now(),
      error: {
        message: redact(failure.message.split('\n')[0]!),
        internal_message: redact(`${failure.name}: ${failure.message}`),
        failure_type: userFacing ? failure.failureType : 'system_error',
        ...(!userFacing && failure.stack ? { stack_trace: redact(failure.stack) } : {}),
        ...(stream ? { stream_descriptor: { name: stream } } : {}),
      },
    },
  };
}

/** What `read` needs of a ConfiguredAirbyteCatalog (airbyte_protocol.yaml ConfiguredAirbyteStream). */
const configuredCatalogShape = {
  type: 'object',
  required: ['streams'],
  properties: {
    streams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['stream', 'sync_mode'],
        properties: {
          stream: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, json_schema: { type: 'object' } } },
          sync_mode: { enum: ['full_refresh', 'incremental'] },
          cursor_field: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};
const checkConfiguredCatalog = validator(configuredCatalogShape);

interface ConfiguredStream {
  stream: { name: string; json_schema?: JsonSchema };
  sync_mode: 'full_refresh' | 'incremental';
  cursor_field?: string[];
}

export interface TranslatedCatalog {
  /** The engine's catalog: the configured streams selected, with their fields and replication method. */
  catalog: Catalog;
  /** Every configured stream name, in the configured order. */
  configured: string[];
}

/**
 * Turns Airbyte's configured catalog into the engine's catalog. A stream is selected by being there;
 * `full_refresh` reads it as FULL_TABLE; fields left out of its `json_schema` (Airbyte's column
 * selection) are deselected. Streams tap-convo does not know are left for the caller to report:
 * in the Airbyte protocol (docs/sources.md#airbyte) a schema mismatch must not fail the sync.
 */
export function translateConfiguredCatalog(document: unknown, providers: readonly ProviderDefinition[], source: string): TranslatedCatalog {
  const problem = checkConfiguredCatalog(document);
  if (problem) throw new InputError(`catalog ${source}: ${problem}; pass the configured catalog of a connection (run discover for the streams)`);
  const byName = new Map(providers.flatMap((provider) => provider.streams.map((stream) => [stream.name, { provider, stream }] as const)));
  const configured = (document as { streams: ConfiguredStream[] }).streams;
  const streams: CatalogEntry[] = [];
  for (const entry of configured) {
    const known = byName.get(entry.stream.name);
    if (known) streams.push(catalogEntryFor(entry, known.provider, known.stream));
  }
  return { catalog: { streams }, configured: configured.map((entry) => entry.stream.name) };
}

function catalogEntryFor(configured: ConfiguredStream, provider: ProviderDefinition, stream: StreamDefinition): CatalogEntry {
  const incremental = configured.sync_mode === 'incremental';
  const cursor = stream.replicationKey;
  if (incremental && !cursor) throw new InputError(`catalog: stream ${stream.name} supports only full_refresh; change its sync mode`);
  const chosenCursor = configured.cursor_field ?? [];
  if (incremental && chosenCursor.length && (chosenCursor.length !== 1 || chosenCursor[0] !== cursor)) {
    throw new InputError(`catalog: stream ${stream.name} has the source-defined cursor ${cursor}; cursor field ${chosenCursor.join('.')} cannot be used`);
  }
  const full = loadSchema(provider, stream);
  const fullProperties = (full.properties ?? {}) as Record<string, JsonSchema>;
  const chosen = configured.stream.json_schema?.properties as Record<string, JsonSchema> | undefined;
  const deselected: MetadataEntry[] = chosen
    ? Object.keys(fullProperties)
        .filter((name) => !(name in chosen))
        .map((name) => ({ breadcrumb: ['properties', name], metadata: { selected: false } }))
    : [];
  return {
    tap_stream_id: stream.name,
    stream: stream.name,
    // The configured schema is what the user reviewed (live columns included); the static file adds back the deselected ones.
    schema: { ...full, ...configured.stream.json_schema, properties: { ...fullProperties, ...chosen } },
    key_properties: [...stream.primaryKey],
    metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': incremental ? 'INCREMENTAL' : 'FULL_TABLE' } }, ...deselected],
  };
}

/**
 * Encodes the engine's events as Airbyte messages, keeping the per-stream state rules
 * (Airbyte protocol, "State"; docs/sources.md#airbyte): one STATE of type STREAM per stream whose bookmark moved, each counting the
 * records sent since that stream's last STATE; an (empty) STATE for every stream that completes
 * without one; never the same state twice in a row for a stream.
 */
export class AirbyteEncoder {
  private latest: SingerState;
  private readonly sent = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private readonly statuses = new Map<string, StreamStatus>();
  /** The first stream the engine gave up on, named in the error trace. */
  failedStream: string | undefined;

  constructor(
    initialState: SingerState,
    /** The whole config as the platform passed it; a rotated setting is sent back merged into it. */
    private readonly platformConfig: JsonRecord,
    private readonly now: MillisClock = systemClock,
  ) {
    this.latest = initialState;
  }

  encode(event: SyncEvent): AirbyteMessage[] {
    switch (event.type) {
      case 'record':
        this.counts.set(event.stream, (this.counts.get(event.stream) ?? 0) + 1);
        return [{ type: 'RECORD', record: { stream: event.stream, data: event.record, emitted_at: this.now() } }];
      case 'state':
        this.latest = event.state;
        return event.streams.flatMap((stream) => this.stateOf(stream, false));
      case 'stream-status':
        return this.status(event.stream, event.status);
      case 'config-changed':
        return [controlMessage(this.platformConfig, event.config, this.now)];
      default:
        return [];
    }
  }

  /** Statuses for streams that can never finish: unknown to the source, or left unread by a failure. */
  incomplete(streams: readonly string[]): AirbyteMessage[] {
    return streams.filter((stream) => !this.finished(stream)).flatMap((stream) => this.status(stream, 'INCOMPLETE'));
  }

  private finished(stream: string): boolean {
    const status = this.statuses.get(stream);
    return status === 'COMPLETE' || status === 'INCOMPLETE';
  }

  private status(stream: string, status: StreamStatus): AirbyteMessage[] {
    if (status === 'INCOMPLETE') this.failedStream ??= this.statuses.has(stream) ? stream : undefined;
    this.statuses.set(stream, status);
    const closing = status === 'COMPLETE' ? this.stateOf(stream, true) : [];
    return [...closing, streamStatusTrace(stream, status, this.now)];
  }

  private stateOf(stream: string, completing: boolean): AirbyteMessage[] {
    const streamState = this.streamState(stream);
    const text = JSON.stringify(streamState);
    const previous = this.sent.get(stream);
    if (previous === text || (completing && previous !== undefined)) return [];
    this.sent.set(stream, text);
    const recordCount = this.counts.get(stream) ?? 0;
    this.counts.set(stream, 0);
    return [{ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: streamState }, sourceStats: { recordCount } } }];
  }

  /**
   * A stream's bookmark, carrying its provider's quota count (`quota: {<provider>: usage}`): per-stream
   * state has no other place for it, and parseState reads it back from whichever stream saw it last.
   */
  private streamState(stream: string): AirbyteStreamState {
    const bookmark = this.latest.bookmarks[stream];
    if (!bookmark) return {};
    const provider = Object.keys(this.latest.quota ?? {}).find((key) => stream.startsWith(`${key}_`));
    return provider ? { ...bookmark, quota: { [provider]: this.latest.quota![provider]! } } : bookmark;
  }
}
