import { DateTime } from 'luxon';
import { compact, iso, unmeasuredMetrics, type CallFactory, type MediaOptions } from './calls.js';
import type { ApiRecord, ClariUser, Directory } from './directory.js';
import type { CallStatus } from './vocabulary.js';
import type { CreatedCall, WriteStore } from './writes.js';

/** A created call is served as processed: the status of the calls.json fixture's created calls. */
export const CREATED_CALL_STATUS: CallStatus = 'POST_PROCESSING_DONE';

/**
 * Clari Copilot OpenAPI, POST /create-call: "Call's video link can be passed in the audio_url field", and
 * `audio_format`, when left out, "will be infered from audio_url extension". These formats are video.
 */
const VIDEO_FORMATS = new Set(['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi']);

/** A created call's time and `last_modified_time` (ms), which `/calls` filters and sorts on. */
export interface CreatedCallTimes {
  timeMs: number;
  modifiedMs: number;
}

/** An external participant of a created call, as `/calls` lists it (`CallParticipant`). */
interface Participant {
  name?: string;
  email?: string;
  phone?: string;
  personId: number;
}

/**
 * The `/calls` and `/call-details` records of calls made through POST /create-call (Clari Copilot
 * OpenAPI), built from the body accepted last for the call when they are served. The fields the body
 * gives are mapped onto the `Call` schema the way the API shows created calls (AMP's calls.json
 * fixture, docs/sources.md#clari-copilot-records: type `RECORDING`, the `source_id` kept, users with
 * `isOrganizer` false, no invited or joined attendees of a calendar, status `POST_PROCESSING_DONE`).
 * The sandbox does not transcribe the recording: metrics stay zero and there is no summary; a
 * transcript sent as `external_transcript` is what `/call-details` shows.
 *
 * Clari links a call to CRM records through its participants; here an external participant's email
 * that a written contact lists links the call to that contact, the first such contact's account and
 * that account's deal written last. The link is read when the call is served, so CRM writes made after
 * the call show on it, without moving its `last_modified_time`, which only status changes move.
 */
export class CreatedCallRecords {
  constructor(
    private readonly directory: Directory,
    private readonly calls: CallFactory,
    private readonly writes: WriteStore,
  ) {}

  times(call: CreatedCall): CreatedCallTimes {
    return { timeMs: instantOf(call.fields.call_time as string), modifiedMs: instantOf(call.written_at) };
  }

  /**
   * The workspace's users a create-call body names, by email (`user_emails`, ignoring case) and then by
   * source id (`source_user_ids`), each once. A user's source id is taken to be their CRM user id (the
   * `owner_crm_id` deals carry): the sandbox's users have no other. Names of no user are dropped.
   */
  usersNamed(fields: Readonly<ApiRecord>): ClariUser[] {
    const { users } = this.directory;
    const byEmail = ((fields.user_emails as string[] | undefined) ?? []).map((email) => users.find((user) => user.email.toLowerCase() === email.toLowerCase()));
    const bySourceId = ((fields.source_user_ids as string[] | undefined) ?? []).map((id) => users.find((user) => this.calls.crmId('user', user.email) === id));
    return [...new Set([...byEmail, ...bySourceId].filter((user): user is ClariUser => user !== undefined))];
  }

  /** The `/calls` record. */
  record(call: CreatedCall, nowMs: number, media: MediaOptions = {}): ApiRecord {
    return this.build(call, nowMs, media).record;
  }

  /** The `/call-details` record: the `/calls` record, the linked deal's stage now, and the external transcript if one was sent. */
  details(call: CreatedCall, nowMs: number, media: MediaOptions = {}): ApiRecord {
    const { record, deal, users, participants } = this.build(call, nowMs, media);
    return compact({ ...record, deal_stage_live: deal?.stage, transcript: transcriptOf(call.fields, users, participants) });
  }

  private build(call: CreatedCall, nowMs: number, media: MediaOptions) {
    const { fields } = call;
    const { timeMs, modifiedMs } = this.times(call);
    const users = this.usersNamed(fields);
    const participants = participantsOf(fields, users.length);
    const { link, deal } = this.crmLink(participants, timeMs, nowMs);
    const record = compact({
      id: call.call_id,
      source_id: call.source_id,
      title: (fields.title as string | undefined) || defaultTitle(users, participants),
      users: users.map((user, personId) => ({ userId: user.id, userEmail: user.email, isOrganizer: false, personId })),
      externalParticipants: participants.map((participant) => compact({ ...participant })),
      joinedParticipants: [],
      status: CREATED_CALL_STATUS,
      bot_not_join_reason: [],
      type: fields.type,
      time: iso(timeMs),
      last_modified_time: iso(modifiedMs),
      audio_url: media.audio ? this.calls.signedUrl(call.call_id, 'audio', nowMs) : null,
      video_url: media.video && isVideo(fields) ? this.calls.signedUrl(call.call_id, 'video', nowMs) : null,
      // The fixture's created calls without external participants show this disposition; with some, nothing measured the call.
      disposition: participants.length === 0 ? 'CALL_DID_NOT_CONNECT_WITH_PROSPECT' : 'UNKNOWN_CALL_DISPOSITION',
      ...link,
      metrics: unmeasuredMetrics(),
      call_review_page_url: `https://copilot.clari.com/call/${call.call_id}`,
    });
    return { record, deal, users, participants };
  }

  /** The CRM fields of a call whose participants' emails are those of written contacts; none when no email is. */
  private crmLink(participants: readonly Participant[], timeMs: number, nowMs: number): { link: ApiRecord; deal?: ApiRecord } {
    const contacts = new Map<string, ApiRecord>();
    for (const participant of participants) {
      if (participant.email === undefined) continue;
      for (const contact of this.writes.contactsWithEmail(participant.email)) if (!contacts.has(contact.crm_id as string)) contacts.set(contact.crm_id as string, contact);
    }
    if (contacts.size === 0) return { link: {} };
    const accountId = [...contacts.values()][0]!.account_crm_id as string | undefined;
    const deal = accountId === undefined ? undefined : this.writes.latestDealOf(accountId);
    const account = accountId === undefined ? undefined : this.writes.current('account', accountId, nowMs);
    const link = {
      deal_name: deal?.deal_name,
      deal_value: deal?.amount,
      deal_close_date: deal?.close_date === undefined ? undefined : iso(instantOf(deal.close_date as string)),
      deal_stage_before_call: deal && stageAt(deal, timeMs),
      account_name: account?.name,
      contact_names: [...contacts.values()].map((contact) => [contact.first_name, contact.last_name].filter(Boolean).join(' ')),
      crm_info: compact({ source_crm: this.directory.crm, deal_id: deal?.crm_id, account_id: accountId, contact_ids: [...contacts.keys()] }),
    };
    return deal ? { link, deal } : { link };
  }
}

/**
 * `other_name`, `other_email` and `other_phone` side by side (Clari Copilot OpenAPI, POST /create-call:
 * "Number of phone, email, name should be same"), numbered after the users; an empty string, as the
 * operation's example sends `other_phone=`, is no value.
 */
function participantsOf(fields: Readonly<ApiRecord>, firstPersonId: number): Participant[] {
  const column = (name: string) => (fields[name] as string[] | undefined) ?? [];
  const [names, emails, phones] = [column('other_name'), column('other_email'), column('other_phone')];
  return Array.from({ length: Math.max(names.length, emails.length, phones.length) }, (_, i) => ({
    ...(names[i] ? { name: names[i] } : {}),
    ...(emails[i] ? { email: emails[i] } : {}),
    ...(phones[i] ? { phone: phones[i] } : {}),
    personId: firstPersonId + i,
  }));
}

/** Clari Copilot OpenAPI, POST /create-call `title`: "if ignored, title will be user_name / {other_name/email/phone}". */
function defaultTitle(users: readonly ClariUser[], participants: readonly Participant[]): string {
  const other = participants[0] && (participants[0].name ?? participants[0].email ?? participants[0].phone);
  return [users[0]?.name, other].filter(Boolean).join(' / ');
}

/** Clari Copilot OpenAPI, POST /create-call `audio_format` and `audio_url`: the format given, else the URL's extension. */
function isVideo(fields: Readonly<ApiRecord>): boolean {
  const url = fields.audio_url as string;
  const path = URL.canParse(url) ? new URL(url).pathname : url;
  const format = (fields.audio_format as string | undefined) ?? /\.([a-z0-9]+)$/i.exec(path)?.[1] ?? '';
  return VIDEO_FORMATS.has(format.toLowerCase());
}

/**
 * `external_transcript` as `/call-details` shows a transcript: each turn of `ext_conversation_turns`,
 * spoken by the call's user or participant whose email (else name) the speaker of `external_speakers`
 * has; a speaker who is neither gets a person id after theirs. No annotations: no tracker ran on it.
 */
function transcriptOf(fields: Readonly<ApiRecord>, users: readonly ClariUser[], participants: readonly Participant[]): ApiRecord[] | undefined {
  const transcript = fields.external_transcript as { external_speakers?: ApiRecord[]; ext_conversation_turns?: ApiRecord[] } | undefined;
  if (!transcript?.ext_conversation_turns) return undefined;
  const people: Participant[] = [...users.map((user, personId) => ({ name: user.name, email: user.email, personId })), ...participants];
  const personIds = new Map<unknown, number>();
  let unknown = people.length;
  for (const speaker of transcript.external_speakers ?? []) {
    const email = (speaker.email_id as string | undefined)?.toLowerCase();
    const person = people.find((candidate) => email !== undefined && candidate.email?.toLowerCase() === email) ?? people.find((candidate) => speaker.name !== undefined && candidate.name === speaker.name);
    if (!personIds.has(speaker.person_id)) personIds.set(speaker.person_id, person?.personId ?? unknown++);
  }
  return transcript.ext_conversation_turns.map((turn) => compact({ text: turn.text, start: turn.start, end: turn.end, personId: personIds.get(turn.person_id), annotations: [] }));
}

/**
 * A written deal's stage at `timeMs`, from its `stage_change_history` (Clari Copilot OpenAPI,
 * `StageChangeHistory`): the stage the last change by then set, else the stage the first change left;
 * without history, its stage now.
 */
function stageAt(deal: ApiRecord, timeMs: number): string | undefined {
  const changes = ((deal.stage_change_history as ApiRecord[] | undefined) ?? [])
    .filter((change) => typeof change.date_changed === 'string')
    .map((change) => ({ stage: change.stage as string | undefined, previous: change.prev_stage as string | undefined, ms: instantOf(change.date_changed as string) }))
    .sort((a, b) => a.ms - b.ms);
  if (changes.length === 0) return deal.stage as string | undefined;
  const last = changes.findLast((change) => change.ms <= timeMs);
  return last ? last.stage : changes[0]!.previous;
}

/** An RFC 3339 date-time the write bodies were checked to hold (either case of `T` and `Z`), as epoch ms. */
function instantOf(text: string): number {
  return DateTime.fromISO(text.toUpperCase(), { zone: 'utc' }).toMillis();
}
