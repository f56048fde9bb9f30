import { DateTime, Duration } from 'luxon';
import { companyName, digitString, intBetween, personName, pick, rngFor, type Random } from '../random.js';
import { CallTimeline } from './timeline.js';

/** A record exactly as the API serves it; int64 JSON numbers are `bigint` (see json.ts). */
export type GongRecord = Record<string, unknown>;

export interface GongDataSettings {
  callsPerScaleUnit: number;
  usersPerScaleUnit: number;
  flowsPerScaleUnit: number;
  history: Duration;
  maxProcessingLatency: Duration;
}

export interface Workspace {
  id: string;
  name: string;
  description: string;
}

export interface TrackerDefinition {
  id: string;
  name: string;
  type: 'KEYWORD' | 'SMART';
  phrases: readonly string[];
}

export interface ScorecardDefinition {
  scorecardId: bigint;
  scorecardName: string;
  questions: ReadonlyArray<{ questionId: bigint; questionRevisionId: bigint; questionText: string; isOverall: boolean }>;
}

/** A flow as stored: who owns it (none for a Company flow) and whom it is shared with. */
export interface FlowDefinition {
  id: string;
  name: string;
  folderId: string;
  folderName: string;
  creationDate: string;
  exclusive: boolean;
  workspaceId: string;
  ownerIndex?: number;
  sharedWith: readonly number[];
}

/** Fixed offsets and zones with daylight saving, so timestamps carry varied offsets (docs/sources.md#gong-records). */
const ZONES = ['America/Los_Angeles', 'America/Denver', 'America/New_York', 'UTC', 'Europe/London', 'Europe/Berlin', 'Asia/Jerusalem', 'Asia/Kolkata', 'Australia/Sydney'];
const TITLES = ['Account Executive', 'Enterprise Account Executive', 'Sales Development Representative', 'Customer Success Manager', 'Sales Engineer', 'Sales Manager', 'VP Sales', 'Solutions Consultant'];
const WORKSPACE_NAMES = ['Sales', 'Customer Success', 'EMEA Sales', 'Partnerships'];
const FLOW_THEMES = ['Cold outreach', 'Webinar follow-up', 'Trial nurture', 'Renewal reminder', 'Re-engage closed lost', 'Event invite', 'Inbound lead response'];
const FLOW_FOLDERS = ['Outbound', 'Inbound leads', 'Events', 'Renewals'];
const TRACKERS: ReadonlyArray<Omit<TrackerDefinition, 'id'>> = [
  { name: 'Competitors', type: 'KEYWORD', phrases: ['Globex', 'Initech', 'Hooli'] },
  { name: 'Pricing', type: 'KEYWORD', phrases: ['price', 'discount', 'budget'] },
  { name: 'Objections', type: 'SMART', phrases: ['too expensive', 'not a priority'] },
  { name: 'Next Steps', type: 'SMART', phrases: ['follow up', 'send over', 'next week'] },
  { name: 'Security', type: 'KEYWORD', phrases: ['SOC 2', 'SSO', 'GDPR'] },
];
const SCORECARDS = [
  { name: 'Discovery call', questions: ['Identified the pain', 'Confirmed budget', 'Agreed next steps', 'Overall'] },
  { name: 'Demo quality', questions: ['Tailored the demo', 'Handled objections', 'Overall'] },
];
const HISTORY_OF_USERS = Duration.fromObject({ years: 3 });
/** Gong-employee avatar users the tenant has (listed by `GET /v2/users?includeAvatars=true`). */
const AVATAR_COUNT = 2;
const HISTORY_OF_FLOWS = Duration.fromObject({ years: 2 });

/**
 * Gong-style numeric id: 17–19 digits, so most exceed 2^53, yet all fit Gong's int64 (Java long) ids
 * (Gong API v2, e.g. POST /v2/calls/extensive: "up to 20 digits"; the sandbox stays within int64 so ids can also appear as numbers).
 */
export function gongId(random: Random): string {
  const id = digitString(random, intBetween(random, 17, 19));
  return id.length === 19 && id.startsWith('9') ? `${intBetween(random, 1, 8)}${id.slice(1)}` : id;
}

/** An int64 id written as a JSON number (answered-scorecard ids, Gong API v2 POST /v2/stats/activity/scorecards). */
export function int64Id(random: Random): bigint {
  return BigInt(digitString(random, 18));
}

/** ISO-8601 in the given zone, e.g. `2024-02-17T03:30:00-07:00` (`Z` for UTC). */
export function isoInZone(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true })!;
}

/**
 * The tenant behind the simulated Gong API: company, workspaces, users, flows, tracker and scorecard
 * definitions, and the calls' timeline and ownership — every value a pure function of (seed, index).
 */
export class GongData {
  readonly company: { name: string; slug: string; domain: string; appHost: string };
  readonly timeline: CallTimeline;
  readonly userCount: number;
  readonly flowCount: number;
  readonly workspaces: readonly Workspace[];
  readonly trackers: readonly TrackerDefinition[];
  readonly scorecards: readonly ScorecardDefinition[];
  /** The zone of the company's settings, in which Gong's stats and scorecard filters read dates. */
  readonly companyZone: string;
  /** Users 0 … managerCount-1 manage the others (their `managerId`). */
  readonly managerCount: number;
  private userIndices?: ReadonlyMap<string, number>;
  private readonly callIdBase: bigint;
  private readonly callIdStride: bigint;

  constructor(
    readonly seed: number,
    scale: number,
    readonly anchor: DateTime,
    settings: GongDataSettings,
  ) {
    const random = rngFor(seed, 'gong', 'tenant');
    const name = companyName(random);
    const slug = name.toLowerCase();
    this.company = { name, slug, domain: `${slug}.example.com`, appHost: `us-${intBetween(random, 10000, 99999)}.app.gong.io` };
    const workspaceCount = intBetween(random, 2, 3);
    const firstName = intBetween(random, 0, WORKSPACE_NAMES.length - 1);
    this.workspaces = Array.from({ length: workspaceCount }, (_, i) => {
      const workspaceName = WORKSPACE_NAMES[(firstName + i) % WORKSPACE_NAMES.length]!;
      return { id: gongId(random), name: workspaceName, description: `${name} ${workspaceName} team` };
    });
    this.trackers = TRACKERS.map((tracker) => ({ id: gongId(random), ...tracker }));
    this.scorecards = SCORECARDS.map((card) => ({
      scorecardId: int64Id(random),
      scorecardName: card.name,
      questions: card.questions.map((text) => ({ questionId: int64Id(random), questionRevisionId: int64Id(random), questionText: text, isOverall: text === 'Overall' })),
    }));
    // Call ids grow with time like Gong's, and encode their slot: id = base + index × stride (all within int64).
    this.callIdBase = 5_000_000_000_000_000_000n + BigInt(digitString(random, 18));
    this.callIdStride = BigInt(intBetween(random, 100_000_000, 999_999_999));
    this.userCount = Math.max(2, Math.round(settings.usersPerScaleUnit * scale));
    this.companyZone = pick(rngFor(seed, 'gong', 'company-zone'), ZONES);
    this.managerCount = Math.max(1, Math.floor(this.userCount / 8));
    this.flowCount = Math.max(3, Math.round(settings.flowsPerScaleUnit * scale));
    const historicalCalls = Math.max(1, Math.round(settings.callsPerScaleUnit * scale));
    this.timeline = new CallTimeline(seed, anchor, settings.history, historicalCalls, settings.maxProcessingLatency);
  }

  callId(index: number): string {
    return (this.callIdBase + BigInt(index) * this.callIdStride).toString();
  }

  /** The slot a call id names, or undefined when no slot has that id. */
  callIndex(id: string): number | undefined {
    if (!/^\d{1,19}$/.test(id)) return undefined;
    const offset = BigInt(id) - this.callIdBase;
    if (offset < 0n || offset % this.callIdStride !== 0n) return undefined;
    return Number(offset / this.callIdStride);
  }

  /** The workspace and primary user of a call: cheap, because filters test them on every slot in a window. */
  callOwnership(index: number): { workspaceId: string; primaryUserIndex: number } {
    const random = rngFor(this.seed, 'gong', 'call-owner', index);
    return { workspaceId: pick(random, this.workspaces).id, primaryUserIndex: intBetween(random, 0, this.userCount - 1) };
  }

  userId(index: number): string {
    return gongId(rngFor(this.seed, 'gong', 'user-id', index));
  }

  /** The user an id names; the index of ids is built on first use. */
  userIndexById(id: string): number | undefined {
    this.userIndices ??= new Map(Array.from({ length: this.userCount }, (_, index) => [this.userId(index), index]));
    return this.userIndices.get(id);
  }

  /** The user's time zone, which also renders the timestamps of the calls they host. */
  userZone(index: number): string {
    return pick(rngFor(this.seed, 'gong', 'user-zone', index), ZONES);
  }

  userName(index: number): { first: string; last: string } {
    return personName(rngFor(this.seed, 'gong', 'user-name', index));
  }

  userEmail(index: number): string {
    const { first, last } = this.userName(index);
    return `${first}.${last}${index + 1}@${this.company.domain}`.toLowerCase();
  }

  /** Inverse of userEmail (case-insensitive, as e-mail addresses are). */
  userIndexByEmail(email: string): number | undefined {
    const number = /(\d+)@/.exec(email)?.[1];
    const index = number === undefined ? -1 : Number(number) - 1;
    return index >= 0 && index < this.userCount && this.userEmail(index) === email.toLowerCase() ? index : undefined;
  }

  /** Most users are active; user 0, the admin who created the API key, always is. */
  userActive(index: number): boolean {
    return index === 0 || rngFor(this.seed, 'gong', 'user-active', index)() >= 0.15;
  }

  /** About one active user in five has no Gong Engage seat, so cannot list flows; the admin (user 0) has one, inactive users none. */
  userHasEngage(index: number): boolean {
    return this.userActive(index) && (index === 0 || rngFor(this.seed, 'gong', 'user-engage', index)() >= 0.2);
  }

  /**
   * gong-openapi.json Settings.webConferencesRecorded, "True if the team member is set to be recorded
   * by Gong": about one user in ten is not, and POST /v2/calls refuses a call they host with 409.
   */
  userRecorded(index: number): boolean {
    return (this.user(index).settings as { webConferencesRecorded: boolean }).webConferencesRecorded;
  }

  /** Where POST /v2/calls places a call its host uploads without a `workspaceId` (NewCallAddingRequest: "the default algorithm for workspace placement"). */
  userWorkspaceId(index: number): string {
    return pick(rngFor(this.seed, 'gong', 'user-workspace', index), this.workspaces).id;
  }

  /** A `/v2/users` record (gong-openapi.json UserMetadata); users are ordered by creation. */
  user(index: number): GongRecord {
    const random = rngFor(this.seed, 'gong', 'user', index);
    const { first, last } = this.userName(index);
    const email = this.userEmail(index);
    const spacingMs = HISTORY_OF_USERS.as('milliseconds') / this.userCount;
    const createdMs = Math.floor((this.anchor.minus(HISTORY_OF_USERS).toMillis() + (index + random()) * spacingMs) / 1000) * 1000;
    const managerIndex = index === 0 ? undefined : intBetween(random, 0, Math.min(index, this.managerCount) - 1);
    const speaksSpanish = random() < 0.2;
    return {
      id: this.userId(index),
      emailAddress: email,
      created: isoInZone(createdMs, this.userZone(index)),
      active: this.userActive(index),
      emailAliases: random() < 0.1 ? [`${first}@${this.company.domain}`.toLowerCase()] : [],
      trustedEmailAddress: random() < 0.8 ? email : null,
      firstName: first,
      lastName: last,
      title: pick(random, TITLES),
      phoneNumber: `+1 555-01${digitString(random, 2)}`,
      extension: random() < 0.3 ? digitString(random, 3) : null,
      personalMeetingUrls: [`https://zoom.us/j/${digitString(random, 10)}`],
      settings: {
        webConferencesRecorded: random() < 0.9,
        preventWebConferenceRecording: random() < 0.05,
        telephonyCallsImported: random() < 0.6,
        emailsImported: random() < 0.7,
        preventEmailImport: random() < 0.05,
        nonRecordedMeetingsImported: random() < 0.5,
        gongConnectEnabled: random() < 0.4,
      },
      managerId: managerIndex === undefined ? null : this.userId(managerIndex),
      meetingConsentPageUrl: `https://join.gong.io/${this.company.slug}/${first}.${last}?tkn=${digitString(random, 12)}`.toLowerCase(),
      spokenLanguages: speaksSpanish
        ? [{ language: 'en-US', primary: true }, { language: 'es-ES', primary: false }]
        : [{ language: 'en-US', primary: true }],
    };
  }

  /**
   * The `GET /v2/users` list: users by creation, then — only with `includeAvatars` — the avatars,
   * synthetic users standing for Gong employees (gong-openapi.json GET /v2/users).
   */
  usersListed(includeAvatars: boolean): { count: number; at(position: number): GongRecord } {
    return {
      count: this.userCount + (includeAvatars ? AVATAR_COUNT : 0),
      at: (position) => (position < this.userCount ? this.user(position) : this.avatar(position - this.userCount)),
    };
  }

  private avatar(index: number): GongRecord {
    const random = rngFor(this.seed, 'gong', 'avatar', index);
    const { first, last } = personName(random);
    const email = `${first}.${last}.avatar${index + 1}@gong.io`.toLowerCase();
    return {
      id: gongId(random),
      emailAddress: email,
      created: isoInZone(this.anchor.minus({ days: intBetween(random, 30, 600) }).toMillis(), 'UTC'),
      active: true,
      emailAliases: [],
      trustedEmailAddress: email,
      firstName: first,
      lastName: last,
      title: 'Gong Customer Success',
      phoneNumber: null,
      extension: null,
      personalMeetingUrls: [],
      settings: {
        webConferencesRecorded: false,
        preventWebConferenceRecording: true,
        telephonyCallsImported: false,
        emailsImported: false,
        preventEmailImport: true,
        nonRecordedMeetingsImported: false,
        gongConnectEnabled: false,
      },
      managerId: null,
      meetingConsentPageUrl: null,
      spokenLanguages: [{ language: 'en-US', primary: true }],
    };
  }

  /** Flow `index` as stored; about 40 % are Company flows, the rest Personal to one owner, shared with up to 3 users. */
  flow(index: number): FlowDefinition {
    const random = rngFor(this.seed, 'gong', 'flow', index);
    const spacingMs = HISTORY_OF_FLOWS.as('milliseconds') / this.flowCount;
    const createdMs = Math.floor((this.anchor.minus(HISTORY_OF_FLOWS).toMillis() + (index + random()) * spacingMs) / 1000) * 1000;
    const folder = intBetween(random, 0, FLOW_FOLDERS.length - 1);
    const folderRandom = rngFor(this.seed, 'gong', 'flow-folder', folder);
    const company = random() < 0.4;
    const ownerIndex = company ? undefined : intBetween(random, 0, this.userCount - 1);
    const sharedWith = new Set<number>();
    if (ownerIndex !== undefined) {
      for (let n = intBetween(random, 0, 3); n > 0; n--) sharedWith.add(intBetween(random, 0, this.userCount - 1));
      sharedWith.delete(ownerIndex);
    }
    return {
      id: gongId(random),
      name: `${pick(random, FLOW_THEMES)} #${index + 1}`,
      folderId: gongId(folderRandom),
      folderName: FLOW_FOLDERS[folder]!,
      creationDate: isoInZone(createdMs, ownerIndex === undefined ? 'UTC' : this.userZone(ownerIndex)),
      exclusive: random() < 0.3,
      workspaceId: pick(random, this.workspaces).id,
      ...(ownerIndex === undefined ? {} : { ownerIndex }),
      sharedWith: [...sharedWith].sort((a, b) => a - b),
    };
  }

  /**
   * `GET /v2/flows?flowOwnerEmail=` for one user: every Company flow, the user's Personal flows, and the
   * flows others shared with them, which read "Shared" (Gong API v2, GET /v2/flows; AMP providers/gong/flows.go).
   */
  flowsFor(userIndex: number, workspaceId?: string): GongRecord[] {
    const flows: GongRecord[] = [];
    for (let index = 0; index < this.flowCount; index++) {
      const flow = this.flow(index);
      if (workspaceId !== undefined && flow.workspaceId !== workspaceId) continue;
      const visibility =
        flow.ownerIndex === undefined ? 'Company' : flow.ownerIndex === userIndex ? 'Personal' : flow.sharedWith.includes(userIndex) ? 'Shared' : undefined;
      if (visibility) flows.push(flowRecord(flow, visibility));
    }
    return flows;
  }
}

/** gong-openapi.json PublicApiFlow. */
export function flowRecord(flow: FlowDefinition, visibility: 'Company' | 'Personal' | 'Shared'): GongRecord {
  const { id, name, folderId, folderName, creationDate, exclusive } = flow;
  return { id, name, folderId, folderName, visibility, creationDate, exclusive };
}
