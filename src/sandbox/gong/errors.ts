/**
 * A Gong API failure: the status and the `errors` list of Gong's ErrorResponse
 * (gong-openapi.json `components.schemas.ErrorResponse`: `{requestId, errors[]}`).
 */
export class GongApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.join('; '));
  }
}

/** providers.md §1.3: the 404 text Gong sends for an empty calls or transcript window (Nango's paginate.ts). */
export const NO_CALLS_FOUND = 'No calls found corresponding to the provided filters';
