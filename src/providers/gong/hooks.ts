import type { HttpStatusError } from '../../http/client.js';
import type { ErrorMeaning, RequestContext, StreamDefinition, SyncWindow } from '../../core/definitions.js';
import { formatInstant } from '../../core/state.js';
import type { JsonRecord } from '../../protocol/messages.js';
import type { GongConfig } from './provider.js';

function errorsText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.join(' ') : '';
}

/**
 * An empty window is a 404 whose errors say "No calls found corresponding to the provided filters" (the
 * live text, NangoHQ/integration-templates integrations/gong/helpers/paginate.ts) or "…for the specified
 * period" (gong-openapi.json, 404 of POST /v2/calls/extensive); any other 404 (a wrong base_url, a
 * missing endpoint) is a failure.
 */
const EMPTY_RESULT = /\bfound (corresponding to the provided filters|for the specified period)/i;

/**
 * Besides the empty 404: 400 "cursor has expired" / "Failed to verify cursor" once a cursor's JWT lapses
 * (AMP providers/gong/errors.go), and a refused GET /v2/flows for one owner, who has no Gong Engage seat
 * (gong-openapi.json documents 401 "Access denied"; AMP providers/gong/flows.go skips such owners).
 */
export function interpretGongError(error: HttpStatusError, stream: StreamDefinition<GongConfig>): ErrorMeaning {
  if (error.status === 404 && EMPTY_RESULT.test(errorsText(error.body))) return 'empty';
  if (error.status === 400 && /cursor has expired|failed to verify cursor/i.test(errorsText(error.body))) return 'restart-window';
  if ((error.status === 401 || error.status === 403) && stream.name === 'gong_flows') return 'skip';
  return undefined;
}

export const gongErrorNotes = {
  empty:
    'Gong answered "No calls found" for a window, read as empty; Gong gives credentials that may not see calls the same answer, so if calls are missing, check that the key can read calls (OAuth: the api:calls:read:extensive and api:calls:read:transcript scopes)',
  skip: 'Gong refuses the flows of users without a Gong Engage seat; if every owner was refused, check that the key can read flows (OAuth: the api:flows:read scope)',
};

/** Gong filters on call start: fromDateTime inclusive, toDateTime exclusive (providers.md §1.5). */
function dateFilter(window: SyncWindow | undefined): JsonRecord {
  return {
    ...(window?.from ? { fromDateTime: formatInstant(window.from) } : {}),
    ...(window ? { toDateTime: formatInstant(window.to) } : {}),
  };
}

/** Parties, content, interaction and collaboration; media URLs only on request (they need their own scope). */
export function extensiveCallsBody({ config, window }: RequestContext<GongConfig>): JsonRecord {
  const all = (fields: string[]) => Object.fromEntries(fields.map((f) => [f, true]));
  return {
    filter: { ...dateFilter(window), ...(config.workspace_id ? { workspaceId: config.workspace_id } : {}) },
    contentSelector: {
      context: 'Extended',
      // CRM values today and as they were at the call (a deal's stage then); the default is Now only
      // (gong-openapi.json ContentSelector.contextTiming). It costs no request.
      contextTiming: ['Now', 'TimeOfCall'],
      exposedFields: {
        parties: true,
        media: config.expose_media_urls ?? false,
        content: all(['structure', 'topics', 'trackers', 'trackerOccurrences', 'pointsOfInterest', 'brief', 'outline', 'highlights', 'callOutcome', 'keyPoints']),
        interaction: all(['speakers', 'video', 'personInteractionStats', 'questions']),
        collaboration: all(['publicComments']),
      },
    },
  };
}

/**
 * The key and the replication key live in `metaData`; lift them so they are top level. A private call
 * (`metaData.isPrivate`, gong-openapi.json CallBasicData) is left out unless `include_private`: its
 * brief, outline and parties are as private as its transcript, which is then never requested either.
 */
export function syncedCall(call: JsonRecord, { config }: RequestContext<GongConfig>): JsonRecord | undefined {
  const meta = (call.metaData ?? {}) as JsonRecord;
  if (meta.isPrivate === true && config.include_private !== true) return undefined;
  return { id: meta.id, started: meta.started, ...call };
}

/** Transcripts carry no time, so each gets its call's start; AMP's fixture spells the key `callid` (providers.md §6.5). */
export function attachCallStart(transcript: JsonRecord, { parents }: RequestContext<GongConfig>): JsonRecord {
  const callId = transcript.callId ?? transcript.callid;
  const call = parents.find((p) => p.id === callId);
  const { callid: _, ...rest } = transcript;
  return { ...rest, callId, started: call?.started };
}

/** GET /v2/flows needs an owner; only active users with an address can own flows (providers.md §1.5 flows). */
export const canOwnFlows = (user: JsonRecord) => user.active !== false && typeof user.emailAddress === 'string';
