import type { ErrorObject } from 'ajv';
import { ajv } from '../../util/schema.js';
import { badRequest } from '../kit/errors.js';
import { dateTimeField, isObject } from '../kit/request.js';
import type { FormFile } from '../types.js';

/**
 * The request bodies of Gong's write endpoints, checked against the vendor's schemas
 * (gong-openapi.json, operation addCall: NewCallAddingRequest; operation addCallRecording: the
 * multipart `mediaFile`). Gong is a Java service: its 400s carry Bean Validation messages, as in
 * `"parties: must not be null"`, and the other checks here are worded the same way.
 */

/** A party of a new call (gong-openapi.json CallParticipant), as accepted. */
export interface NewCallParty {
  phoneNumber?: string;
  emailAddress?: string;
  name?: string;
  partyId?: string;
  mediaChannelId?: number;
  context?: unknown[];
  userId?: string;
}

/** A POST /v2/calls body as accepted: NewCallAddingRequest's fields that were given, nulls left out. */
export interface NewCall {
  clientUniqueId: string;
  title?: string;
  purpose?: string;
  scheduledStart?: string;
  scheduledEnd?: string;
  actualStart: string;
  duration?: number;
  parties: NewCallParty[];
  direction: string;
  disposition?: string;
  context?: unknown[];
  customData?: string;
  speakersTimeline?: { precise?: boolean; speechSegments?: Array<{ fromTime: number; toTime: number; partyIds: string[] }> };
  meetingUrl?: string;
  callProviderCode?: string;
  downloadMediaUrl?: string;
  workspaceId?: string;
  languageCode?: string;
  primaryUser: string;
}

/** Bean Validation's @NotNull message, which Gong sends for a missing required field. */
export const mustNotBeNull = (field: string): string => `${field}: must not be null`;

/** NewCallAddingRequest `required`, in the document's order; the kit answers the first one missing. */
export const NEW_CALL_REQUIRED = ['actualStart', 'clientUniqueId', 'direction', 'parties', 'primaryUser'] as const;

/** `int32` (CallParticipant.mediaChannelId, SpeechSegment times) and the `maxItems` the document gives `parties`. */
const INT32_MAX = 2_147_483_647;
const text = { type: 'string' };
const CRM_SYSTEMS = ['Salesforce', 'HubSpot', 'MicrosoftDynamic', 'Generic'];

/** CallUploadContext / PartyUploadContext: a CRM system and its objects (ExternalCrmCallObject / ExternalCrmPartyObject). */
function uploadContext(objectTypes: readonly string[]): object {
  return {
    type: 'array',
    items: {
      type: 'object',
      required: ['system'],
      properties: {
        system: { type: 'string', enum: CRM_SYSTEMS },
        objects: {
          type: 'array',
          items: {
            type: 'object',
            required: ['objectId', 'objectType'],
            properties: {
              objectType: { type: 'string', enum: objectTypes },
              objectId: text,
              // ContextField / CrmPartyContextField: `value` is typed `object`, i.e. any JSON value.
              fields: { type: 'array', items: { type: 'object', properties: { name: text, value: {} } } },
            },
          },
        },
      },
    },
  };
}

/** gong-openapi.json NewCallAddingRequest; the date-times are checked apart (RFC 3339, by the kit). */
const NEW_CALL_SCHEMA = {
  type: 'object',
  properties: {
    clientUniqueId: { type: 'string', maxLength: 2048 },
    title: text,
    purpose: { type: 'string', maxLength: 255 },
    scheduledStart: text,
    scheduledEnd: text,
    actualStart: text,
    duration: { type: 'number' },
    parties: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          phoneNumber: text,
          emailAddress: text,
          name: text,
          partyId: text,
          mediaChannelId: { type: 'integer', minimum: 0, maximum: 1 },
          context: uploadContext(['Lead', 'Contact', 'Account', 'Opportunity', 'User', 'Lead,Contact']),
          userId: text,
        },
      },
    },
    direction: { type: 'string', enum: ['Inbound', 'Outbound', 'Conference', 'Unknown'] },
    disposition: { type: 'string', maxLength: 255 },
    context: uploadContext(['Opportunity', 'Account', 'Lead', 'Contact', 'User', 'Opportunity,Account']),
    customData: text,
    speakersTimeline: {
      type: 'object',
      properties: {
        precise: { type: 'boolean' },
        speechSegments: {
          type: 'array',
          items: {
            type: 'object',
            required: ['fromTime', 'partyIds', 'toTime'],
            properties: {
              fromTime: { type: 'integer', minimum: 0, maximum: INT32_MAX },
              toTime: { type: 'integer', minimum: 0, maximum: INT32_MAX },
              partyIds: { type: 'array', items: text },
            },
          },
        },
      },
    },
    meetingUrl: text,
    callProviderCode: text,
    downloadMediaUrl: text,
    workspaceId: text,
    languageCode: text,
    primaryUser: text,
  },
} as const;

const validateNewCall = ajv.compile(NEW_CALL_SCHEMA);

/**
 * A POST /v2/calls body: NewCallAddingRequest's fields (others are dropped, as Gong's JSON reader
 * ignores unknown properties), null taken for absent at any depth. Beyond the schema, from the
 * fields' descriptions: each `partyIds` entry of the speakersTimeline names a party's `partyId`
 * ("The partyId is used to recognize the speakers within the provided speakersTimeline").
 */
export function newCallFields(body: Readonly<Record<string, unknown>>): NewCall {
  const given = withoutNulls(body) as Record<string, unknown>;
  const fields = Object.fromEntries(Object.keys(NEW_CALL_SCHEMA.properties).flatMap((name) => (name in given ? [[name, given[name]]] : [])));
  if (!validateNewCall(fields)) throw badRequest(gongMessage(validateNewCall.errors![0]!));
  for (const name of ['scheduledStart', 'scheduledEnd', 'actualStart']) dateTimeField(name, fields[name]);
  const call = fields as unknown as NewCall;
  const partyIds = new Set(call.parties.flatMap((party) => party.partyId ?? []));
  call.speakersTimeline?.speechSegments?.forEach((segment, i) => {
    for (const partyId of segment.partyIds) {
      if (!partyIds.has(partyId)) throw badRequest(`speakersTimeline.speechSegments[${i}].partyIds: '${partyId}' is the partyId of no party`);
    }
  });
  return call;
}

/** The `mediaFile` part of a PUT /v2/calls/{id}/media body, which the operation takes as multipart/form-data only: a file, not a text field. */
export function mediaFilePart(value: unknown, contentType: string | undefined): FormFile {
  if (!/^multipart\/form-data/i.test(contentType ?? '')) throw badRequest('The request body must be multipart/form-data');
  if (!isObject(value) || typeof value.sha256 !== 'string') throw badRequest('mediaFile: must be a file');
  return value as unknown as FormFile;
}

/** A JSON value without the null-valued properties of its objects, at every depth. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, item]) => (item === null ? [] : [[key, withoutNulls(item)]])));
}

const ARTICLES: Record<string, string> = { array: 'an array', integer: 'an integer', object: 'an object' };

/** One ajv error in Gong's wording: the field's dotted path (`parties[0].context`), a Bean Validation message. */
function gongMessage(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((step, i) => (/^\d+$/.test(step) ? `[${step}]` : i === 0 ? step : `.${step}`))
    .join('');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return mustNotBeNull([path, String(params.missingProperty)].filter(Boolean).join('.'));
    case 'type':
      return `${path}: must be ${ARTICLES[String(params.type)] ?? `a ${String(params.type)}`}`;
    case 'enum':
      return `${path}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    // Bean Validation @Size, with the document's bounds: strings from 0, `parties` up to int32.
    case 'maxLength':
      return `${path}: size must be between 0 and ${String(params.limit)}`;
    case 'minItems':
      return `${path}: size must be between ${String(params.limit)} and ${INT32_MAX}`;
    case 'minimum':
      return `${path}: must be greater than or equal to ${String(params.limit)}`;
    case 'maximum':
      return `${path}: must be less than or equal to ${String(params.limit)}`;
    default:
      return `${path}: ${error.message ?? 'is invalid'}`;
  }
}
