import type { DateTime, Duration } from 'luxon';
import type { Random } from '../random.js';
import type { SandboxRequest, SandboxResponse } from '../types.js';
import { GongApiError } from './errors.js';

/** The sandbox's API access key pair (Gong API page → "Create"; sent as HTTP Basic, providers.md §1.2). */
export const GONG_SANDBOX_ACCESS_KEY = 'SANDBOX7ZXWKQ3AI2BTGMU5ZQ4BTCA7S';
export const GONG_SANDBOX_ACCESS_KEY_SECRET = 'sandbox-gong-access-key-secret';
/** The sandbox's OAuth app; the client authenticates to the token endpoint with HTTP Basic. */
export const GONG_SANDBOX_CLIENT_ID = 'sandbox-gong-oauth-client';
export const GONG_SANDBOX_CLIENT_SECRET = 'sandbox-gong-oauth-client-secret';
/** The refresh token a sandbox starts with. Gong's refresh tokens are single-use, so it works once per sandbox. */
export const GONG_SANDBOX_REFRESH_TOKEN = 'sandbox-gong-initial-refresh-token';

/** The token endpoint, below the provider prefix (real: `https://app.gong.io/oauth2/generate-customer-token`). */
export const GONG_TOKEN_PATH = '/oauth2/generate-customer-token';

// providers.md §1.2: read scopes of the endpoints the sandbox serves; the sandbox app is granted all of them.
const GRANTED_SCOPES = [
  'api:calls:read:basic',
  'api:calls:read:extensive',
  'api:calls:read:media-url',
  'api:calls:read:transcript',
  'api:users:read',
  'api:workspaces:read',
  'api:flows:read',
].join(' ');

/**
 * Credentials for the simulated Gong API: the fixed access key pair, and OAuth access tokens minted by
 * the token endpoint. Expiry is measured on the injected clock.
 */
export class GongAuth {
  private readonly accessTokens = new Map<string, DateTime>();
  /** Refresh tokens not yet used; each is removed on use (single-use, providers.md §1.2). */
  private readonly refreshTokens = new Set<string>([GONG_SANDBOX_REFRESH_TOKEN]);

  constructor(
    private readonly now: () => DateTime,
    private readonly accessTokenLifetime: Duration,
    private readonly random: Random,
  ) {}

  /**
   * `POST /oauth2/generate-customer-token?grant_type=refresh_token&refresh_token=…` with the client in
   * HTTP Basic (providers.md §1.2). Parameters may also come as a form body, and the client as
   * `client_id`/`client_secret` parameters (AMP's test client uses AuthStyleInParams).
   */
  token(request: SandboxRequest, apiBaseUrl: string): SandboxResponse {
    if (request.method !== 'POST') return { status: 405, headers: { Allow: 'POST' }, body: oauthError('invalid_request', 'Use POST.') };
    const params = new URLSearchParams(request.query);
    if (/application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) {
      for (const [name, value] of new URLSearchParams(request.rawBody)) params.set(name, value);
    }
    const basic = basicCredentials(request.headers.authorization);
    const clientId = basic?.user ?? params.get('client_id');
    const clientSecret = basic?.password ?? params.get('client_secret');
    if (clientId !== GONG_SANDBOX_CLIENT_ID || clientSecret !== GONG_SANDBOX_CLIENT_SECRET) {
      return { status: 401, body: oauthError('invalid_client', 'Client authentication failed.') };
    }
    const grantType = params.get('grant_type');
    if (grantType !== 'refresh_token') {
      return { status: 400, body: oauthError('unsupported_grant_type', `The sandbox issues tokens for grant_type=refresh_token only, not ${grantType ?? 'none'}.`) };
    }
    const presented = params.get('refresh_token') ?? '';
    // providers.md §1.2 (nango.dev blog): reusing a refresh token gives 400 invalid_grant.
    if (!this.refreshTokens.delete(presented)) {
      return { status: 400, body: oauthError('invalid_grant', 'The refresh token is invalid or was already used.') };
    }
    const accessToken = this.mint();
    const refreshToken = this.mint();
    this.accessTokens.set(accessToken, this.now().plus(this.accessTokenLifetime));
    this.refreshTokens.add(refreshToken);
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      body: {
        access_token: accessToken,
        refresh_token: refreshToken,
        expires_in: Math.round(this.accessTokenLifetime.as('seconds')),
        token_type: 'bearer',
        scope: GRANTED_SCOPES,
        // providers.md §1.1: the token response names the tenant's regional API host.
        api_base_url_for_customer: apiBaseUrl,
      },
    };
  }

  /** Throws Gong's 401 unless the request carries the access key pair or a live Bearer token. */
  authenticate(request: SandboxRequest): void {
    const header = request.headers.authorization;
    if (!header) throw new GongApiError(401, ['Missing Authorization header: use Basic access key credentials or a Bearer token']);
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (bearer) {
      const expires = this.accessTokens.get(bearer);
      if (!expires) throw new GongApiError(401, ['Invalid access token']);
      if (expires <= this.now()) throw new GongApiError(401, ['Access token has expired']);
      return;
    }
    const basic = basicCredentials(header);
    if (basic?.user !== GONG_SANDBOX_ACCESS_KEY || basic.password !== GONG_SANDBOX_ACCESS_KEY_SECRET) {
      throw new GongApiError(401, ['Invalid credentials: the access key or access key secret is wrong']);
    }
  }

  private mint(): string {
    return Array.from({ length: 40 }, () => Math.floor(this.random() * 36).toString(36)).join('');
  }
}

function oauthError(error: string, description: string) {
  return { error, error_description: description };
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
