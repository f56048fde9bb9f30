import { Duration, type DateTime } from 'luxon';
import { rngFor, type Random } from '../random.js';
import type { SandboxRequest, SandboxResponse } from '../types.js';

/** The sandbox's OAuth client (Admin > Connections > OAuth clients in the real app, providers.md §3.2). */
export const FOURFOUR_SANDBOX_CLIENT_ID = 'ff-sandbox-client';
export const FOURFOUR_SANDBOX_CLIENT_SECRET = 'ff-sandbox-client-secret';
/** The refresh token the sandbox starts with; it rotates, so it works once per sandbox run. */
export const FOURFOUR_SANDBOX_REFRESH_TOKEN = 'ff-sandbox-initial-refresh-token';
/** A personal access token (never renewed, valid one year from the sandbox's creation, providers.md §3.2). */
export const FOURFOUR_SANDBOX_PERSONAL_TOKEN = 'ff-sandbox-personal-access-token';

// providers.md §3.2 (ALCH): access tokens live one day, refresh and personal tokens one year; scope api:read.
const REFRESH_TOKEN_LIFETIME = Duration.fromObject({ years: 1 });
const SCOPE = 'api:read';

export type TokenCheck = { ok: true } | { ok: false; response: SandboxResponse };

/**
 * Token endpoint and token checks for the simulated Four/Four API. Expiry is measured on the injected
 * clock. Refresh tokens rotate: each refresh issues a new one and refuses the old one from then on.
 */
export class FourfourTokens {
  private readonly accessTokens = new Map<string, DateTime>();
  private readonly refreshTokens = new Map<string, DateTime>();
  private readonly random: Random;

  constructor(
    seed: number,
    private readonly now: () => DateTime,
    private readonly accessTokenLifetime: Duration,
  ) {
    this.random = rngFor(seed, 'fourfour', 'tokens');
    const created = now();
    this.refreshTokens.set(FOURFOUR_SANDBOX_REFRESH_TOKEN, created.plus(REFRESH_TOKEN_LIFETIME));
    this.accessTokens.set(FOURFOUR_SANDBOX_PERSONAL_TOKEN, created.plus(REFRESH_TOKEN_LIFETIME));
  }

  /** `POST /oauth/token`, RFC 6749 §6 refresh grant; client credentials in the form (AMP) or HTTP Basic. */
  token(request: SandboxRequest): SandboxResponse {
    if (request.method !== 'POST') return { status: 405, headers: { Allow: 'POST' }, body: oauthError('invalid_request', 'Use POST.') };
    if (!/application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) {
      return { status: 400, body: oauthError('invalid_request', 'The token request must be application/x-www-form-urlencoded.') };
    }
    const form = new URLSearchParams(request.rawBody);
    const basic = basicCredentials(request.headers.authorization);
    const clientId = basic?.user ?? form.get('client_id');
    const clientSecret = basic?.password ?? form.get('client_secret');
    if (clientId !== FOURFOUR_SANDBOX_CLIENT_ID || clientSecret !== FOURFOUR_SANDBOX_CLIENT_SECRET) {
      // RFC 6749 §5.2: 401 for a failed client authentication, with a challenge when Basic was tried.
      return { status: 401, headers: basic ? { 'WWW-Authenticate': 'Basic realm="fourfour"' } : {}, body: oauthError('invalid_client', 'Client authentication failed.') };
    }
    const grantType = form.get('grant_type');
    if (!grantType) return { status: 400, body: oauthError('invalid_request', 'grant_type is required.') };
    if (grantType !== 'refresh_token') return { status: 400, body: oauthError('unsupported_grant_type', `grant_type ${grantType} is not supported here; use refresh_token.`) };
    const presented = form.get('refresh_token');
    if (!presented) return { status: 400, body: oauthError('invalid_request', 'refresh_token is required.') };
    const expires = this.refreshTokens.get(presented);
    if (!expires || expires <= this.now()) {
      return { status: 400, body: oauthError('invalid_grant', 'The refresh token is invalid, expired, or was already used.') };
    }
    this.refreshTokens.delete(presented);
    const accessToken = this.mint('ffat');
    const refreshToken = this.mint('ffrt');
    this.accessTokens.set(accessToken, this.now().plus(this.accessTokenLifetime));
    this.refreshTokens.set(refreshToken, this.now().plus(REFRESH_TOKEN_LIFETIME));
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: { access_token: accessToken, token_type: 'Bearer', expires_in: Math.round(this.accessTokenLifetime.as('seconds')), refresh_token: refreshToken, scope: SCOPE },
    };
  }

  /**
   * `Authorization: Bearer <token>`, or Basic with any user name and the token as password (ALCH,
   * for BI tools). RFC 6750 §3: 401 with a `WWW-Authenticate: Bearer` challenge.
   */
  check(request: SandboxRequest): TokenCheck {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? basicCredentials(header)?.password;
    if (!token) return refuse('invalid_request', 'An access token is required: send Authorization: Bearer <token>.', false);
    const expires = this.accessTokens.get(token);
    if (!expires) return refuse('invalid_token', 'The access token is invalid or was revoked.', true);
    if (expires <= this.now()) return refuse('invalid_token', 'The access token expired.', true);
    return { ok: true };
  }

  private mint(prefix: string): string {
    return `${prefix}_${Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16)).join('')}`;
  }
}

function oauthError(error: string, description: string) {
  return { error, error_description: description };
}

/** RFC 6750 §3.1: a request without credentials gets a bare challenge; a bad token gets `error="invalid_token"`. */
function refuse(error: string, description: string, withCode: boolean): TokenCheck {
  const challenge = withCode ? `Bearer realm="fourfour", error="${error}", error_description="${description}"` : 'Bearer realm="fourfour"';
  return { ok: false, response: { status: 401, headers: { 'WWW-Authenticate': challenge }, body: oauthError(error, description) } };
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
