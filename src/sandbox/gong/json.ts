/**
 * JSON with int64 numbers: Gong writes some ids as bare JSON numbers beyond 2^53 (Gong API v2,
 * POST /v2/stats/activity/scorecards). Records hold those as `bigint`; JSON.stringify cannot write them, so each is
 * written as a marked string first and unquoted afterwards, keeping every digit.
 */
const INT64_MARK = '\u0000int64:';
// JSON.stringify escapes U+0000 as \u0000, so no ordinary string value can produce this pattern.
const MARKED_INT64 = /"\\u0000int64:(-?\d+)"/g;

export function toGongJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `${INT64_MARK}${item}` : item)).replace(MARKED_INT64, '$1');
}
