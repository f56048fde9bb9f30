import { Readable } from 'node:stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// stream-json is CommonJS; its typings describe these two classes.
const { parser } = require('stream-json') as typeof import('stream-json');
const Assembler = require('stream-json/Assembler') as typeof import('stream-json/Assembler.js');

/**
 * An integer literal too long to be exact as a double. Gong ids reach 20 digits and some arrive as
 * bare JSON numbers (providers.md §1.5), so such values must never pass through `Number`.
 */
const UNSAFE_INTEGER = /[:,[]\s*-?\d{16,}\s*[,}\]]/;

/** Number tokens become numbers when exact, and strings of their exact digits when not. */
export function exactNumber(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) || !/^-?\d+$/.test(text) ? value : text;
}

/**
 * Parses a JSON document so that no integer loses a digit. The common body has no long integer
 * literal and takes the native parser; the rest goes through stream-json, whose tokens keep the text.
 */
export async function parseJsonExact(body: string): Promise<unknown> {
  if (!UNSAFE_INTEGER.test(body)) return JSON.parse(body);
  const tokens = Readable.from([body]).pipe(parser());
  const assembler = new Assembler();
  // Assembler stores every scalar through _saveValue; only the number conversion is ours.
  const internals = assembler as unknown as { numberValue(text: string): void; _saveValue(value: unknown): void };
  internals.numberValue = (text) => internals._saveValue(exactNumber(text));
  for await (const token of tokens) assembler.consume(token as never);
  if (!assembler.done) throw new SyntaxError('Unexpected end of JSON input');
  return assembler.current;
}

/** Reads `a.b.c` from a parsed document. */
export function valueAt(document: unknown, path: string): unknown {
  let current = document;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
