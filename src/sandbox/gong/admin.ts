import { DateTime } from 'luxon';
import { ApiError } from '../kit/errors.js';
import { intBetween, pick, rngFor } from '../random.js';
import { callFrame } from './calls.js';
import { gongId, int64Id, isoInZone, type GongData, type GongRecord } from './data.js';

/**
 * The tenant's settings and administration records, as the Gong API v2 operations under
 * /v2/settings, /v2/library, /v2/crm, /v2/all-permission-profiles, /v2/permission-profile/users,
 * /v2/users/{id}/settings-history, /v2/calls/users-access and /v2/flows/prospects shape them
 * (https://gong.app.gong.io/settings/api/documentation). Each is a pure function of the seed and an index.
 */

const QUESTION_TYPES = ['SCALE', 'MULTIPLE_CHOICE', 'OPEN_TEXT'] as const;
const AFFILIATIONS = ['Anyone', 'Company', 'NonCompany'];
const FOLDER_NAMES = ['Best discovery calls', 'Objection handling', 'Onboarding', 'Pricing conversations', 'Closed won', 'Competitive deals'];
const FOLDER_NOTES = ['Listen to the first five minutes', 'Great use of silence', 'How the pricing question was handled', null];
/** The CRM object types the Generic CRM integration knows (GET /v2/crm/entity-schema, `objectType`). */
export const CRM_OBJECT_TYPES = ['ACCOUNT', 'CONTACT', 'DEAL', 'LEAD'] as const;
const CRM_FIELDS: Record<(typeof CRM_OBJECT_TYPES)[number], ReadonlyArray<[string, string, string]>> = {
  ACCOUNT: [['name', 'Account Name', 'STRING'], ['industry', 'Industry', 'PICKLIST'], ['annualRevenue', 'Annual Revenue', 'NUMBER'], ['ownerId', 'Owner', 'REFERENCE']],
  CONTACT: [['firstName', 'First Name', 'STRING'], ['lastName', 'Last Name', 'STRING'], ['email', 'Email', 'STRING'], ['accountId', 'Account', 'REFERENCE']],
  DEAL: [['name', 'Deal Name', 'STRING'], ['stage', 'Stage', 'PICKLIST'], ['amount', 'Amount', 'NUMBER'], ['closeDate', 'Close Date', 'DATE'], ['accountId', 'Account', 'REFERENCE']],
  LEAD: [['firstName', 'First Name', 'STRING'], ['lastName', 'Last Name', 'STRING'], ['company', 'Company', 'STRING'], ['status', 'Lead Status', 'PICKLIST']],
};
/** The values of each PICKLIST field above: `orderedValueList` is a list of strings (GenericSchemaFieldRequest). */
const PICKLIST_VALUES: Record<string, readonly string[]> = {
  industry: ['Software', 'Manufacturing', 'Financial Services', 'Healthcare', 'Retail'],
  stage: ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'],
  status: ['Open', 'Working', 'Nurturing', 'Qualified', 'Unqualified'],
};
const PERMISSION_PROFILES = [
  { name: 'Administrator', description: 'Full access to every call, deal and setting', level: 'all' },
  { name: 'Manager', description: 'Access to the calls and deals of their team', level: 'managers-team' },
  { name: 'Sales rep', description: 'Access to their own calls and deals', level: 'own' },
] as const;
/** The settings whose changes GET /v2/users/{id}/settings-history lists (its `setting` enum, in part). */
const HISTORY_SETTINGS = ['webConferencesRecorded', 'emailsImported', 'preventEmailImport', 'nonRecordedMeetingsImported', 'gongConnectEnabled', 'callsImported'];
const FLOW_INSTANCE_STATUSES = ['Running', 'Pending', 'Paused'];

/** GET /v2/settings/scorecards, `scorecards[]`: ids are int64 JSON numbers (`bigint` here). */
export function scorecardSettings(data: GongData): GongRecord[] {
  return data.scorecards.map((card, index) => {
    const random = rngFor(data.seed, 'gong', 'scorecard-settings', index);
    const createdMs = data.anchor.minus({ days: intBetween(random, 200, 700) }).toMillis();
    return {
      scorecardId: card.scorecardId,
      scorecardName: card.scorecardName,
      workspaceId: BigInt(pick(random, data.workspaces).id),
      enabled: index === 0 || random() < 0.8,
      updaterUserId: BigInt(data.userId(0)),
      created: isoInZone(createdMs, data.companyZone),
      updated: isoInZone(createdMs + intBetween(random, 1, 150) * 86_400_000, data.companyZone),
      questions: card.questions.map((question) => {
        const type = question.isOverall ? 'SCALE' : pick(random, QUESTION_TYPES);
        return {
          questionId: question.questionId,
          questionRevisionId: question.questionRevisionId,
          questionText: question.questionText,
          isOverall: question.isOverall,
          questionType: type,
          answerGuide: type === 'OPEN_TEXT' ? 'Describe what the rep did well' : null,
          minRange: type === 'SCALE' ? 1 : null,
          maxRange: type === 'SCALE' ? 5 : null,
          answerOptions: type === 'MULTIPLE_CHOICE' ? [{ id: 1, text: 'Yes' }, { id: 2, text: 'Partly' }, { id: 3, text: 'No' }] : null,
        };
      }),
    };
  });
}

/** GET /v2/settings/trackers, `keywordTrackers[]`, of one workspace or all. */
export function trackerSettings(data: GongData, workspaceId?: string): GongRecord[] {
  return data.trackers.flatMap((tracker, index) => {
    const random = rngFor(data.seed, 'gong', 'tracker-settings', index);
    const workspace = pick(random, data.workspaces).id;
    if (workspaceId !== undefined && workspace !== workspaceId) return [];
    const builtIn = tracker.type === 'SMART';
    const createdMs = data.anchor.minus({ days: intBetween(random, 100, 600) }).toMillis();
    const creator = builtIn ? null : data.userId(intBetween(random, 0, data.userCount - 1));
    return [
      {
        trackerId: tracker.id,
        trackerName: tracker.name,
        workspaceId: workspace,
        languageKeywords: [{ language: 'eng', keywords: [...tracker.phrases], includeRelatedForms: random() < 0.5 }],
        affiliation: pick(random, AFFILIATIONS),
        partOfQuestion: random() < 0.2,
        saidAt: 'Anytime',
        saidAtInterval: null,
        saidAtUnit: null,
        saidInTopics: [],
        saidInCallParts: [],
        filterQuery: null,
        created: isoInZone(createdMs, data.companyZone),
        creatorUserId: creator,
        updated: isoInZone(createdMs + intBetween(random, 0, 90) * 86_400_000, data.companyZone),
        updaterUserId: creator,
      },
    ];
  });
}

/** A public library folder; folder 0 is the root of each workspace's tree. */
interface LibraryFolder {
  record: GongRecord;
  workspaceId: string;
}

function libraryFolder(data: GongData, index: number): LibraryFolder {
  const random = rngFor(data.seed, 'gong', 'library-folder', index);
  const workspaceId = data.workspaces[index % data.workspaces.length]!.id;
  const parent = index < data.workspaces.length ? null : libraryFolderId(data, index % data.workspaces.length);
  return {
    workspaceId,
    record: {
      id: libraryFolderId(data, index),
      name: FOLDER_NAMES[index % FOLDER_NAMES.length]!,
      parentFolderId: parent,
      createdBy: data.userId(intBetween(random, 0, data.userCount - 1)),
      updated: isoInZone(data.anchor.minus({ days: intBetween(random, 1, 300) }).toMillis(), data.companyZone),
    },
  };
}

function libraryFolderId(data: GongData, index: number): string {
  return gongId(rngFor(data.seed, 'gong', 'library-folder-id', index));
}

/** GET /v2/library/folders, `folders[]`: the public folders, of one workspace or all. */
export function libraryFolders(data: GongData, workspaceId?: string): GongRecord[] {
  return Array.from({ length: FOLDER_NAMES.length }, (_, index) => libraryFolder(data, index))
    .filter((folder) => workspaceId === undefined || folder.workspaceId === workspaceId)
    .map((folder) => folder.record);
}

/** GET /v2/library/folder-content: one folder and the calls in it, calls of the history before the anchor. */
export function libraryFolderContent(data: GongData, folderId: string): GongRecord {
  const index = Array.from({ length: FOLDER_NAMES.length }, (_, i) => i).find((i) => libraryFolderId(data, i) === folderId);
  if (index === undefined) throw new ApiError(404, `Folder ${folderId} was not found`);
  const { parentFolderId: _, ...folder } = libraryFolder(data, index).record;
  const random = rngFor(data.seed, 'gong', 'library-folder-calls', index);
  const historical = data.timeline.firstStartingAtOrAfter(data.anchor.minus({ days: 2 }).toMillis());
  const slots = new Set(Array.from({ length: intBetween(random, 2, 8) }, () => intBetween(random, 0, Math.max(0, historical - 1))));
  const calls = [...slots].sort((a, b) => a - b).map((slot) => {
    const call = callFrame(data, slot);
    const fromSec = intBetween(random, 0, Math.max(0, call.durationSeconds - 60));
    return {
      id: call.id,
      title: call.metaData.title,
      note: pick(random, FOLDER_NOTES),
      addedBy: data.userId(intBetween(random, 0, data.userCount - 1)),
      created: isoInZone(call.startedMs + intBetween(random, 1, 20) * 86_400_000, data.companyZone),
      url: call.metaData.url,
      snippet: random() < 0.5 ? { fromSec, toSec: Math.min(call.durationSeconds, fromSec + intBetween(random, 30, 600)) } : null,
    };
  });
  return { ...folder, calls };
}

/** GET /v2/crm/integrations, `integrations[]`: the tenant's one Generic CRM integration; its id is an int64 JSON number. */
export function crmIntegrations(data: GongData): GongRecord[] {
  return [{ integrationId: crmIntegrationId(data), ownerEmail: data.userEmail(0), name: `${data.company.name} CRM sync` }];
}

function crmIntegrationId(data: GongData): bigint {
  return int64Id(rngFor(data.seed, 'gong', 'crm-integration'));
}

/** GET /v2/crm/entity-schema, `objectTypeToSelectedFields`: the fields of one object type, or of every type. */
export function crmEntitySchema(data: GongData, integrationId: string, objectType?: string): GongRecord {
  if (integrationId !== crmIntegrationId(data).toString()) throw new ApiError(404, `Integration ${integrationId} was not found`);
  const types = objectType === undefined ? CRM_OBJECT_TYPES : CRM_OBJECT_TYPES.filter((type) => type === objectType);
  return Object.fromEntries(
    types.map((type) => [
      type,
      CRM_FIELDS[type].map(([uniqueName, label, fieldType], i) => ({
        uniqueName,
        label,
        type: fieldType,
        lastModified: isoInZone(data.anchor.minus({ days: 10 + i * 7 }).toMillis(), 'UTC'),
        isDeleted: false,
        referenceTo: fieldType === 'REFERENCE' ? (uniqueName === 'ownerId' ? 'USER' : 'ACCOUNT') : null,
        orderedValueList: fieldType === 'PICKLIST' ? [...PICKLIST_VALUES[uniqueName]!] : null,
      })),
    ]),
  );
}

/** The permission profiles of a workspace, in alphabetical order as GET /v2/all-permission-profiles lists them. */
export function permissionProfiles(data: GongData, workspaceId: string): GongRecord[] {
  const workspace = data.workspaces.findIndex((w) => w.id === workspaceId);
  if (workspace < 0) throw new ApiError(404, `Workspace ${workspaceId} was not found`);
  return PERMISSION_PROFILES.map((profile, index) => permissionProfile(data, workspace, index, profile)).sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

function permissionProfileId(data: GongData, workspace: number, index: number): string {
  return gongId(rngFor(data.seed, 'gong', 'permission-profile', workspace, index));
}

function permissionProfile(data: GongData, workspace: number, index: number, profile: (typeof PERMISSION_PROFILES)[number]): GongRecord {
  const admin = profile.level === 'all';
  const access = { permissionLevel: profile.level, teamLeadIds: [] };
  return {
    id: permissionProfileId(data, workspace, index),
    name: profile.name,
    description: profile.description,
    callsAccess: access,
    libraryFolderAccess: { permissionLevel: admin ? 'all' : 'specific-folders', libraryFolderIds: admin ? [] : [libraryFolderId(data, workspace)], managePublicFolder: admin, manageStreams: admin, manageFolderCalls: admin, shareFoldersAndStreams: true },
    dealsAccess: access,
    forecastPermissions: { forecastAccess: access, forecastEditSubmissions: access, forecastEditTargets: admin ? access : { permissionLevel: 'none', teamLeadIds: [] } },
    coachingAccess: access,
    insightsAccess: access,
    usageAccess: access,
    emailsAccess: access,
    scoreCalls: profile.level !== 'own',
    downloadCallMedia: admin,
    shareCallsWithCustomers: true,
    manuallyScheduleAndUploadCalls: admin,
    privateCalls: true,
    deleteCalls: admin,
    trimCalls: admin,
    listenInCalls: true,
    manageScorecards: admin,
    manageGeneralBusinessSettings: admin,
  };
}

/** Which profile a user holds: the admin (user 0) Administrator, managers Manager, the rest Sales rep. */
function profileIndexOf(data: GongData, userIndex: number): number {
  if (userIndex === 0) return 0;
  return userIndex < data.managerCount ? 1 : 2;
}

/** GET /v2/permission-profile/users, `users[]`: every user holds one profile in each workspace. */
export function permissionProfileUsers(data: GongData, profileId: string): GongRecord[] {
  for (let workspace = 0; workspace < data.workspaces.length; workspace++) {
    const index = PERMISSION_PROFILES.findIndex((_, i) => permissionProfileId(data, workspace, i) === profileId);
    if (index < 0) continue;
    const users: GongRecord[] = [];
    for (let user = 0; user < data.userCount; user++) {
      if (profileIndexOf(data, user) !== index) continue;
      const { first, last } = data.userName(user);
      users.push({ id: data.userId(user), fullName: `${first} ${last}`, emailAddress: data.userEmail(user) });
    }
    return users;
  }
  throw new ApiError(404, `Permission profile ${profileId} was not found`);
}

/** GET /v2/users/{id}/settings-history, `userSettingsHistory[]`: a few changes since the user was created, oldest first. */
export function userSettingsHistory(data: GongData, userId: string): GongRecord[] {
  const userIndex = data.userIndexById(userId);
  if (userIndex === undefined) throw new ApiError(404, `User ${userId} was not found`);
  const random = rngFor(data.seed, 'gong', 'user-settings-history', userIndex);
  const createdMs = DateTime.fromISO(String(data.user(userIndex).created)).toMillis();
  const changes = intBetween(random, 1, 4);
  const spanMs = data.anchor.toMillis() - createdMs;
  const entries = Array.from({ length: changes }, (_, i) => ({
    setting: pick(random, HISTORY_SETTINGS),
    value: random() < 0.7,
    time: isoInZone(createdMs + Math.floor((spanMs * (i + random())) / changes / 1000) * 1000, data.userZone(userIndex)),
  }));
  if (!data.userActive(userIndex)) entries.push({ setting: 'active', value: false, time: isoInZone(data.anchor.minus({ days: intBetween(random, 1, 60) }).toMillis(), data.userZone(userIndex)) });
  return entries;
}

/** POST /v2/calls/users-access, `callAccessList[]`: about one call in four was given to users by the API. */
export function callUsersAccess(data: GongData, callIds: readonly string[]): GongRecord[] {
  return callIds.flatMap((callId) => {
    const index = data.callIndex(callId);
    if (index === undefined) return [];
    const random = rngFor(data.seed, 'gong', 'call-users-access', index);
    if (random() >= 0.25) return [{ callId, users: [] }];
    const users = new Set(Array.from({ length: intBetween(random, 1, 3) }, () => data.userId(intBetween(random, 0, data.userCount - 1))));
    return [{ callId, users: [...users].map((userId) => ({ userId })) }];
  });
}

/** POST /v2/flows/prospects, `prospectsAssigned[]`: about a third of the prospects named run in one Engage flow. */
export function flowProspects(data: GongData, crmProspectIds: readonly string[]): GongRecord[] {
  return crmProspectIds.flatMap((crmProspectId) => {
    const random = rngFor(data.seed, 'gong', 'flow-prospect', crmProspectId);
    if (random() >= 0.35) return [];
    const flow = data.flow(intBetween(random, 0, data.flowCount - 1));
    const owner = flow.ownerIndex ?? 0;
    const { first, last } = data.userName(owner);
    return [
      {
        flowId: flow.id,
        flowName: flow.name,
        crmProspectId,
        flowInstanceId: gongId(random),
        flowInstanceOwnerEmail: data.userEmail(owner),
        flowInstanceOwnerFullName: `${first} ${last}`,
        flowInstanceCreateDate: isoInZone(data.anchor.minus({ days: intBetween(random, 0, 60), minutes: intBetween(random, 0, 1440) }).toMillis(), data.userZone(owner)),
        flowInstanceStatus: pick(random, FLOW_INSTANCE_STATUSES),
        workspaceId: flow.workspaceId,
        exclusive: flow.exclusive,
      },
    ];
  });
}
