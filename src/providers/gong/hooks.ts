import type { HttpStatusError } from '../../http/client.js';
import type { ErrorMeaning, RequestContext, SyncWindow } from '../../core/definitions.js';
import { formatInstant } from '../../core/state.js';
import type { JsonRecord } from '../../protocol/messages.js';
import type { GongConfig } from './provider.js';

function errorsText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.join(' ') : '';
}

/**
 * Gong answers 404 "No calls found…" for an empty window, and 400 "cursor has expired" /
 * "Failed to verify cursor" once a cursor's JWT lapses (providers.md §1.3).
 */
export function interpretGongError(error: HttpStatusError): ErrorMeaning {
  if (error.status === 404) return 'empty';
  if (error.status === 400 && /cursor has expired|failed to verify cursor/i.test(errorsText(error.body))) return 'restart-window';
  return undefined;
}

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

/** The key and the replication key live in `metaData`; lift them so they are top level. */
export function liftCallMetaData(call: JsonRecord): JsonRecord {
  const meta = (call.metaData ?? {}) as JsonRecord;
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
