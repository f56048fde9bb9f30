/**
 * A JSON string literal, or an integer literal too long to be exact as a double. Gong ids reach 20
 * digits and some arrive as bare JSON numbers (providers.md §1.5), so such values must never pass
 * through `Number`. Strings are matched only to be stepped over: digits inside them are text. The
 * lookbehind keeps the digits of a fraction or an exponent (`1.5`, `2e17`) out of the match.
 */
const STRING_OR_LONG_INTEGER = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\w.+-])-?\d{16,}(?![\d.eE])/g;
const LONG_INTEGER_AFTER_DELIMITER = /[:,[]\s*-?\d{16,}\s*[,}\]]/;

/** Number tokens become numbers when exact, and strings of their exact digits when not. */
export function exactNumber(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) || !/^-?\d+$/.test(text) ? value : text;
}

/**
 * Parses a JSON document so that no integer loses a digit: each unsafe integer literal is quoted,
 * becoming the string of its digits, before the native parser reads the document. A token-by-token
 * parser (stream-json) did the same at a tenth of the speed on Gong's pages, which all carry int64
 * scorecard ids. Most bodies have no long integer and skip the rewrite.
 */
export function parseJsonExact(body: string): unknown {
  if (!LONG_INTEGER_AFTER_DELIMITER.test(body)) return JSON.parse(body);
  return JSON.parse(body.replace(STRING_OR_LONG_INTEGER, (token) => (token.startsWith('"') || typeof exactNumber(token) === 'number' ? token : `"${token}"`)));
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
