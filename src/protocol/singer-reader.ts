import { parseJsonExact } from '../util/json.js';
import type { Logger } from '../util/log.js';
import type { RecordMessage, SingerMessage } from './messages.js';

/**
 * A RECORD as the target reads it. `lineKeepingLastKeys` is set when the line repeats a key: the
 * line written again with the last value of each key, the value JSON.parse (and so the schema
 * check) saw (ECMA-262 §25.5.1, JSON.parse). DuckDB's JSON reader keeps the first, so the raw line
 * must not reach it.
 */
export interface ReadRecordMessage extends RecordMessage {
  lineKeepingLastKeys?: string;
}

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

/** `"`, optional whitespace, `:` — the end of every key in a line, and rarely part of a string. */
const KEY_END = /"\s*:/g;

/**
 * How many times KEY_END occurs in `line`, at least. Whitespace between a key and its colon is
 * rare (JSON.stringify, Python's json and the Singer SDK write none), so without a whitespace
 * character before any colon, counting `":` with indexOf (several times faster than the regex on
 * the hot path) gives the same count.
 */
function countKeyEnds(line: string): number {
  if (line.includes(' :') || line.includes('\t:') || line.includes('\r:') || line.includes('\n:')) return line.match(KEY_END)?.length ?? 0;
  let ends = 0;
  for (let at = line.indexOf('":'); at !== -1; at = line.indexOf('":', at + 2)) ends += 1;
  return ends;
}

/**
 * The keys of every object in a parsed line. Throws for a number JSON.parse made infinite (`1e400`):
 * it cannot be stored as written, and DuckDB would store `inf`.
 */
function countKeys(value: unknown, stream: string | undefined): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SingerLineError('a number is beyond the range of a double (such as 1e400) and would become Infinity', stream);
    return 0;
  }
  if (value === null || typeof value !== 'object') return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += countKeys(item, stream);
    return keys;
  }
  for (const key in value) keys += 1 + countKeys((value as Envelope)[key], stream);
  return keys;
}

/**
 * JSON text of `exact` (parsed with parseJsonExact), whose integers too long for a double are
 * strings of their digits: where `plain` (the same text through JSON.parse) has a number, the
 * digits are written bare again, so no id loses a digit or becomes a string.
 */
function writeExact(exact: unknown, plain: unknown): string {
  if (typeof exact === 'string') return typeof plain === 'number' ? exact : JSON.stringify(exact);
  if (exact === null || typeof exact !== 'object') return JSON.stringify(exact);
  if (Array.isArray(exact)) return `[${exact.map((item, index) => writeExact(item, (plain as unknown[])[index])).join(',')}]`;
  return `{${Object.entries(exact).map(([key, item]) => `${JSON.stringify(key)}:${writeExact(item, (plain as Envelope)[key])}`).join(',')}}`;
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
 * https://hub.meltano.com/singer/spec. `type` is matched case-insensitively, as the Singer spec says; a type we do
 * not know (BATCH, or another extension) gives undefined and a debug line, as Singer targets skip
 * them. A repeated key keeps its last value, as in JSON.parse (see ReadRecordMessage). Throws
 * SingerLineError naming the problem.
 */
export function decodeSingerLine(line: string, logger?: Logger): Exclude<SingerMessage, RecordMessage> | ReadRecordMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (error) {
    throw new SingerLineError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(message)) throw new SingerLineError('a Singer message must be a JSON object');
  const keys = countKeys(message, typeof message.stream === 'string' ? message.stream : undefined);
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
      const record: ReadRecordMessage = { type, stream, record: message.record };
      if (message.time_extracted !== undefined) record.time_extracted = message.time_extracted;
      if (message.version !== undefined) record.version = requireVersion(message, type, stream);
      // More key ends than keys: a key repeats (or a string holds `":`, and the rewrite is merely needless).
      if (countKeyEnds(line) > keys) record.lineKeepingLastKeys = writeExact(parseJsonExact(line), message);
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
