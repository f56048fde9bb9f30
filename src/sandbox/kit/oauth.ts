import type { DateTime, Duration } from 'luxon';
import type { Random } from '../random.js';
import type { SandboxRequest, SandboxResponse } from '../types.js';
import { ApiError } from './errors.js';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  /** The refresh token a sandbox starts with; rotation makes it work once. */
  initialRefreshToken: string;
  accessTokenLifetime: Duration;
  /** How long an unused refresh token stays valid; absent: until it is used. */
  refreshTokenLifetime?: Duration;
  /** `token_type` as the vendor writes it (RFC 6749 §7.1 makes it case-insensitive). */
  tokenType: string;
  /**
   * Whether the grant's parameters may come in the query string too, as Gong documents its refresh
   * request; otherwise only in a form body, as RFC 6749 §6 (with §4.1.3's encoding) asks.
   */
  parametersInQuery: boolean;
  /** What minted tokens start with, so a token's kind shows (Four/Four: `ffat_`, `ffrt_`). */
  tokenPrefixes?: { access: string; refresh: string };
  /** The realm of the Basic challenge a failed client authentication gets (RFC 6749 §5.2). */
  realm: string;
  /** The scopes every token is granted, listed in the token response's `scope`. */
  scopes: ReadonlySet<string>;
  now: () => DateTime;
  random: Random;
}

/** What an access token is worth: its scopes, or why it is refused. */
export type TokenCheck = { scopes: ReadonlySet<string> } | 'unknown' | 'expired';

/**
 * An OAuth 2.0 token endpoint for the refresh grant (RFC 6749 §6), with rotation: each refresh issues a
 * new refresh token and refuses the one it was given from then on (RFC 6749 §10.4), as Gong's
 * single-use and Four/Four's rotating refresh tokens do. Expiry is measured on the injected clock.
 */
export class OAuthServer {
  private readonly accessTokens = new Map<string, DateTime>();
  /** Refresh tokens not yet used, and when each expires (never, when the settings give no lifetime). */
  private readonly refreshTokens = new Map<string, DateTime | undefined>();

  constructor(private readonly settings: OAuthSettings) {
    this.refreshTokens.set(settings.initialRefreshToken, this.refreshExpiry());
  }

  /** Accepts `token` as an access token until `expires`, with no refresh (a personal access token). */
  grantAccessToken(token: string, expires: DateTime): void {
    this.accessTokens.set(token, expires);
  }

  /** The token request; the client authenticates with HTTP Basic or `client_id`/`client_secret` parameters (RFC 6749 §2.3.1). */
  token(request: SandboxRequest, extraFields: Record<string, unknown> = {}): SandboxResponse {
    const { settings } = this;
    const isForm = /application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '');
    if (!isForm && !settings.parametersInQuery) throw oauthError(400, 'invalid_request', 'The token request must be application/x-www-form-urlencoded.');
    const params = settings.parametersInQuery ? new URLSearchParams(request.query) : new URLSearchParams();
    if (isForm) for (const [name, value] of new URLSearchParams(request.rawBody)) params.set(name, value);
    const basic = basicCredentials(request.headers.authorization);
    const clientId = basic?.user ?? params.get('client_id');
    const clientSecret = basic?.password ?? params.get('client_secret');
    if (clientId !== settings.clientId || clientSecret !== settings.clientSecret) {
      // RFC 6749 §5.2: 401 for a failed client authentication, with a challenge when Basic was tried.
      throw oauthError(401, 'invalid_client', 'Client authentication failed.', basic ? { 'WWW-Authenticate': `Basic realm="${settings.realm}"` } : {});
    }
    const grantType = params.get('grant_type');
    if (!grantType) throw oauthError(400, 'invalid_request', 'grant_type is required.');
    if (grantType !== 'refresh_token') throw oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported here; use refresh_token.`);
    const presented = params.get('refresh_token');
    if (!presented) throw oauthError(400, 'invalid_request', 'refresh_token is required.');
    const now = settings.now();
    const expires = this.refreshTokens.get(presented);
    if (!this.refreshTokens.has(presented) || (expires !== undefined && expires <= now)) {
      throw oauthError(400, 'invalid_grant', 'The refresh token is invalid, expired, or was already used.');
    }
    this.refreshTokens.delete(presented);
    const accessToken = this.mint(settings.tokenPrefixes?.access);
    const refreshToken = this.mint(settings.tokenPrefixes?.refresh);
    this.accessTokens.set(accessToken, now.plus(settings.accessTokenLifetime));
    this.refreshTokens.set(refreshToken, this.refreshExpiry());
    return {
      status: 200,
      // RFC 6749 §5.1: token responses must not be cached.
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: {
        access_token: accessToken,
        token_type: settings.tokenType,
        expires_in: Math.round(settings.accessTokenLifetime.as('seconds')),
        refresh_token: refreshToken,
        scope: [...settings.scopes].join(' '),
        ...extraFields,
      },
    };
  }

  check(accessToken: string): TokenCheck {
    const expires = this.accessTokens.get(accessToken);
    if (!expires) return 'unknown';
    if (expires <= this.settings.now()) return 'expired';
    return { scopes: this.settings.scopes };
  }

  private refreshExpiry(): DateTime | undefined {
    const { refreshTokenLifetime, now } = this.settings;
    return refreshTokenLifetime && now().plus(refreshTokenLifetime);
  }

  private mint(prefix = ''): string {
    return prefix + Array.from({ length: 40 }, () => Math.floor(this.settings.random() * 36).toString(36)).join('');
  }
}

/** An RFC 6749 §5.2 error: `{error, error_description}`, not the API's own error shape. */
function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): ApiError {
  return new ApiError(status, description, { headers, body: { error, error_description: description } });
}

/** The user and password of an `Authorization: Basic` header (RFC 7617), or undefined for any other header. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
