import { DateTime } from 'luxon';
import { ApiError, badRequest } from '../kit/errors.js';
import { WriteTally } from '../kit/tally.js';
import { digitString, intBetween, rngFor } from '../random.js';
import type { FormFile } from '../types.js';
import type { NewCall } from './bodies.js';
import { callUrl, inPartyOrder, mediaUrls } from './calls.js';
import { gongId, type GongData, type GongRecord } from './data.js';
import type { AddressedCalls, CallFilter } from './selection.js';
import type { SectionChoice } from './selector.js';

/** A write operation: POST /v2/calls creates a call, PUT /v2/calls/{id}/media adds its media (gong-openapi.json addCall, addCallRecording). */
export type GongWriteOperation = 'create-call' | 'add-media';

/** What the sandbox keeps of an uploaded media file: the sandbox serves no media, so not its bytes. */
export interface CallMediaFile {
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
}

/** A call made through POST /v2/calls: its Gong id, its de-duplication key, the body accepted, and the media uploaded last. */
export interface CreatedGongCall {
  readonly callId: string;
  readonly clientUniqueId: string;
  readonly fields: Readonly<NewCall>;
  readonly media?: CallMediaFile;
}

/** What tests see of the writes: the calls created, how often each key was written, and whose calls are refused. */
export interface GongWrites {
  /** Every call created, in order of creation. */
  calls(): readonly CreatedGongCall[];
  /**
   * Writes that took effect for a key: 'create-call' by clientUniqueId (a repeat that only answers the
   * call made before does not count), 'add-media' by callId (each upload, a replacing one too).
   */
  count(operation: GongWriteOperation, key: string): number;
  /** Requests for a key that passed validation, whether they took effect or not. */
  received(operation: GongWriteOperation, key: string): number;
  /** The users whose recording is off, so POST /v2/calls answers 409 for a call they host. */
  recordingDisabledUserIds(): readonly string[];
}

/** A written call as the store holds it: what tests see, and what the read endpoints filter on. */
export interface WrittenCall {
  created: CreatedGongCall;
  /** The call's number, in order of creation: its address among written calls. */
  number: number;
  startedMs: number;
  createdMs: number;
  workspaceId: string;
  /** The Gong ids of its parties, in the order the body gave them. */
  partyIds: readonly string[];
}

/**
 * The calls written through the Gong API, beside the generated ones. Held in memory for the sandbox's
 * life; every id it hands out is drawn from the seed and the call's clientUniqueId, so two sandboxes
 * with one seed answer the same writes alike.
 */
export class GongWriteStore implements GongWrites {
  private readonly written: WrittenCall[] = [];
  private readonly byKey = new Map<string, WrittenCall>();
  private readonly byId = new Map<string, WrittenCall>();
  private readonly tally = new WriteTally<GongWriteOperation>();

  constructor(
    private readonly data: GongData,
    private readonly now: () => DateTime,
  ) {}

  calls(): readonly CreatedGongCall[] {
    return this.written.map((call) => call.created);
  }

  count(operation: GongWriteOperation, key: string): number {
    return this.tally.count(operation, key);
  }

  received(operation: GongWriteOperation, key: string): number {
    return this.tally.received(operation, key);
  }

  recordingDisabledUserIds(): readonly string[] {
    return Array.from({ length: this.data.userCount }, (_, index) => index).flatMap((index) => (this.data.userRecorded(index) ? [] : [this.data.userId(index)]));
  }

  /**
   * POST /v2/calls. The tenant's checks come first (400): the primary user is a user of the company
   * with a party of their own (NewCallAddingRequest.parties: "A party must be provided for the
   * primaryUser"), and a `workspaceId` names a workspace. Then `clientUniqueId` de-duplicates ("Gong
   * uses this identifier to prevent repeated attempts to upload the same recording"): a repeat answers
   * the call made first and changes nothing. A new call whose host is not recorded is a 409 (the
   * operation's "Conflict, e.g. recording is not enabled for the primary user").
   */
  createCall(fields: NewCall): CreatedGongCall {
    const userIndex = this.data.userIndexById(fields.primaryUser);
    if (userIndex === undefined) throw badRequest(`primaryUser: ${fields.primaryUser} is not a user of this company`);
    if (!fields.parties.some((party) => party.userId === fields.primaryUser)) throw badRequest('parties: a party must be provided for the primaryUser');
    if (fields.workspaceId !== undefined && !this.data.workspaces.some((workspace) => workspace.id === fields.workspaceId)) {
      throw badRequest(`workspaceId: ${fields.workspaceId} is not a workspace of this company`);
    }
    const key = fields.clientUniqueId;
    this.tally.receive('create-call', key);
    const existing = this.byKey.get(key);
    if (existing) return existing.created;
    if (!this.data.userRecorded(userIndex)) throw new ApiError(409, `Recording is not enabled for the primary user ${fields.primaryUser}`);
    const call: WrittenCall = {
      created: { callId: this.newCallId(key), clientUniqueId: key, fields },
      number: this.written.length,
      // RFC 3339 allows a lower-case `t` and `z`, luxon reads upper case only.
      startedMs: DateTime.fromISO(fields.actualStart.toUpperCase()).toMillis(),
      createdMs: this.now().toMillis(),
      workspaceId: fields.workspaceId ?? this.data.userWorkspaceId(userIndex),
      partyIds: fields.parties.map((_, i) => gongId(rngFor(this.data.seed, 'gong', 'written-call-party', key, i))),
    };
    this.written.push(call);
    this.byKey.set(key, call);
    this.byId.set(call.created.callId, call);
    this.tally.done('create-call', key);
    return call.created;
  }

  /**
   * PUT /v2/calls/{id}/media: the call's media, replaced by a repeated upload (a PUT). 404 for an id no
   * call has; 400 for a call Gong recorded itself, or one whose media Gong downloads from the
   * `downloadMediaUrl` it was created with ("If you provide this URL, you should not perform the 'Add
   * call media' step").
   */
  addMedia(callId: string, file: FormFile, servedAtMs: number): { callId: string; url: string } {
    this.tally.receive('add-media', callId);
    const call = this.byId.get(callId);
    if (!call) {
      const index = this.data.callIndex(callId);
      if (index !== undefined && this.data.timeline.isServed(index, servedAtMs)) throw badRequest(`Call ${callId} was recorded by Gong and has its media`);
      throw new ApiError(404, `Call ${callId} was not found`);
    }
    if (call.created.fields.downloadMediaUrl !== undefined) throw badRequest(`Call ${callId} was created with a downloadMediaUrl; Gong downloads its media from there`);
    call.created = { ...call.created, media: { filename: file.filename, size: file.size, sha256: file.sha256 } };
    this.tally.done('add-media', callId);
    return { callId, url: callUrl(this.data, callId) };
  }

  /** The written call with this id, once the API serves it (from its creation on). */
  served(callId: string, atMs: number): WrittenCall | undefined {
    const call = this.byId.get(callId);
    return call && call.createdMs <= atMs ? call : undefined;
  }

  at(number: number): WrittenCall {
    return this.written[number]!;
  }

  /** The written calls a filter matches at `atMs`, by number. */
  selection(filter: CallFilter, atMs: number): AddressedCalls {
    const matches = (call: WrittenCall) =>
      call.createdMs <= atMs &&
      (filter.fromMs === undefined || call.startedMs >= filter.fromMs) &&
      (filter.toMs === undefined || call.startedMs < filter.toMs) &&
      (filter.workspaceId === undefined || call.workspaceId === filter.workspaceId) &&
      (filter.primaryUserIds === undefined || filter.primaryUserIds.has(call.created.fields.primaryUser)) &&
      (filter.callIds === undefined || filter.callIds.has(call.created.callId));
    const written = this.written;
    return {
      count: () => written.filter(matches).length,
      *indices(from = 0) {
        for (let number = from; number < written.length; number++) if (matches(written[number]!)) yield number;
      },
    };
  }

  /**
   * A 19-digit int64 id below 5×10^18, where generated call ids start (GongData's id base), so no call
   * slot has it; drawn again in the (unlikely) case another written call has it.
   */
  private newCallId(clientUniqueId: string): string {
    const random = rngFor(this.data.seed, 'gong', 'written-call', clientUniqueId);
    let id: string;
    do id = `${intBetween(random, 1, 4)}${digitString(random, 18)}`;
    while (this.byId.has(id));
    return id;
  }
}

/**
 * A written call as GET /v2/calls and the extensive `metaData` show it (gong-openapi.json
 * CallBasicData), from the fields it was created with: `started` as given, the duration in whole
 * seconds, External when a party is no Gong user. Gong detects the language while processing; the
 * sandbox does not process written calls, so none is detected.
 */
export function writtenMetaData(data: GongData, call: WrittenCall): GongRecord {
  const { callId, clientUniqueId, fields, media } = call.created;
  return {
    id: callId,
    url: callUrl(data, callId),
    title: fields.title ?? null,
    scheduled: fields.scheduledStart ?? null,
    started: fields.actualStart,
    duration: fields.duration === undefined ? null : Math.round(fields.duration),
    primaryUserId: fields.primaryUser,
    direction: fields.direction,
    system: fields.callProviderCode ?? null,
    scope: fields.parties.some((party) => party.userId === undefined) ? 'External' : 'Internal',
    media: media || fields.downloadMediaUrl !== undefined ? 'Audio' : null,
    language: null,
    workspaceId: call.workspaceId,
    sdrDisposition: fields.disposition ?? null,
    clientUniqueId,
    customData: fields.customData ?? null,
    purpose: fields.purpose ?? null,
    meetingUrl: fields.meetingUrl ?? null,
    isPrivate: false,
    calendarEventId: null,
  };
}

/**
 * A written call as POST /v2/calls/extensive lists it: `metaData` and the sections asked for, as for a
 * call Gong has not processed: no CRM context, content or interaction (those come from processing),
 * no comments, media links once there is media. Parties are as given, each an Invitee, speaking to
 * no speaker id; a party's CRM context comes with the context selection, as for generated calls.
 */
export function writtenCallRecord(data: GongData, call: WrittenCall, sections: SectionChoice, requestMs: number): GongRecord {
  const metaData = writtenMetaData(data, call);
  const record: GongRecord = { metaData };
  if (sections.context) record.context = [];
  if (sections.parties) {
    record.parties = call.created.fields.parties.map((party, i) =>
      inPartyOrder({
        id: call.partyIds[i],
        emailAddress: party.emailAddress,
        name: party.name,
        title: null,
        userId: party.userId,
        speakerId: null,
        context: sections.context ? [] : undefined,
        affiliation: party.userId === undefined ? 'External' : 'Internal',
        phoneNumber: party.phoneNumber,
        methods: ['Invitee'],
      }),
    );
  }
  if (sections.publicComments) record.collaboration = { publicComments: [] };
  if (sections.media) {
    const { callId } = call.created;
    record.media = metaData.media === null ? { audioUrl: null, videoUrl: null } : mediaUrls(data, callId, callId, false, requestMs);
  }
  return record;
}

/** POST /v2/calls/transcript for a written call: listed, with no transcript, as Gong has not transcribed it. */
export function writtenTranscript(call: WrittenCall): GongRecord {
  return { callId: call.created.callId, transcript: [] };
}
