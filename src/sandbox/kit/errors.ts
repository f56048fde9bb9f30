/**
 * A request a simulated API refuses: a status and one message, which each API writes in its vendor's
 * error shape (Gong `{requestId, errors[]}`, Clari Copilot `{errorMessage}`, OData `{error{code, message}}`).
 * `body` replaces that shape where a standard fixes another one: the token endpoint's errors
 * (RFC 6749 §5.2) and Bearer challenges (RFC 6750 §3).
 */
export class ApiError extends Error {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;

  constructor(
    readonly status: number,
    message: string,
    options: { headers?: Record<string, string>; body?: unknown } = {},
  ) {
    super(message);
    this.headers = options.headers ?? {};
    this.body = options.body;
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
