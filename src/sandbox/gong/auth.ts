import { ApiError } from '../kit/errors.js';
import { basicCredentials, type OAuthServer } from '../kit/oauth.js';
import type { SandboxRequest } from '../types.js';

/** The sandbox's API access key pair (Gong API page → "Create"; sent as HTTP Basic, gong-openapi.json "Authentication"). */
export const GONG_SANDBOX_ACCESS_KEY = 'SANDBOX7ZXWKQ3AI2BTGMU5ZQ4BTCA7S';
export const GONG_SANDBOX_ACCESS_KEY_SECRET = 'sandbox-gong-access-key-secret';
/** The sandbox's OAuth app; the client authenticates to the token endpoint with HTTP Basic. */
export const GONG_SANDBOX_CLIENT_ID = 'sandbox-gong-oauth-client';
export const GONG_SANDBOX_CLIENT_SECRET = 'sandbox-gong-oauth-client-secret';
/** The refresh token a sandbox starts with. Gong's refresh tokens are single-use, so it works once per sandbox. */
export const GONG_SANDBOX_REFRESH_TOKEN = 'sandbox-gong-initial-refresh-token';

/** The token endpoint, below the provider prefix (real: `https://app.gong.io/oauth2/generate-customer-token`). */
export const GONG_TOKEN_PATH = '/oauth2/generate-customer-token';

/**
 * The scopes of a request that carries the access key pair or a live Bearer token; Gong's 401 otherwise.
 * The sandbox's `scopes` option limits the access key as well, which in Gong has every permission,
 * so a client's handling of a 403 can be tried without OAuth.
 */
export function authenticateGong(request: SandboxRequest, oauth: OAuthServer, scopes: ReadonlySet<string>): ReadonlySet<string> {
  const header = request.headers.authorization;
  if (!header) throw new ApiError(401, 'Missing Authorization header: use Basic access key credentials or a Bearer token');
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) {
    const check = oauth.check(bearer);
    if (check === 'unknown') throw new ApiError(401, 'Invalid access token');
    if (check === 'expired') throw new ApiError(401, 'Access token has expired');
    return check.scopes;
  }
  const basic = basicCredentials(header);
  if (basic?.user !== GONG_SANDBOX_ACCESS_KEY || basic.password !== GONG_SANDBOX_ACCESS_KEY_SECRET) {
    throw new ApiError(401, 'Invalid credentials: the access key or access key secret is wrong');
  }
  return scopes;
}
