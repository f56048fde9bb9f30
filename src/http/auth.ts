import { request } from 'undici';
import { DateTime } from 'luxon';
import { SyncError } from '../util/errors.js';
import { registerSecret } from '../util/log.js';
import { isRetryableStatus, parseRetryAfter, Retryable } from './retry.js';

/**
 * Puts credentials on requests; an OAuth strategy can also renew them. A renewal that fails for a
 * moment throws `Retryable`, which only the HTTP client, the one place that retries, acts on.
 */
export interface AuthStrategy {
  headers(): Promise<Record<string, string>>;
  /** Renews credentials after a 401; false when this strategy cannot. */
  refresh?(): Promise<boolean>;
}

export function basicAuth(user: string, password: string): AuthStrategy {
  const value = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  registerSecret(value.slice(6));
  return { headers: async () => ({ authorization: value }) };
}

export function bearerAuth(token: string): AuthStrategy {
  return { headers: async () => ({ authorization: `Bearer ${token}` }) };
}

export function headerAuth(headers: Record<string, string>): AuthStrategy {
  return { headers: async () => headers };
}

export interface OAuthRefreshOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** How the client authenticates to the token endpoint. */
  clientAuth: 'basic' | 'body';
  /** Called with the new refresh token when the server rotates it; it must be persisted. */
  onRotate(refreshToken: string): Promise<void> | void;
  /** Throws when a rotated refresh token could not be persisted; asked before each refresh, so such a token is never spent. */
  ensureRotationSavable?(): void;
  /** Called with every token response, e.g. to learn a tenant's base URL. */
  onToken?(response: Record<string, unknown>): void;
  provider: string;
  credentialHint: string;
  now?: () => DateTime;
  /** Renew this long before the access token expires. */
  skewSeconds?: number;
  /** How long to wait for the token endpoint's answer: the provider's `request_timeout`, as for the API. */
  timeoutMs: number;
}

/**
 * OAuth 2 refresh-token grant. Renews before expiry and once after a 401; a rotated refresh token is
 * handed to `onRotate` before it is used, so a crash right after cannot lose the only valid token,
 * and a refresh token whose successor could not be saved is not spent at all.
 */
export function oauthRefreshAuth(options: OAuthRefreshOptions): AuthStrategy {
  const now = options.now ?? (() => DateTime.utc());
  let refreshToken = options.refreshToken;
  let accessToken: string | undefined;
  let expiresAt: DateTime | undefined;
  let pending: Promise<void> | undefined;

  async function renew(): Promise<void> {
    options.ensureRotationSavable?.();
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (options.clientAuth === 'basic') {
      headers.authorization = 'Basic ' + Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    } else {
      form.set('client_id', options.clientId);
      form.set('client_secret', options.clientSecret);
    }
    let response;
    let text;
    try {
      response = await request(options.tokenUrl, { method: 'POST', headers, body: form.toString(), headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
      text = await response.body.text();
    } catch (error) {
      // The HTTP client retries this like any failed request: renewing is part of the request's attempt.
      throw new Retryable(`token endpoint unreachable: ${(error as { code?: string }).code ?? (error as Error).message}`);
    }
    if (isRetryableStatus(response.statusCode)) {
      const retryAfter = response.headers['retry-after'];
      throw new Retryable(`token endpoint HTTP ${response.statusCode}`, parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter));
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      if (response.statusCode === 200) throw new Retryable('token endpoint sent unreadable JSON (truncated?)');
      // a non-JSON error page still gets the status-based message below
    }
    if (response.statusCode !== 200 || typeof body.access_token !== 'string') {
      const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.statusCode}`;
      throw new SyncError(
        `${options.provider}: the token endpoint refused the refresh token (${reason}); ${options.credentialHint}`,
        'config_error',
      );
    }
    accessToken = body.access_token;
    registerSecret(accessToken);
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    expiresAt = now().plus({ seconds: lifetime - (options.skewSeconds ?? 60) });
    options.onToken?.(body);
    if (typeof body.refresh_token === 'string' && body.refresh_token !== refreshToken) {
      refreshToken = body.refresh_token;
      registerSecret(refreshToken);
      await options.onRotate(refreshToken);
    }
  }

  function renewOnce(): Promise<void> {
    pending ??= renew().finally(() => (pending = undefined));
    return pending;
  }

  return {
    async headers() {
      if (!accessToken || !expiresAt || now() >= expiresAt) await renewOnce();
      return { authorization: `Bearer ${accessToken}` };
    },
    async refresh() {
      await renewOnce();
      return true;
    },
  };
}
