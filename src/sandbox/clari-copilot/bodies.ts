import { badRequest } from '../kit/errors.js';
import { booleanField, dateTimeField, numberField, objectField, stringField, stringListField } from '../kit/request.js';
import type { CrmObject } from './crm.js';
import type { ApiRecord } from './directory.js';

/**
 * The request bodies of Clari Copilot's write endpoints, checked against their schemas (Clari Copilot
 * OpenAPI, `AccountWithoutId`, `ContactWithoutId`, `DealWithoutId`, and POST /create-call). A field of
 * the wrong type is a 400 naming it; fields a schema does not define are dropped, as the read
 * endpoints ignore parameters they do not define.
 */

type Scalar = 'string' | 'strings' | 'boolean' | 'number' | 'date-time';
/** A field's type: a scalar, an array of objects with these fields, or one such object. */
type FieldType = Scalar | { items: Schema } | { object: Schema };
type Schema = Readonly<Record<string, FieldType>>;

/** Clari Copilot OpenAPI `CustomField`. */
const CUSTOM_FIELDS: FieldType = { items: { key: 'string', value: 'string' } };

/** The `…WithoutId` schemas, properties in the document's order (the order answers list them in). */
const CRM_SCHEMAS: Readonly<Record<CrmObject, Schema>> = {
  account: {
    crm_id: 'string',
    name: 'string',
    phones: 'strings',
    description: 'string',
    website: 'string',
    address: 'string',
    city: 'string',
    state: 'string',
    country: 'string',
    zip: 'string',
    custom_fields: CUSTOM_FIELDS,
  },
  contact: {
    crm_id: 'string',
    account_crm_id: 'string',
    first_name: 'string',
    last_name: 'string',
    job_title: 'string',
    phones: 'strings',
    stage: 'string',
    reason: 'string',
    emails: 'strings',
    is_lead: 'boolean',
    custom_fields: CUSTOM_FIELDS,
  },
  deal: {
    crm_id: 'string',
    owner_crm_id: 'string',
    deal_name: 'string',
    amount: 'string',
    close_date: 'date-time',
    created_date: 'date-time',
    last_contacted: 'date-time',
    next_call_date: 'date-time',
    stage: 'string',
    probability: 'string',
    forecast_category: 'string',
    account_crm_id: 'string',
    // StageChangeHistory, CloseDateChangeHistory.
    stage_change_history: { items: { stage: 'string', prev_stage: 'string', date_changed: 'date-time' } },
    close_date_change_history: { items: { close_date: 'date-time', prev_close_date: 'date-time', date_changed: 'date-time' } },
    custom_fields: CUSTOM_FIELDS,
    deal_reason: 'string',
  },
};

/** The body of POST /create-call. */
const CREATE_CALL_SCHEMA: Schema = {
  source_id: 'string',
  force_overwrite_old_call: 'boolean',
  stereo_to_mono: 'boolean',
  title: 'string',
  type: 'string',
  call_time: 'date-time',
  user_emails: 'strings',
  source_user_ids: 'strings',
  other_phone: 'strings',
  other_email: 'strings',
  other_name: 'strings',
  audio_url: 'string',
  audio_format: 'string',
  header_key: 'strings',
  header_value: 'strings',
  // ExternalTranscript, ExternalSpeakers, ExtConversationTurns.
  external_transcript: {
    object: {
      external_speakers: { items: { person_id: 'string', name: 'string', email_id: 'string' } },
      ext_conversation_turns: { items: { person_id: 'string', text: 'string', start: 'number', end: 'number' } },
    },
  },
};

/** Clari Copilot OpenAPI `APICallType`: the types a created call may have. */
export const API_CALL_TYPES = ['RECORDING', 'VENDASTA', 'KNOWLARITY', 'CALL_HIPPO', 'RINGOVER'] as const;

/** An account, contact or deal body: the `…WithoutId` fields, with `id` first where the schema (`Account`, …) has it. */
export function crmFields(object: CrmObject, body: Readonly<ApiRecord>, withId: boolean): ApiRecord {
  return read(withId ? { id: 'string', ...CRM_SCHEMAS[object] } : CRM_SCHEMAS[object], body, '');
}

/** An account, contact or deal with its keys in the schema's order, `id` first: how a merged update is answered. */
export function inSchemaOrder(object: CrmObject, record: Readonly<ApiRecord>): ApiRecord {
  return Object.fromEntries(['id', ...Object.keys(CRM_SCHEMAS[object])].filter((key) => key in record).map((key) => [key, record[key]]));
}

/**
 * A create-call body. Checks beyond the types, from the fields' descriptions: `type` is an
 * `APICallType`; "Number of phone, email, name should be same" for the external participants; a
 * transcript turn's person "should also be a part of external_speakers".
 */
export function callFields(body: Readonly<ApiRecord>): ApiRecord {
  const fields = read(CREATE_CALL_SCHEMA, body, '');
  if (!(API_CALL_TYPES as readonly unknown[]).includes(fields.type)) throw badRequest(`type: must be one of ${API_CALL_TYPES.join(', ')}, got '${String(fields.type)}'`);
  const lengths = (['other_phone', 'other_email', 'other_name'] as const).map((name) => (fields[name] as string[] | undefined)?.length ?? 0);
  if (new Set(lengths).size > 1) throw badRequest(`other_phone, other_email and other_name must have the same length, got ${lengths.join(', ')}`);
  const transcript = fields.external_transcript as { external_speakers?: ApiRecord[]; ext_conversation_turns?: ApiRecord[] } | undefined;
  const speakers = new Set(transcript?.external_speakers?.map((speaker) => speaker.person_id));
  transcript?.ext_conversation_turns?.forEach((turn, i) => {
    if (!speakers.has(turn.person_id)) throw badRequest(`external_transcript.ext_conversation_turns[${i}].person_id: '${String(turn.person_id)}' is not one of external_speakers`);
  });
  return fields;
}

/** The schema's fields present in `body` (null counts as absent), each checked, in the schema's order. */
function read(schema: Schema, body: Readonly<ApiRecord>, prefix: string): ApiRecord {
  const fields: ApiRecord = {};
  for (const [name, type] of Object.entries(schema)) {
    const value = field(`${prefix}${name}`, type, body[name]);
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

function field(name: string, type: FieldType, value: unknown): unknown {
  if (typeof type === 'object') {
    if ('object' in type) {
      const object = objectField(name, value);
      return object && read(type.object, object, `${name}.`);
    }
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw badRequest(`${name}: must be an array`);
    return value.map((item, i) => {
      const object = objectField(`${name}[${i}]`, item);
      if (!object) throw badRequest(`${name}[${i}]: must be an object`);
      return read(type.items, object, `${name}[${i}].`);
    });
  }
  switch (type) {
    case 'string':
      return stringField(name, value);
    case 'strings':
      return stringListField(name, value);
    case 'boolean':
      return booleanField(name, value);
    case 'number':
      return numberField(name, value);
    case 'date-time':
      return dateTimeField(name, value);
  }
}
