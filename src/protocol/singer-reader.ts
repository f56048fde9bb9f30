import type { Logger } from '../util/log.js';
import type { RecordMessage, SingerMessage } from './messages.js';

/** A line that is not a Singer message we can use; `stream` names the stream when the line did. */
export class SingerLineError extends Error {
  constructor(
    message: string,
    readonly stream?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

type Envelope = Record<string, unknown>;

function isObject(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function requireStream(message: Envelope, type: string): string {
  if (typeof message.stream !== 'string' || !message.stream) throw new SingerLineError(`${type} needs "stream", a non-empty string`);
  return message.stream;
}

function requireVersion(message: Envelope, type: string, stream: string): number {
  if (!Number.isSafeInteger(message.version)) throw new SingerLineError(`${type} "version" must be an integer`, stream);
  return message.version as number;
}

/**
 * Decodes one stdin line into a Singer message, checking the envelope of each type against
 * protocols.md §1.2. `type` is matched case-insensitively, as the Singer spec says; a type we do
 * not know (BATCH, or another extension) gives undefined and a debug line, as Singer targets skip
 * them. Throws SingerLineError naming the problem.
 */
export function decodeSingerLine(line: string, logger?: Logger): SingerMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (error) {
    throw new SingerLineError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(message)) throw new SingerLineError('a Singer message must be a JSON object');
  if (typeof message.type !== 'string') throw new SingerLineError('a Singer message needs "type", a string');
  const type = message.type.toUpperCase();
  switch (type) {
    case 'RECORD': {
      const stream = requireStream(message, type);
      if (!isObject(message.record)) throw new SingerLineError('RECORD needs "record", a JSON object', stream);
      if (message.time_extracted !== undefined && typeof message.time_extracted !== 'string') {
        throw new SingerLineError('RECORD "time_extracted" must be an RFC 3339 string', stream);
      }
      // Built without spreads: this runs once per record, the hottest line of a load.
      const record: RecordMessage = { type, stream, record: message.record };
      if (message.time_extracted !== undefined) record.time_extracted = message.time_extracted;
      if (message.version !== undefined) record.version = requireVersion(message, type, stream);
      return record;
    }
    case 'SCHEMA': {
      const stream = requireStream(message, type);
      if (!isObject(message.schema)) throw new SingerLineError('SCHEMA needs "schema", a JSON Schema object', stream);
      // SPEC.md: key_properties must be present, though it may be empty.
      if (!isStringList(message.key_properties)) throw new SingerLineError('SCHEMA needs "key_properties", a list of property names (may be empty)', stream);
      if (message.bookmark_properties !== undefined && !isStringList(message.bookmark_properties)) {
        throw new SingerLineError('SCHEMA "bookmark_properties" must be a list of property names', stream);
      }
      return {
        type,
        stream,
        schema: message.schema,
        key_properties: message.key_properties,
        ...(message.bookmark_properties === undefined ? {} : { bookmark_properties: message.bookmark_properties }),
      };
    }
    case 'STATE':
      if (!('value' in message)) throw new SingerLineError('STATE needs "value"');
      return { type, value: message.value };
    case 'ACTIVATE_VERSION': {
      const stream = requireStream(message, type);
      return { type, stream, version: requireVersion(message, type, stream) };
    }
    default:
      logger?.debug(`ignoring a message of unknown type ${JSON.stringify(message.type)}`);
      return undefined;
  }
}
