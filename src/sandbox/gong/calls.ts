import { DateTime } from 'luxon';
import { companyName, digitString, intBetween, personName, pick, rngFor, type Random } from '../random.js';
import { gongId, int64Id, isoInZone, type GongData, type GongRecord } from './data.js';
import type { ContentField, ContextTiming, InteractionField, SectionChoice } from './selector.js';

/** What every section of one call derives from; computed once per call. */
export interface CallFrame {
  index: number;
  id: string;
  startedMs: number;
  durationSeconds: number;
  zone: string;
  video: boolean;
  telephony: boolean;
  /** The prospect's company, on External calls. */
  customer?: { name: string; domain: string };
  primaryUserIndex: number;
  /** gong-openapi.json CallBasicData: the whole `/v2/calls` record and the extensive `metaData`. */
  metaData: GongRecord;
}

/** A participant before the selector decides whether its CRM context is shown. */
interface PartyDraft {
  fields: GongRecord;
  speakerId: string | null;
  userId?: string;
  crmContactId?: string;
}

// Gong API v2, POST /v2/calls/extensive (metaData enums) and the AMP webhook fixture (nulls for absent values).
const CONFERENCE_SYSTEMS: Record<string, string> = {
  Zoom: 'https://zoom.us/j/',
  'Google Meet': 'https://meet.google.com/',
  'Microsoft Teams': 'https://teams.microsoft.com/l/meetup-join/',
  Webex: 'https://meet.webex.com/meet/',
};
const DIALERS = ['Outreach', 'Salesloft', 'Aircall', 'RingCentral', 'ClearSlide'];
const DISPOSITIONS = ['Connected', 'No Answer', 'Left Voicemail', 'Got the gatekeeper', 'Meeting Booked'];
const PURPOSES = ['Discovery', 'Demo', 'Pricing review', 'Onboarding', 'Quarterly business review'];
const INTERNAL_TITLES = ['Weekly pipeline review', 'Deal review', 'Forecast call', '1:1'];
const LANGUAGES = ['spa', 'fre', 'ger', 'por'];
const EXTERNAL_TITLES = ['VP Operations', 'Head of IT', 'Procurement Manager', 'CFO', 'Director of Sales', 'Engineering Manager'];
const STAGES = ['Qualification', 'Discovery', 'Proposal', 'Negotiation', 'Closed Won'];
const INDUSTRIES = ['Software', 'Manufacturing', 'Retail', 'Healthcare', 'Financial Services'];
const STRUCTURE = ['Greeting', 'Agenda', 'Discovery', 'Demo', 'Q&A', 'Next Steps'];
/** Gong's call topics, in the order a call goes through them. */
export const CALL_TOPICS = ['Call Setup', 'Small Talk', 'Product Demo', 'Pricing', 'Objections', 'Next Steps', 'Wrap-Up'];
const ACTION_ITEMS = ['Send the pricing proposal', 'Book a technical deep dive', 'Share the security questionnaire', 'Loop in procurement', 'Follow up next week'];
const KEY_POINTS = ['The team struggles with manual reporting', 'Budget is approved for this quarter', 'Security review is required before signing', 'They evaluate two other vendors', 'Rollout would start with one region'];
const HIGHLIGHTS = ['Next steps', 'Pain points', 'Objections'];
const OUTCOMES = [
  { id: 'MEETING_BOOKED', category: 'Answered', name: 'Meeting booked' },
  { id: 'NOT_INTERESTED', category: 'Answered', name: 'Not interested' },
  { id: 'CALL_BACK_LATER', category: 'Answered', name: 'Call back later' },
  { id: 'NO_ANSWER', category: 'Not answered', name: 'No answer' },
  { id: 'LEFT_VOICEMAIL', category: 'Not answered', name: 'Left voicemail' },
];
const COMMENTS = ['Great discovery question here', 'We should follow up on this', 'Listen to how the objection was handled', 'Pricing came up early'];
const VIDEO_ACTIVITIES = ['Browser', 'Shared screen', 'Face time', 'Presentation'];
const MEDIA_URL_LIFETIME = { hours: 8 }; // Gong API v2, POST /v2/calls/extensive: media URLs are valid for 8 hours

/** The call's page in the Gong web application (gong-openapi.json CallBasicData.url, NewCallRecordingResponse.url). */
export function callUrl(data: GongData, callId: string): string {
  return `https://${data.company.appHost}/call?id=${callId}`;
}

export function callFrame(data: GongData, index: number): CallFrame {
  const random = rngFor(data.seed, 'gong', 'call', index);
  const { workspaceId, primaryUserIndex } = data.callOwnership(index);
  const id = data.callId(index);
  const startedMs = data.timeline.startedMs(index);
  const durationSeconds = data.timeline.durationSeconds(index);
  const zone = data.userZone(primaryUserIndex);
  const telephony = durationSeconds < 600 || random() < 0.25;
  const directionDraw = random();
  const direction = !telephony ? 'Conference' : directionDraw < 0.7 ? 'Outbound' : directionDraw < 0.95 ? 'Inbound' : 'Unknown';
  const scopeDraw = random();
  const scope = telephony || scopeDraw < 0.75 ? 'External' : scopeDraw < 0.95 ? 'Internal' : 'Unknown';
  const customer = scope === 'External' ? customerOf(random, data.company.name) : undefined;
  const system = telephony ? pick(random, DIALERS) : pick(random, Object.keys(CONFERENCE_SYSTEMS));
  const purpose = random() < 0.4 ? pick(random, PURPOSES) : null;
  // A meeting is scheduled on a five-minute mark and starts up to a few minutes late.
  const scheduledMs = telephony ? startedMs : Math.floor(startedMs / 300_000) * 300_000;
  const title = customer ? (telephony ? `${direction} call with ${customer.name}` : `${purpose ?? 'Meeting'}: ${data.company.name} <> ${customer.name}`) : pick(random, INTERNAL_TITLES);
  const metaData: GongRecord = {
    id,
    url: callUrl(data, id),
    title,
    scheduled: isoInZone(scheduledMs, zone),
    started: isoInZone(startedMs, zone),
    duration: durationSeconds,
    primaryUserId: data.userId(primaryUserIndex),
    direction,
    system,
    scope,
    media: telephony ? 'Audio' : 'Video',
    language: random() < 0.85 ? 'eng' : pick(random, LANGUAGES),
    workspaceId,
    sdrDisposition: telephony ? pick(random, DISPOSITIONS) : null,
    clientUniqueId: telephony ? `${system.toUpperCase()}-${digitString(random, 10)}` : null,
    customData: random() < 0.1 ? 'Imported by sandbox dialer' : null,
    purpose,
    meetingUrl: telephony ? null : `${CONFERENCE_SYSTEMS[system]}${digitString(random, 10)}`,
    isPrivate: random() < 0.04,
    calendarEventId: telephony ? null : `${digitString(random, 12)}@google.com`,
  };
  return { index, id, startedMs, durationSeconds, zone, video: !telephony, telephony, ...(customer ? { customer } : {}), primaryUserIndex, metaData };
}

/**
 * `POST /v2/calls/extensive` record: `metaData` plus each section the selector asks for
 * (Gong API v2, POST /v2/calls/extensive). Sections are drawn from their own generators, so a call reads the same
 * whatever else is selected. `requestMs` dates the 8-hour media URLs.
 */
export function callRecord(data: GongData, index: number, sections: SectionChoice, requestMs: number): GongRecord {
  const frame = callFrame(data, index);
  const record: GongRecord = { metaData: frame.metaData };
  if (sections.context) record.context = crmContext(data, frame, sections.context.detail, sections.context.timings);
  const needsParties = sections.parties || sections.content.size > 0 || sections.interaction.size > 0;
  const parties = needsParties ? callParties(data, frame) : [];
  const speakers = speakersOf(parties);
  if (sections.parties) record.parties = parties.map((party) => partyRecord(data, frame, party, sections.context));
  if (sections.content.size > 0) record.content = contentSection(data, frame, speakers, sections.content);
  if (sections.interaction.size > 0) record.interaction = interactionSection(data, frame, speakers, sections.interaction);
  if (sections.publicComments) record.collaboration = { publicComments: publicComments(data, frame) };
  if (sections.media) record.media = mediaUrls(data, frame.id, frame.index, frame.video, requestMs);
  return record;
}

/** Who took part; speakers carry the speaker ids the transcript and interaction stats refer to. */
export function callParties(data: GongData, frame: CallFrame): PartyDraft[] {
  const random = rngFor(data.seed, 'gong', 'call-parties', frame.index);
  const disposition = frame.metaData.sdrDisposition;
  // On an unanswered dial nobody speaks; on a voicemail only the rep does.
  const organizer = internalParty(data, random, frame.primaryUserIndex, frame.telephony ? ['Attendee'] : ['Invitee', 'Attendee'], disposition !== 'No Answer');
  const parties = [organizer];
  if (!frame.telephony) {
    for (let n = intBetween(random, 0, 2); n > 0; n--) {
      const userIndex = intBetween(random, 0, data.userCount - 1);
      if (userIndex !== frame.primaryUserIndex) parties.push(internalParty(data, random, userIndex, ['Invitee', 'Attendee'], random() < 0.7));
    }
  }
  if (!frame.customer) return parties;
  if (frame.telephony) {
    const answered = disposition !== 'No Answer' && disposition !== 'Left Voicemail';
    if (random() < 0.3) {
      // The AMP webhook fixture: an unidentified phone party has only a generic name and no e-mail.
      const fields = { id: gongId(random), name: `Phone Caller #${intBetween(random, 1, 9)}`, affiliation: 'Unknown', phoneNumber: `+1555${digitString(random, 7)}`, methods: ['Attendee'] };
      parties.push({ fields, speakerId: answered ? gongId(random) : null });
    } else {
      parties.push(externalParty(random, frame.customer, ['Attendee'], answered, true));
    }
    return parties;
  }
  for (let n = intBetween(random, 1, 4); n > 0; n--) {
    const attended = random() < 0.85;
    parties.push(externalParty(random, frame.customer, attended ? ['Invitee', 'Attendee'] : ['Invitee'], attended && random() < 0.9, false));
  }
  return parties;
}

export function speakersOf(parties: readonly PartyDraft[]): Array<{ speakerId: string; userId?: string }> {
  return parties.flatMap((party) => (party.speakerId === null ? [] : [{ speakerId: party.speakerId, ...(party.userId ? { userId: party.userId } : {}) }]));
}

function internalParty(data: GongData, random: Random, userIndex: number, methods: string[], speaks: boolean): PartyDraft {
  const user = data.user(userIndex);
  const userId = user.id as string;
  return {
    fields: { id: gongId(random), emailAddress: user.emailAddress, name: `${user.firstName} ${user.lastName}`, title: user.title, userId, affiliation: 'Internal', phoneNumber: user.phoneNumber, methods },
    speakerId: speaks ? gongId(random) : null,
    userId,
  };
}

function externalParty(random: Random, customer: { name: string; domain: string }, methods: string[], speaks: boolean, withPhone: boolean): PartyDraft {
  const { first, last } = personName(random);
  return {
    fields: {
      id: gongId(random),
      emailAddress: `${first}.${last}@${customer.domain}`.toLowerCase(),
      name: `${first} ${last}`,
      title: pick(random, EXTERNAL_TITLES),
      affiliation: 'External',
      ...(withPhone ? { phoneNumber: `+1555${digitString(random, 7)}` } : {}),
      methods,
    },
    speakerId: speaks ? gongId(random) : null,
    crmContactId: salesforceId(random, '003'),
  };
}

const PARTY_KEYS = ['id', 'emailAddress', 'name', 'title', 'userId', 'speakerId', 'context', 'affiliation', 'phoneNumber', 'methods'];

/** gong-openapi.json Party, keys in the spec's order; absent values are left out as in the AMP webhook fixture. */
function partyRecord(data: GongData, frame: CallFrame, party: PartyDraft, context: SectionChoice['context']): GongRecord {
  const contactId = party.crmContactId;
  const fields = [
    { name: 'Name', value: party.fields.name },
    { name: 'AccountName', value: frame.customer?.name ?? data.company.name },
  ];
  const values: GongRecord = {
    ...party.fields,
    speakerId: party.speakerId,
    // A party's CRM context comes with the call's context selection.
    context: !context ? undefined : contactId ? [{ system: 'Salesforce', objects: context.timings.map((timing) => crmObject('Contact', contactId, fields, context.detail, timing)) }] : [],
  };
  return inPartyOrder(values);
}

/** A party's fields in gong-openapi.json Party's order, undefined ones left out. */
export function inPartyOrder(values: GongRecord): GongRecord {
  return Object.fromEntries(PARTY_KEYS.flatMap((key) => (values[key] === undefined ? [] : [[key, values[key]]])));
}

/** CRM objects linked to the call: the prospect's Account and, on most calls, an Opportunity (Gong API v2, POST /v2/calls/extensive `context[]`). */
function crmContext(data: GongData, frame: CallFrame, detail: 'Basic' | 'Extended', timings: readonly ContextTiming[]): GongRecord[] {
  if (!frame.customer) return [];
  const random = rngFor(data.seed, 'gong', 'call-crm', frame.index);
  const customer = frame.customer.name;
  const accountId = salesforceId(random, '001');
  const accountFields = [
    { name: 'Name', value: customer },
    { name: 'Industry', value: pick(random, INDUSTRIES) },
    { name: 'AnnualRevenue', value: intBetween(random, 1, 500) * 1_000_000 },
  ];
  const objects = timings.map((timing) => crmObject('Account', accountId, accountFields, detail, timing));
  if (random() < 0.6) {
    const opportunityId = salesforceId(random, '006');
    const stageAtCall = intBetween(random, 0, STAGES.length - 2);
    const stageNow = Math.min(STAGES.length - 1, stageAtCall + intBetween(random, 0, 2));
    const amount = intBetween(random, 5, 200) * 1000;
    const closeDate = DateTime.fromMillis(frame.startedMs, { zone: 'UTC' }).plus({ days: intBetween(random, 14, 120) }).toISODate();
    for (const timing of timings) {
      const stage = STAGES[timing === 'Now' ? stageNow : stageAtCall];
      const fields = [
        { name: 'Name', value: `${customer} - New Business` },
        { name: 'StageName', value: stage },
        { name: 'Amount', value: amount },
        { name: 'CloseDate', value: closeDate },
      ];
      objects.push(crmObject('Opportunity', opportunityId, fields, detail, timing));
    }
  }
  return [{ system: 'Salesforce', objects }];
}

/** Basic context names the CRM objects; Extended adds their fields (the sandbox's reading of the enum; the spec gives no detail). */
function crmObject(objectType: string, objectId: string, fields: Array<{ name: string; value: unknown }>, detail: 'Basic' | 'Extended', timing: ContextTiming): GongRecord {
  return { objectType, objectId, ...(detail === 'Extended' ? { fields } : {}), timing };
}

function contentSection(data: GongData, frame: CallFrame, speakers: ReturnType<typeof speakersOf>, fields: ReadonlySet<ContentField>): GongRecord {
  const random = rngFor(data.seed, 'gong', 'call-content', frame.index);
  const seconds = frame.durationSeconds;
  const anySpeaker = () => (speakers.length ? pick(random, speakers).speakerId : null);
  const moment = () => Math.round(random() * seconds * 100) / 100;
  const structure = shareOut(random, STRUCTURE.filter(() => random() < 0.7), seconds);
  // Undiscussed topics are listed with duration 0, as in the AMP webhook fixture.
  const topicDurations = shareOutWeights(seconds, CALL_TOPICS.map(() => (random() < 0.6 ? 0.2 + random() : 0)));
  const topics = CALL_TOPICS.map((name, i) => ({ name, duration: topicDurations[i]! }));
  const trackers = data.trackers.map((tracker) => {
    const occurrences = Array.from({ length: speakers.length ? intBetween(random, 0, 4) : 0 }, () => ({ startTime: moment(), speakerId: anySpeaker() })).sort((a, b) => a.startTime - b.startTime);
    const phrases = tracker.phrases
      .map((phrase, p) => ({ phrase, occurrences: occurrences.filter((_, o) => o % tracker.phrases.length === p) }))
      .filter((phrase) => phrase.occurrences.length > 0)
      .map(({ phrase, occurrences: said }) => ({ count: said.length, occurrences: said, phrase }));
    const base = { id: tracker.id, name: tracker.name, count: occurrences.length, type: tracker.type };
    // Without trackerOccurrences Gong lists counts only, as in the AMP webhook fixture.
    return fields.has('trackerOccurrences') ? { ...base, occurrences, phrases } : base;
  });
  const actionItems = Array.from({ length: intBetween(random, 0, 3) }, () => {
    const start = moment();
    return { snippetStartTime: start, snippetEndTime: Math.min(seconds, Math.round((start + 8) * 100) / 100), speakerID: anySpeaker(), snippet: pick(random, ACTION_ITEMS) };
  });
  const keyPoints = Array.from({ length: intBetween(random, 0, 4) }, () => ({ text: pick(random, KEY_POINTS) }));
  const outline = structure.map((part, i) => ({
    section: part.name,
    startTime: structure.slice(0, i).reduce((sum, earlier) => sum + earlier.duration, 0),
    duration: part.duration,
    items: [{ text: pick(random, KEY_POINTS), startTime: moment() }],
  }));
  const highlights = HIGHLIGHTS.filter(() => random() < 0.5).map((title) => ({ title, items: [{ text: pick(random, ACTION_ITEMS), startTimes: [moment()] }] }));
  const discussed = topics.filter((topic) => topic.duration > 0).map((topic) => topic.name.toLowerCase()).join(', ') || 'introductions';
  const full: Partial<Record<ContentField, unknown>> = {
    structure,
    topics,
    trackers,
    pointsOfInterest: { actionItems },
    brief: frame.customer ? `${frame.customer.name} and ${data.company.name} covered ${discussed}.` : `The ${data.company.name} team covered ${discussed}.`,
    outline,
    highlights,
    callOutcome: frame.telephony ? pick(random, OUTCOMES) : null,
    keyPoints,
  };
  const content: GongRecord = {};
  for (const field of fields) if (field !== 'trackerOccurrences') content[field] = full[field];
  if (fields.has('trackerOccurrences') && !fields.has('trackers')) content.trackers = trackers;
  // Gong adds fields without notice (Gong API v2, "Forward Compatibility"): the webhook fixture shows content.scorecardsAnswers.
  content.scorecardsAnswers = callScorecards(data, frame);
  return content;
}

/**
 * The scorecards answered for a call: what POST /v2/stats/activity/scorecards lists (its ids are int64
 * JSON numbers, so `bigint` here, reaching the wire as bare numbers), and what the call's
 * `content.scorecardsAnswers` carries (not in the OpenAPI document; seen in Gong's call payloads).
 */
export function callScorecards(data: GongData, frame: CallFrame): GongRecord[] {
  const random = rngFor(data.seed, 'gong', 'call-scorecards', frame.index);
  if (!frame.customer || random() >= 0.35) return [];
  const card = pick(random, data.scorecards);
  const reviewer = intBetween(random, 0, data.userCount - 1);
  return [
    {
      answeredScorecardId: int64Id(random),
      scorecardId: card.scorecardId,
      scorecardName: card.scorecardName,
      callId: BigInt(frame.id),
      reviewedUserId: BigInt(data.userId(frame.primaryUserIndex)),
      reviewerUserId: BigInt(data.userId(reviewer)),
      reviewTime: isoInZone(frame.startedMs + (frame.durationSeconds + intBetween(random, 600, 7200)) * 1000, data.userZone(reviewer)),
      visibilityType: pick(random, ['PUBLIC', 'PRIVATE', 'OPT_IN_USERS']),
      answers: card.questions.map((question) => ({
        questionId: question.questionId,
        questionRevisionId: question.questionRevisionId,
        isOverall: question.isOverall,
        score: intBetween(random, 1, 5),
        answerText: null,
        notApplicable: false,
        selectedOptions: null,
      })),
    },
  ];
}

function interactionSection(data: GongData, frame: CallFrame, speakers: ReturnType<typeof speakersOf>, fields: ReadonlySet<InteractionField>): GongRecord {
  const random = rngFor(data.seed, 'gong', 'call-interaction', frame.index);
  const talkTimes = shareOut(random, speakers.map((speaker) => speaker.speakerId), Math.round(frame.durationSeconds * 0.9));
  const full: Record<InteractionField, unknown> = {
    speakers: speakers.map((speaker, i) => ({ id: speaker.speakerId, userId: speaker.userId ?? null, talkTime: talkTimes[i]!.duration })),
    personInteractionStats: [
      { name: 'Talk Ratio', value: Math.round(random() * 100) / 100 },
      { name: 'Longest Monologue', value: intBetween(random, 0, 300) },
      { name: 'Longest Customer Story', value: intBetween(random, 0, 200) },
      { name: 'Interactivity', value: Math.round(random() * 100) / 10 },
      { name: 'Patience', value: Math.round(random() * 300) / 100 },
    ],
    video: frame.video ? shareOut(random, VIDEO_ACTIVITIES, frame.durationSeconds) : [],
    questions: { companyCount: intBetween(random, 0, 15), nonCompanyCount: intBetween(random, 0, 10) },
  };
  const interaction: GongRecord = {};
  // The selector flag is personInteractionStats; the record key is interactionStats (gong-openapi.json InteractionMeasuresDto).
  for (const field of fields) interaction[field === 'personInteractionStats' ? 'interactionStats' : field] = full[field];
  return interaction;
}

function publicComments(data: GongData, frame: CallFrame): GongRecord[] {
  const random = rngFor(data.seed, 'gong', 'call-comments', frame.index);
  const comments: GongRecord[] = [];
  for (let n = random() < 0.3 ? intBetween(random, 1, 3) : 0; n > 0; n--) {
    const audioStartTime = Math.round(random() * frame.durationSeconds);
    const duringCall = random() < 0.3;
    // Comments are posted during the call or after it ends and before Gong serves it, so none lies in the clock's future.
    const postedMs = frame.startedMs + (duringCall ? audioStartTime : frame.durationSeconds + intBetween(random, 0, 240)) * 1000;
    const previous = comments.at(-1);
    comments.push({
      id: gongId(random),
      audioStartTime,
      audioEndTime: Math.min(frame.durationSeconds, audioStartTime + intBetween(random, 5, 30)),
      commenterUserId: data.userId(intBetween(random, 0, data.userCount - 1)),
      comment: pick(random, COMMENTS),
      posted: isoInZone(postedMs, frame.zone),
      inReplyTo: previous && random() < 0.5 ? previous.id : null,
      duringCall,
    });
  }
  return comments;
}

/** Signed, expiring media links, signed per `signingKey` (a call slot, or a written call's id); the sandbox serves no media behind them. */
export function mediaUrls(data: GongData, callId: string, signingKey: string | number, video: boolean, requestMs: number): GongRecord {
  const expires = Math.floor(DateTime.fromMillis(requestMs).plus(MEDIA_URL_LIFETIME).toSeconds());
  const signature = digitString(rngFor(data.seed, 'gong', 'media', signingKey, expires), 24);
  const url = (file: string) => `https://media.sandbox.gong.invalid/calls/${callId}/${file}?Expires=${expires}&Signature=${signature}`;
  return { audioUrl: url('audio.mp3'), videoUrl: video ? url('video.mp4') : null };
}

/** Splits `total` seconds into whole-second parts, one per name, in random proportions. */
function shareOut(random: Random, names: readonly string[], total: number): Array<{ name: string; duration: number }> {
  const durations = shareOutWeights(total, names.map(() => 0.2 + random()));
  return names.map((name, i) => ({ name, duration: durations[i]! }));
}

function shareOutWeights(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((weight) => (sum > 0 ? Math.floor((total * weight) / sum) : 0));
}

function customerOf(random: Random, ours: string): { name: string; domain: string } {
  let name = companyName(random);
  while (name === ours) name = companyName(random);
  return { name, domain: `${name.toLowerCase()}.example.com` };
}

const SALESFORCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An 18-character Salesforce id with the object's key prefix (001 Account, 003 Contact, 006 Opportunity). */
export function salesforceId(random: Random, keyPrefix: string): string {
  let id = `${keyPrefix}5g00000`;
  while (id.length < 18) id += SALESFORCE_ALPHABET[Math.floor(random() * SALESFORCE_ALPHABET.length)];
  return id;
}
