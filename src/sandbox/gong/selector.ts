import { badRequest } from '../kit/errors.js';
import { isObject } from '../kit/request.js';

export const CONTENT_FIELDS = ['structure', 'topics', 'trackers', 'trackerOccurrences', 'pointsOfInterest', 'brief', 'outline', 'highlights', 'callOutcome', 'keyPoints'] as const;
export const INTERACTION_FIELDS = ['speakers', 'video', 'personInteractionStats', 'questions'] as const;
export type ContentField = (typeof CONTENT_FIELDS)[number];
export type InteractionField = (typeof INTERACTION_FIELDS)[number];
export type ContextTiming = 'Now' | 'TimeOfCall';

/** The `contentSelector` of `POST /v2/calls/extensive` (gong-openapi.json ContentSelector). */
export interface ContentSelector {
  context?: 'None' | 'Basic' | 'Extended';
  contextTiming?: ContextTiming[];
  exposedFields?: {
    parties?: boolean;
    media?: boolean;
    content?: Partial<Record<ContentField, boolean>>;
    interaction?: Partial<Record<InteractionField, boolean>>;
    collaboration?: { publicComments?: boolean };
  };
}

/** Which sections a call record carries. */
export interface SectionChoice {
  context?: { detail: 'Basic' | 'Extended'; timings: readonly ContextTiming[] };
  parties: boolean;
  media: boolean;
  content: ReadonlySet<ContentField>;
  interaction: ReadonlySet<InteractionField>;
  publicComments: boolean;
}

/** Everything Gong can expose: what the dataset serves unless a test asks for less. */
export const FULL_CONTENT_SELECTOR: ContentSelector = {
  context: 'Extended',
  contextTiming: ['Now', 'TimeOfCall'],
  exposedFields: {
    parties: true,
    media: true,
    content: Object.fromEntries(CONTENT_FIELDS.map((field) => [field, true])),
    interaction: Object.fromEntries(INTERACTION_FIELDS.map((field) => [field, true])),
    collaboration: { publicComments: true },
  },
};

/** Reads a request's contentSelector; an absent selector exposes `metaData` only. */
export function chooseSections(selector: unknown): SectionChoice {
  if (selector !== undefined && !isObject(selector)) throw badRequest('contentSelector must be an object');
  const { context = 'None', contextTiming, exposedFields = {} } = (selector ?? {}) as Record<string, unknown>;
  if (context !== 'None' && context !== 'Basic' && context !== 'Extended') throw badRequest(`contentSelector.context: unknown value ${JSON.stringify(context)}`);
  // gong-openapi.json ContentSelector.contextTiming: default ["Now"], "Can be provided only when the context field is set to 'Extended'".
  const timings = contextTiming ?? ['Now'];
  if (!Array.isArray(timings) || !timings.every((timing) => timing === 'Now' || timing === 'TimeOfCall')) {
    throw badRequest('contentSelector.contextTiming: values must be Now or TimeOfCall');
  }
  if (contextTiming !== undefined && context !== 'Extended') throw badRequest('contentSelector.contextTiming can be provided only when context is Extended');
  if (!isObject(exposedFields)) throw badRequest('contentSelector.exposedFields must be an object');
  return {
    ...(context === 'None' ? {} : { context: { detail: context, timings: [...new Set(timings as ContextTiming[])] } }),
    parties: exposedFields.parties === true,
    media: exposedFields.media === true,
    content: flagsSet(exposedFields.content, CONTENT_FIELDS),
    interaction: flagsSet(exposedFields.interaction, INTERACTION_FIELDS),
    publicComments: isObject(exposedFields.collaboration) && exposedFields.collaboration.publicComments === true,
  };
}

function flagsSet<T extends string>(flags: unknown, names: readonly T[]): ReadonlySet<T> {
  return new Set(isObject(flags) ? names.filter((name) => flags[name] === true) : []);
}
