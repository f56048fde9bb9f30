import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The official protocol schema (a copy kept beside this file); `existingJavaType` needs strict: false. */
const protocol = parse(readFileSync(new URL('./airbyte_protocol.yaml', import.meta.url), 'utf8')) as { $id: string };
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
ajv.addSchema(protocol);
const definition = (name: string) => ajv.getSchema(`${protocol.$id}#/definitions/${name}`)!;
const validateMessage = definition('AirbyteMessage');
const validateConfiguredCatalog = definition('ConfiguredAirbyteCatalog');

/** The envelope does not tie `type` to its payload, so each type's field is checked by hand (reference README). */
const PAYLOAD: Record<string, string> = {
  RECORD: 'record',
  STATE: 'state',
  LOG: 'log',
  SPEC: 'spec',
  CONNECTION_STATUS: 'connectionStatus',
  CATALOG: 'catalog',
  TRACE: 'trace',
  CONTROL: 'control',
  DESTINATION_CATALOG: 'destination_catalog',
};
const TRACE_PAYLOAD: Record<string, string> = { ERROR: 'error', ESTIMATE: 'estimate', STREAM_STATUS: 'stream_status', ANALYTICS: 'analytics' };

type Message = Record<string, any>;

/** Every way one message breaks the protocol; empty when it is valid and carries the payload its type names. */
export function airbyteProblems(message: unknown): string[] {
  const problems = validateMessage(message) ? [] : (validateMessage.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  const m = message as Message;
  const field = PAYLOAD[m?.type];
  if (!field || typeof m[field] !== 'object' || m[field] === null) problems.push(`${m?.type} message without its ${field} payload`);
  if (m?.type === 'TRACE' && typeof m.trace?.[TRACE_PAYLOAD[m.trace.type] ?? ''] !== 'object') problems.push(`TRACE ${m.trace?.type} without its payload`);
  if (m?.type === 'STATE' && m.state?.type === 'STREAM' && typeof m.state.stream !== 'object') problems.push('STREAM state without its stream');
  if (m?.type === 'CONTROL' && typeof m.control?.connectorConfig?.config !== 'object') problems.push('CONTROL without connectorConfig.config');
  return problems.map((p) => `${JSON.stringify(message).slice(0, 160)}: ${p}`);
}

/** Problems of a whole run's messages, for one `expect(...).toEqual([])`. */
export function allProblems(messages: readonly unknown[]): string[] {
  return messages.flatMap(airbyteProblems);
}

export function configuredCatalogProblems(catalog: unknown): string[] {
  return validateConfiguredCatalog(catalog) ? [] : (validateConfiguredCatalog.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/**
 * Each stream's statuses in order must read STARTED, an optional RUNNING, then COMPLETE or
 * INCOMPLETE — or a lone INCOMPLETE for a stream that never started (Airbyte protocol `AirbyteStreamStatus`; docs/sources.md#airbyte).
 */
export function statusProblems(messages: readonly Message[]): string[] {
  const byStream = new Map<string, string[]>();
  for (const m of messages) {
    if (m.type !== 'TRACE' || m.trace.type !== 'STREAM_STATUS') continue;
    const name = m.trace.stream_status.stream_descriptor.name as string;
    byStream.set(name, [...(byStream.get(name) ?? []), m.trace.stream_status.status as string]);
  }
  return [...byStream]
    .filter(([, statuses]) => !/^((STARTED )(RUNNING )?(COMPLETE|INCOMPLETE)|INCOMPLETE)$/.test(statuses.join(' ')))
    .map(([name, statuses]) => `${name}: ${statuses.join(' → ')}`);
}
