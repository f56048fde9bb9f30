import { ApiError } from '../kit/errors.js';
import { basicCredentials, type OAuthServer } from '../kit/oauth.js';
import type { SandboxRequest } from '../types.js';

/** The sandbox's OAuth client (Admin > Connections in the real app; help.alchemer.com "API access tokens and OAuth clients"). */
export const FOURFOUR_SANDBOX_CLIENT_ID = 'ff-sandbox-client';
export const FOURFOUR_SANDBOX_CLIENT_SECRET = 'ff-sandbox-client-secret';
/** The refresh token the sandbox starts with; it rotates, so it works once per sandbox run. */
export const FOURFOUR_SANDBOX_REFRESH_TOKEN = 'ff-sandbox-initial-refresh-token';
/** A personal access token (never renewed, valid one year from the sandbox's creation). */
export const FOURFOUR_SANDBOX_PERSONAL_TOKEN = 'ff-sandbox-personal-access-token';

/**
 * `Authorization: Bearer <token>`, or Basic with any user name and the token as password (Alchemer's
 * token documentation, for BI tools): the token's scopes, or RFC 6750 §3's 401 with a Bearer challenge.
 */
export function authenticateFourfour(request: SandboxRequest, oauth: OAuthServer): ReadonlySet<string> {
  const header = request.headers.authorization ?? '';
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? basicCredentials(header)?.password;
  if (!token) throw refuse('invalid_request', 'An access token is required: send Authorization: Bearer <token>.', false);
  const check = oauth.check(token);
  if (check === 'unknown') throw refuse('invalid_token', 'The access token is invalid or was revoked.', true);
  if (check === 'expired') throw refuse('invalid_token', 'The access token expired.', true);
  return check.scopes;
}

/** RFC 6750 §3.1: a request without credentials gets a bare challenge; a bad token gets `error="invalid_token"`. */
function refuse(error: string, description: string, withCode: boolean): ApiError {
  const challenge = withCode ? `Bearer realm="fourfour", error="${error}", error_description="${description}"` : 'Bearer realm="fourfour"';
  return new ApiError(401, description, { headers: { 'WWW-Authenticate': challenge }, body: { error, error_description: description } });
}
