import { DateTime, Duration } from 'luxon';
import { digitString, hashParts, intBetween, pick, rngFor, uuid, type Random } from '../random.js';
import type { ApiRecord, ClariUser, Directory, Topic } from './directory.js';
import type { CallProfile, CallTimeline } from './timeline.js';
import {
  ACTION_ITEMS,
  DEAL_KINDS,
  DEAL_STAGES,
  INTERNAL_MEETINGS,
  MEETING_PURPOSES,
  PROSPECT_LINES,
  RENAMED_SUFFIXES,
  REP_LINES,
  SENTIMENTS,
  type CallStatus,
} from './vocabulary.js';

export interface MediaOptions {
  /** `includeAudio` / `includeVideo`: add signed recording URLs (CLARI-OAS: valid for 4 hours). */
  audio?: boolean;
  video?: boolean;
}

/** One call as it stands at one moment. */
interface CallState {
  index: number;
  id: string;
  profile: CallProfile;
  timeMs: number;
  status: CallStatus;
  lastModifiedMs: number;
  /** Reached its last status. */
  isSettled: boolean;
  /** PROCESSED or later: metrics, recording and transcript exist. */
  isProcessed: boolean;
  /** Someone joined (the bot saw the meeting start, or a dialer call happened). */
  isJoined: boolean;
  /** How many silent edits have happened: they change fields but not `last_modified_time`. */
  edits: number;
  nowMs: number;
}

interface Person {
  personId: number;
  name: string;
  email?: string;
  phone?: string;
  user?: ClariUser;
  joins: boolean;
}

export interface Deal {
  name: string;
  value: string;
  startMs: number;
  stageMs: number;
  crmId: string;
}

const SIGNED_URL_LIFETIME = Duration.fromObject({ hours: 4 });
const HOUR_MS = Duration.fromObject({ hours: 1 }).as('milliseconds');
const DAY_MS = Duration.fromObject({ days: 1 }).as('milliseconds');
const ID_MASK = (1n << 48n) - 1n;
/** Odd, so multiplying by it is a bijection on 48-bit numbers; its inverse turns an id back into an index. */
const ID_MULTIPLIER = 0x9e3779b97f4bn;
const ID_INVERSE = modularInverse(ID_MULTIPLIER);

/**
 * Builds `/calls` and `/call-details` records as pure functions of (seed, index, clock). Like the
 * real API (docs/sources.md#clari-copilot-records: AMP's calls.json fixture) a key whose value would be null or not applicable
 * is left out, except `audio_url`/`video_url`, which the fixture shows as null unless requested.
 */
export class CallFactory {
  private readonly idSalt: bigint;

  constructor(
    private readonly seed: number,
    private readonly timeline: CallTimeline,
    private readonly directory: Directory,
  ) {
    this.idSalt = BigInt(hashParts(seed, 'clari-copilot', 'id-salt')) * 0x10000n + BigInt(hashParts(seed, 'clari-copilot', 'id-salt-low') & 0xffff);
  }

  /** A v4-shaped UUID whose first 48 bits are the index, mixed and salted, so `indexOf` needs no lookup table. */
  id(index: number): string {
    const head = (((BigInt(index) * ID_MULTIPLIER) & ID_MASK) ^ this.idSalt).toString(16).padStart(12, '0');
    const tail = uuid(this.random('id', index));
    return `${head.slice(0, 8)}-${head.slice(8)}-${tail.slice(14)}`;
  }

  indexOf(id: string): number | undefined {
    const match = /^([0-9a-f]{8})-([0-9a-f]{4})-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.exec(id);
    if (!match) return undefined;
    const index = Number(((BigInt(`0x${match[1]}${match[2]}`) ^ this.idSalt) * ID_INVERSE) & ID_MASK);
    return this.id(index) === id ? index : undefined;
  }

  /** When the call's silent edits happen: after its last status change, zero to two of them. */
  editTimes(index: number): number[] {
    const profile = this.timeline.profileOf(index);
    if (!profile.isRecorded) return [];
    const random = this.random('edits', index);
    const draw = random();
    const count = draw < 0.4 ? 0 : draw < 0.75 ? 1 : 2;
    const times: number[] = [];
    let at = this.timeline.timeOf(index) + profile.steps.at(-1)!.offsetMs;
    for (let edit = 0; edit < count; edit++) {
      at += intBetween(random, 2 * HOUR_MS, (edit === 0 ? 5 : 10) * DAY_MS);
      times.push(at);
    }
    return times;
  }

  /** The call at `nowMs`, or undefined while it does not exist yet. */
  private state(index: number, nowMs: number): CallState | undefined {
    const step = this.timeline.stepAt(index, nowMs);
    if (step < 0) return undefined;
    const profile = this.timeline.profileOf(index);
    const timeMs = this.timeline.timeOf(index);
    const passed = profile.steps.slice(0, step + 1);
    return {
      index,
      id: this.id(index),
      profile,
      timeMs,
      status: passed.at(-1)!.status,
      lastModifiedMs: timeMs + passed.at(-1)!.offsetMs,
      isSettled: step === profile.steps.length - 1,
      isProcessed: passed.some((s) => s.status === 'PROCESSED'),
      isJoined: profile.kind === 'dialer' || passed.some((s) => s.status === 'INPROGRESS'),
      edits: this.editTimes(index).filter((ms) => ms <= nowMs).length,
      nowMs,
    };
  }

  exists(index: number, nowMs: number): boolean {
    return this.timeline.stepAt(index, nowMs) >= 0;
  }

  /** The recording user who hosts the call. */
  hostOf(index: number): ClariUser {
    return this.people(index).people[0]!.user!;
  }

  /** A `/calls` record. The call must exist at `nowMs`. */
  record(index: number, nowMs: number, media: MediaOptions = {}): ApiRecord {
    return this.build(this.existing(index, nowMs), media).record;
  }

  /** A `/call-details` record: every Call field plus the live deal stage, transcript, summary and competitor sentiments. */
  details(index: number, nowMs: number, media: MediaOptions = {}): ApiRecord {
    const call = this.existing(index, nowMs);
    const { record, people, deal, categories } = this.build(call, media);
    return compact({
      ...record,
      deal_stage_live: deal ? DEAL_STAGES[stageAt(deal, nowMs)] : undefined,
      transcript: call.isProcessed ? this.transcript(call, people, categories) : undefined,
      summary: call.isProcessed ? this.summary(call, people, categories) : undefined,
      competitor_sentiments: call.isProcessed ? this.competitorSentiments(call, people, categories) : undefined,
    });
  }

  private existing(index: number, nowMs: number): CallState {
    const call = this.state(index, nowMs);
    if (!call) throw new RangeError(`call ${index} does not exist yet at ${iso(nowMs)}`);
    return call;
  }

  private build(call: CallState, media: MediaOptions) {
    const { profile, index } = call;
    const { people, company } = this.people(index);
    const users = people.filter((person) => person.user);
    const prospects = people.filter((person) => !person.user);
    // One generator per group of fields, so fields that appear later in a call's life never shift the others.
    const identifiers = this.random('identifiers', index);
    const dealRandom = this.random('deal', index);
    const candidate = company && dealRandom() < 0.65 ? this.deal(company, dealRandom) : undefined;
    // Calls happen on open deals; once a deal is won its calls carry no deal fields.
    const deal = candidate && stageAt(candidate, call.timeMs) < DEAL_STAGES.length - 1 ? candidate : undefined;
    const categories = call.isProcessed ? this.categories(call, people) : [];
    const isRecurring = profile.isMeeting && identifiers() < 0.25;
    const bookmarks = this.random('bookmarks', index);
    const signed = (kind: 'audio' | 'video') => (call.isProcessed ? this.signedUrl(call.id, kind, call.nowMs) : null);

    const record = compact({
      id: call.id,
      source_id: profile.isMeeting ? undefined : profile.type === 'RECORDING' ? `upload-${digitString(identifiers, 10)}` : digitString(identifiers, 12),
      title: this.title(call, people, company),
      users: users.map((person) => ({ userId: person.user!.id, userEmail: person.user!.email, isOrganizer: profile.isMeeting && person.personId === 0, personId: person.personId })),
      externalParticipants: prospects.map((person) => compact({ name: person.name, email: person.email, phone: person.phone, personId: person.personId })),
      joinedParticipants: call.isJoined ? people.filter((person) => person.joins).map((person) => compact({ name: person.name, email: person.email, personId: person.personId })) : [],
      status: call.status,
      bot_not_join_reason: call.isSettled && profile.botNotJoinReason ? [profile.botNotJoinReason] : [],
      type: profile.type,
      time: iso(call.timeMs),
      icaluid: icalUid(profile, identifiers),
      calendar_id: profile.isMeeting ? uuid(identifiers) : undefined,
      recurring_event_id: isRecurring ? hex(identifiers, 26) : undefined,
      original_start_time: isRecurring ? iso(call.timeMs) : undefined,
      last_modified_time: iso(call.lastModifiedMs),
      audio_url: media.audio ? signed('audio') : null,
      video_url: media.video && profile.isMeeting ? signed('video') : null,
      disposition: call.isSettled ? profile.disposition : 'UNKNOWN_CALL_DISPOSITION',
      deal_name: deal?.name,
      deal_value: deal?.value,
      deal_close_date: deal ? iso(deal.startMs + (DEAL_STAGES.length - 1) * deal.stageMs) : undefined,
      // A CRM sync (the first silent edit) corrects the stage recorded when the call was made.
      deal_stage_before_call: deal ? DEAL_STAGES[stageAt(deal, call.timeMs - (call.edits >= 1 ? 0 : deal.stageMs))] : undefined,
      account_name: deal ? company : undefined,
      contact_names: deal ? prospects.map((person) => person.name) : undefined,
      crm_info: deal ? { source_crm: this.directory.crm, deal_id: deal.crmId, account_id: this.crmId('account', company!), contact_ids: prospects.map((person) => this.crmId('contact', person.email ?? person.name)) } : undefined,
      bookmark_timestamps: call.isProcessed && bookmarks() < 0.3 ? [iso(call.timeMs + Math.floor(bookmarks() * profile.durationMs))] : undefined,
      metrics: this.metrics(call, categories),
      call_review_page_url: `https://copilot.clari.com/call/${call.id}`,
    });
    return { record, people, deal, categories };
  }

  /**
   * The host first (personId 0), then colleagues, then prospects: a meeting invites 1–3 of them (none
   * when internal), a dialer call dials one. Who joins is drawn up front; it shows once the call starts.
   */
  private people(index: number): { people: Person[]; company?: string } {
    const profile = this.timeline.profileOf(index);
    const random = this.random('people', index);
    const { recorders, users } = this.directory;
    const host = pick(random, recorders);
    const others = users.filter((user) => user !== host);
    const isInternal = profile.isMeeting && random() < 0.2;
    const colleagueCount = profile.isMeeting ? intBetween(random, isInternal ? 1 : 0, 2) : 0;
    const colleagues = [...new Set(Array.from({ length: colleagueCount }, () => pick(random, others)))];
    const people: Person[] = [host, ...colleagues].map((user, personId) => ({ personId, name: user.name, email: user.email, user, joins: true }));
    if (isInternal) return { people };
    const company = this.directory.prospectCompany(random);
    const prospectCount = profile.isMeeting ? intBetween(random, 1, 3) : 1;
    for (let n = 0; n < prospectCount; n++) {
      const { name, email } = this.directory.prospect(random, company);
      const contact = profile.isMeeting ? { email } : random() < 0.7 ? { email, phone: phone(random) } : { phone: phone(random) };
      people.push({ personId: people.length, name, ...contact, joins: n === 0 || random() < 0.85 });
    }
    return { people, company };
  }

  private title(call: CallState, people: Person[], company: string | undefined): string {
    const random = this.random('title', call.index);
    const prospect = people.find((person) => !person.user);
    const base = !call.profile.isMeeting
      ? `Call with ${prospect?.name ?? 'prospect'}`
      : company
        ? `${this.directory.company} <> ${company} | ${pick(random, MEETING_PURPOSES)}`
        : pick(random, INTERNAL_MEETINGS);
    return call.edits >= 1 ? `${base} ${pick(random, RENAMED_SUFFIXES)}` : base;
  }

  private deal(company: string, random: Random): Deal {
    return this.dealOf(company, pick(random, DEAL_KINDS));
  }

  /** Deals are shared by every call with the same company and deal kind, as one CRM deal would be. */
  dealOf(company: string, kind: string): Deal {
    const dealRandom = rngFor(this.seed, 'clari-copilot', 'deal', company, kind);
    return {
      name: `${company} - ${kind}`,
      value: String(intBetween(dealRandom, 5, 250) * 1000),
      startMs: this.timeline.startMs + intBetween(dealRandom, -60, 90) * DAY_MS,
      stageMs: intBetween(dealRandom, 10, 30) * DAY_MS,
      crmId: this.crmId('deal', `${company}/${kind}`),
    };
  }

  /** Salesforce 18-character ids with the object's key prefix, or HubSpot numeric ids. */
  crmId(object: 'deal' | 'account' | 'contact' | 'user', name: string): string {
    const random = rngFor(this.seed, 'clari-copilot', 'crm', object, name);
    if (this.directory.crm === 'HUBSPOT') return digitString(random, 11);
    const prefix = { deal: '006', account: '001', contact: '003', user: '005' }[object];
    return prefix + Array.from({ length: 15 }, () => pick(random, [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'])).join('');
  }

  /** Topics detected in the call; the second silent edit adds one the AI detected on a re-run. */
  private categories(call: CallState, people: Person[]): ApiRecord[] {
    const random = this.random('categories', call.index);
    const topics = new Set<Topic>(Array.from({ length: intBetween(random, 0, 3) }, () => this.directory.pickTopic(random, call.timeMs)));
    if (call.edits >= 2) topics.add(this.directory.pickTopic(this.random('redetected', call.index), call.timeMs));
    const durationS = Math.round(call.profile.durationMs / 1000);
    return [...topics].map((topic) => {
      const isKeyword = topic.definition.type === 'KEYWORD';
      const matches = Array.from({ length: intBetween(random, 1, 3) }, () => {
        const speaker = pick(random, people);
        const text = isKeyword ? pick(random, topic.trackers) : fill(pick(random, PROSPECT_LINES), 'the rollout');
        return compact({ text, user_id: speaker.user?.id, name: speaker.name, time: round2(random() * durationS) });
      });
      return { name: topic.definition.name, occurences: matches.length, phrases_matched: matches, ai_detected: !isKeyword };
    });
  }

  private metrics(call: CallState, categories: ApiRecord[]): ApiRecord {
    if (!call.isProcessed) return unmeasuredMetrics();
    const random = this.random('metrics', call.index);
    const callDuration = Math.round((call.profile.durationMs / 1000) * (0.85 + 0.15 * random()));
    const speaking = round2(callDuration * (0.6 + 0.35 * random()));
    const monologue = round2(Math.min(speaking, 15 + 150 * random()));
    const questions = intBetween(random, 2, 25);
    const byReps = intBetween(random, 1, questions);
    return {
      talk_listen_ratio: round2(0.25 + 0.5 * random()),
      num_questions_asked: questions,
      num_questions_asked_by_reps: byReps,
      call_duration: callDuration,
      total_speak_duration: speaking,
      longest_monologue_duration: monologue,
      longest_monologue_start_time: round2(random() * Math.max(0, callDuration - monologue)),
      engaging_questions: intBetween(random, 0, byReps),
      categories,
    };
  }

  private transcript(call: CallState, people: Person[], categories: ApiRecord[]): ApiRecord[] {
    const random = this.random('transcript', call.index);
    const durationS = call.profile.durationMs / 1000;
    const turns = Math.min(30, Math.max(4, Math.floor(durationS / 40)));
    const slot = durationS / turns;
    const trackers = this.directory.topics.filter((topic) => categories.some((c) => c.name === topic.definition.name) && topic.trackers.length > 0);
    const speakers = people.filter((person) => person.joins);
    return Array.from({ length: turns }, (_, turn) => {
      const speaker = speakers[turn % speakers.length]!;
      const line = pick(random, speaker.user ? REP_LINES : PROSPECT_LINES);
      const tracker = trackers.length > 0 ? pick(random, trackers) : undefined;
      const phrase = tracker ? pick(random, tracker.trackers) : 'the rollout';
      const text = fill(line, phrase);
      const annotations: ApiRecord[] = [];
      if (tracker && line.includes('{phrase}')) annotations.push({ tracker: tracker.definition.name, phrase, category: tracker.definition.type });
      if (text.endsWith('?')) annotations.push({ label: 'QUESTION', phrase: text });
      const start = round2(turn * slot + random() * slot * 0.1);
      return { text, start, end: round2(Math.max(start + 1, (turn + 1) * slot - random() * slot * 0.2)), personId: speaker.personId, annotations };
    });
  }

  private summary(call: CallState, people: Person[], categories: ApiRecord[]): ApiRecord {
    const random = this.random('summary', call.index);
    const durationS = call.profile.durationMs / 1000;
    const host = people[0]!;
    const names = categories.map((category) => String(category.name));
    const span = () => {
      const from = random() * durationS * 0.8;
      return { start_timestamp: clock(from), end_timestamp: clock(from + random() * durationS * 0.2) };
    };
    return {
      full_summary: `${host.name} met ${people.length - 1} other participant(s)${names.length > 0 ? ` and discussed ${names.join(', ')}` : ''}.`,
      topics_discussed: names.map((name) => ({ name, ...span(), summary: `The participants talked about ${name.toLowerCase()}.` })),
      key_action_items: Array.from({ length: intBetween(random, 1, 2) }, () => ({ action_item: pick(random, ACTION_ITEMS), speaker_name: host.name, ...span() })),
    };
  }

  private competitorSentiments(call: CallState, people: Person[], categories: ApiRecord[]): ApiRecord[] {
    const random = this.random('competitors', call.index);
    const prospects = people.filter((person) => !person.user);
    if (prospects.length === 0 || !categories.some((category) => category.name === 'Competitors')) return [];
    return [
      {
        competitor_name: pick(random, this.directory.competitors),
        sentiment: pick(random, SENTIMENTS),
        reasoning: 'The prospect compared onboarding effort and pricing.',
        personId: String(pick(random, prospects).personId),
        turn_start_time: clock(random() * (call.profile.durationMs / 1000)),
      },
    ];
  }

  /** S3-style presigned URL of a call's recording that expires 4 hours after the request at `nowMs` (CLARI-OAS `includeAudio`). */
  signedUrl(callId: string, kind: 'audio' | 'video', nowMs: number): string {
    const expires = Math.floor(DateTime.fromMillis(nowMs).plus(SIGNED_URL_LIFETIME).toSeconds());
    const signature = hex(rngFor(this.seed, 'clari-copilot', 'signature', callId, kind, expires), 64);
    return `https://recordings.copilot.clari.com/${callId}/${kind}.${kind === 'audio' ? 'mp3' : 'mp4'}?Expires=${expires}&Signature=${signature}`;
  }

  private random(part: string, index: number): Random {
    return rngFor(this.seed, 'clari-copilot', 'call', part, index);
  }
}

/** Google Calendar and Outlook carry an iCalendar UID; Zoom and GoTo meetings in the fixture do not. */
function icalUid(profile: CallProfile, random: Random): string | undefined {
  if (profile.type === 'GOOGLE_MEET') return `${hex(random, 26)}@google.com`;
  if (profile.type === 'MS_TEAMS') return `040000008200E00074C5B7101A82E008${hex(random, 40).toUpperCase()}`;
  return undefined;
}

export function stageAt(deal: Deal, ms: number): number {
  return Math.min(DEAL_STAGES.length - 1, Math.max(0, Math.floor((ms - deal.startMs) / deal.stageMs)));
}

/** The metrics of a call nothing has measured: zero, as the NO_DATA_INCALL call of the calls.json fixture shows. */
export function unmeasuredMetrics(): ApiRecord {
  return { talk_listen_ratio: 0, num_questions_asked: 0, num_questions_asked_by_reps: 0, call_duration: 0, total_speak_duration: 0, longest_monologue_duration: 0, longest_monologue_start_time: 0, engaging_questions: 0, categories: [] };
}

/** Drops keys whose value is undefined, keeping the order of the rest. */
export function compact(record: Record<string, unknown>): ApiRecord {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

export function iso(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISO()!;
}

function clock(seconds: number): string {
  return Duration.fromObject({ seconds: Math.floor(seconds) }).toFormat('hh:mm:ss');
}

function fill(line: string, phrase: string): string {
  return line.replace('{phrase}', phrase);
}

function hex(random: Random, length: number): string {
  return Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
}

export function phone(random: Random): string {
  return `+1555${digitString(random, 7)}`;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Newton's iteration doubles the correct low bits each round: 3 → 6 → 12 → 24 → 48. */
function modularInverse(odd: bigint): bigint {
  let inverse = odd;
  for (let round = 0; round < 5; round++) inverse = (inverse * (2n - odd * inverse)) & ID_MASK;
  return inverse;
}
