import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { answeredScorecards } from '../../src/sandbox/gong/activity.js';
import { crmIntegrations, libraryFolders, permissionProfiles, permissionProfileUsers, scorecardSettings, trackerSettings } from '../../src/sandbox/gong/admin.js';
import { createGongSandbox, GONG_SCOPES, toGongJson, type GongSandbox } from '../../src/sandbox/gong/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import { collectSync, TEST_NOW, type CollectedSync } from '../helpers/sync.js';

/**
 * Gong's settings, library, CRM, audit and stats streams, table by table: one sync selecting all of
 * them against the simulated API, then for each stream the requests it sent (method, path, query, body)
 * and the records it emitted, with the sandbox's generators as ground truth.
 */
const START = '2026-05-01T00:00:00Z';
const gong = PROVIDERS.find((p) => p.key === 'gong')!;
const NEW_STREAMS = gong.streams.map((s) => s.name).filter((name) => !['gong_calls', 'gong_transcripts', 'gong_users', 'gong_workspaces', 'gong_flows'].includes(name));
const catalogOf = (streams: readonly string[]) => ({ streams: streams.map((s) => ({ tap_stream_id: s, metadata: [{ breadcrumb: [], metadata: { selected: true } }] })) }) as never;

async function syncAll(scopes?: readonly string[]) {
  const running = await startSandbox({ seed: 3, now: () => TEST_NOW, unlimited: true, providers: (o) => [createGongSandbox({ ...o, ...(scopes ? { scopes } : {}) })] });
  const config = running.tapConfig({ start_date: START }) as Record<string, JsonRecord>;
  config.gong!.requests_per_second = 1000;
  const run = await collectSync(config, { now: TEST_NOW, catalog: catalogOf(['gong_calls', 'gong_users', 'gong_workspaces', ...NEW_STREAMS]) });
  return { running, run, sandbox: running.providers[0] as GongSandbox };
}

let running: RunningSandbox;
let run: CollectedSync;
let sandbox: GongSandbox;
beforeAll(async () => ({ running, run, sandbox } = await syncAll()));
afterAll(() => running.close());

const sent = (path: string | RegExp) => running.traffic.gong!.log.filter((r) => (typeof path === 'string' ? r.path === `${path}` : path.test(r.path)));
const params = (query: string) => Object.fromEntries(new URLSearchParams(query));
/** What the tap emits for an API record: int64 numbers as their digits, instants in UTC. */
const asEmitted = (record: unknown) => JSON.parse(toGongJson(record).replace(/(?<=[:[,])(-?\d{16,})(?=[,}\]])/g, '"$1"'));

describe('requests and records of each stream', () => {
  const cases: Array<{ stream: string; method: string; path: string | RegExp; requests: number; check: () => void }> = [
    {
      stream: 'gong_scorecards',
      method: 'GET',
      path: '/v2/settings/scorecards',
      requests: 1,
      check: () => {
        const got = run.records.gong_scorecards!;
        expect(got.map((s) => s.scorecardId)).toEqual(scorecardSettings(sandbox.data).map((s) => String(s.scorecardId)));
        // int64 JSON numbers above 2^53, digit for digit.
        expect(got.every((s) => typeof s.scorecardId === 'string' && BigInt(s.scorecardId as string) > 2n ** 53n)).toBe(true);
      },
    },
    {
      stream: 'gong_trackers',
      method: 'GET',
      path: '/v2/settings/trackers',
      requests: 1,
      check: () => expect(run.records.gong_trackers!.map((t) => t.trackerId)).toEqual(trackerSettings(sandbox.data).map((t) => t.trackerId)),
    },
    {
      stream: 'gong_library_folders',
      method: 'GET',
      path: '/v2/library/folders',
      requests: 1,
      check: () => expect(run.records.gong_library_folders!.map((f) => f.id)).toEqual(libraryFolders(sandbox.data).map((f) => f.id)),
    },
    {
      stream: 'gong_library_folder_calls',
      method: 'GET',
      path: '/v2/library/folder-content',
      requests: 6,
      check: () => {
        const folders = libraryFolders(sandbox.data).map((f) => f.id);
        expect(sent('/v2/library/folder-content').map((r) => params(r.query).folderId)).toEqual(folders);
        const rows = run.records.gong_library_folder_calls!;
        expect(rows.length).toBeGreaterThan(0);
        expect(new Set(rows.map((r) => r.folderId))).toEqual(new Set(folders));
      },
    },
    {
      stream: 'gong_crm_entity_schemas',
      method: 'GET',
      path: '/v2/crm/entity-schema',
      requests: 4,
      check: () => {
        const integration = String(crmIntegrations(sandbox.data)[0]!.integrationId);
        expect(sent('/v2/crm/entity-schema').map((r) => params(r.query))).toEqual(['ACCOUNT', 'CONTACT', 'DEAL', 'LEAD'].map((objectType) => ({ integrationId: integration, objectType })));
        const rows = run.records.gong_crm_entity_schemas!;
        expect(new Set(rows.map((r) => r.objectType))).toEqual(new Set(['ACCOUNT', 'CONTACT', 'DEAL', 'LEAD']));
        expect(rows.every((r) => r.integrationId === integration && typeof r.uniqueName === 'string')).toBe(true);
      },
    },
    {
      stream: 'gong_answered_scorecards',
      method: 'POST',
      path: '/v2/stats/activity/scorecards',
      requests: 2,
      check: () => {
        // 30-day windows, each asking for the company days that cover it in any time zone.
        expect(sent('/v2/stats/activity/scorecards').map((r) => (r.body as JsonRecord).filter)).toEqual([
          { reviewFromDate: '2026-04-30', reviewToDate: '2026-06-01' },
          { reviewFromDate: '2026-05-30', reviewToDate: '2026-06-17' },
        ]);
        const expected = answeredScorecards(sandbox.data, {}, TEST_NOW.toMillis()).filter((s) => Date.parse(String(s.reviewTime)) >= Date.parse(START));
        const got = run.records.gong_answered_scorecards!;
        expect(got.map((s) => s.answeredScorecardId).sort()).toEqual(expected.map((s) => String(s.answeredScorecardId)).sort());
        const byId = new Map(expected.map((s) => [String(s.answeredScorecardId), s]));
        for (const card of got) {
          const api = asEmitted(byId.get(String(card.answeredScorecardId)));
          expect(card).toMatchObject({ scorecardId: api.scorecardId, callId: api.callId, reviewedUserId: api.reviewedUserId, answers: api.answers });
          expect(Date.parse(String(card.reviewTime))).toBe(Date.parse(api.reviewTime));
          expect(String(card.reviewTime).endsWith('Z')).toBe(true);
        }
      },
    },
    {
      stream: 'gong_call_crm_associations',
      method: 'GET',
      path: '/v2/calls/manual-crm-associations',
      requests: 2,
      check: () => {
        const [first, next] = sent('/v2/calls/manual-crm-associations').map((r) => params(r.query));
        expect(first).toEqual({ fromDateTime: START });
        expect(next).toEqual({ fromDateTime: START, cursor: expect.any(String) });
        const created = run.records.gong_call_crm_associations!.map((a) => String(a.created));
        expect(created).toEqual([...created].sort());
      },
    },
    {
      stream: 'gong_logs',
      method: 'GET',
      path: '/v2/logs',
      requests: 18,
      check: () => {
        const types = new Set(sent('/v2/logs').map((r) => params(r.query).logType));
        expect(types).toEqual(new Set(['AccessLog', 'UserActivityLog', 'UserCallPlay', 'ExternallySharedCallAccess', 'ExternallySharedCallPlay']));
        expect(params(sent('/v2/logs')[0]!.query)).toMatchObject({ logType: 'AccessLog', fromDateTime: START, toDateTime: '2026-05-31T00:00:00Z' });
        expect(new Set(run.records.gong_logs!.map((l) => l.logType))).toEqual(types);
      },
    },
    {
      stream: 'gong_activity_by_period',
      method: 'POST',
      path: '/v2/stats/activity/aggregate-by-period',
      requests: 2,
      check: () => {
        // Whole Monday-to-Sunday weeks (2026-04-27 is a Monday), each window's up to the week its
        // successor starts in, so no week is read twice; the last never passes the last whole day.
        expect(sent('/v2/stats/activity/aggregate-by-period').map((r) => r.body)).toEqual([
          { filter: { fromDate: '2026-04-27', toDate: '2026-05-25' }, aggregationPeriod: 'WEEK' },
          { filter: { fromDate: '2026-05-25', toDate: '2026-06-15' }, aggregationPeriod: 'WEEK' },
        ]);
        const rows = run.records.gong_activity_by_period!;
        expect(rows.every((r) => typeof r.userId === 'string' && String(r.fromDate).endsWith('Z'))).toBe(true);
        expect(new Set(rows.map((r) => `${r.userId} ${r.fromDate}`)).size).toBe(rows.length);
      },
    },
    {
      stream: 'gong_activity_day_by_day',
      method: 'POST',
      path: '/v2/stats/activity/day-by-day',
      requests: 2,
      check: () => {
        // The windows' whole days, back to back: 2026-05-01 to 2026-05-29, then on to the last whole day.
        expect(sent('/v2/stats/activity/day-by-day').map((r) => r.body)).toEqual([
          { filter: { fromDate: '2026-05-01', toDate: '2026-05-29' } },
          { filter: { fromDate: '2026-05-29', toDate: '2026-06-15' } },
        ]);
        const rows = run.records.gong_activity_day_by_day!;
        expect(new Set(rows.map((r) => `${r.userId} ${r.fromDate}`)).size).toBe(rows.length);
        expect(new Set(rows.map((r) => r.fromDate)).size).toBe(45);
      },
    },
    {
      stream: 'gong_interaction_stats',
      method: 'POST',
      path: '/v2/stats/interaction',
      requests: 45,
      check: () => {
        const days = sent('/v2/stats/interaction').map((r) => (r.body as { filter: JsonRecord }).filter);
        expect(days[0]).toEqual({ fromDate: '2026-05-01', toDate: '2026-05-02' });
        expect(days.at(-1)).toEqual({ fromDate: '2026-06-14', toDate: '2026-06-15' });
        const rows = run.records.gong_interaction_stats!;
        expect(new Set(rows.map((r) => `${r.userId} ${r.fromDate}`)).size).toBe(rows.length);
      },
    },
    {
      stream: 'gong_permission_profiles',
      method: 'GET',
      path: '/v2/all-permission-profiles',
      requests: 3,
      check: () => {
        const workspaces = sandbox.data.workspaces.map((w) => w.id);
        expect(sent('/v2/all-permission-profiles').map((r) => params(r.query).workspaceId)).toEqual(workspaces);
        expect(run.records.gong_permission_profiles!.map((p) => p.id)).toEqual(workspaces.flatMap((w) => permissionProfiles(sandbox.data, w).map((p) => p.id)));
      },
    },
    {
      stream: 'gong_permission_profile_users',
      method: 'GET',
      path: '/v2/permission-profile/users',
      requests: 9,
      check: () => {
        // One request per profile of each workspace: a child of gong_permission_profiles, itself a child of gong_workspaces.
        const profiles = run.records.gong_permission_profiles!.map((p) => String(p.id));
        expect(sent('/v2/permission-profile/users').map((r) => params(r.query).profileId)).toEqual(profiles);
        expect(run.records.gong_permission_profile_users).toEqual(profiles.flatMap((profileId) => permissionProfileUsers(sandbox.data, profileId).map((user) => ({ profileId, ...user }))));
      },
    },
    {
      stream: 'gong_coaching',
      method: 'GET',
      path: '/v2/coaching',
      requests: 9,
      check: () => {
        // Each manager the users name, in each workspace, over start_date to the run's start.
        const managers = [...new Set(run.records.gong_users!.map((u) => u.managerId).filter((id) => id !== null))];
        const workspaces = run.records.gong_workspaces!.map((w) => String(w.id));
        const asked = sent('/v2/coaching').map((r) => params(r.query));
        expect(asked.map((q) => `${q['workspace-id']}/${q['manager-id']}`).sort()).toEqual(workspaces.flatMap((w) => managers.map((m) => `${w}/${m}`)).sort());
        expect(new Set(asked.map((q) => `${q.from} ${q.to}`))).toEqual(new Set([`${START} 2026-06-15T12:00:00Z`]));
        const rows = run.records.gong_coaching!;
        const reports = run.records.gong_users!.filter((u) => u.managerId !== null);
        expect(rows).toHaveLength(reports.length * workspaces.length);
        expect(rows.every((r) => r.managerId === reports.find((u) => u.id === r.reportId)!.managerId && typeof r.metrics === 'object')).toBe(true);
        expect(rows.some((r) => Object.values(r.metrics as Record<string, string[]>).some((ids) => ids.length > 0))).toBe(true);
      },
    },
    {
      stream: 'gong_user_settings_history',
      method: 'GET',
      path: /^\/v2\/users\/\d+\/settings-history$/,
      requests: 25,
      check: () => expect(new Set(run.records.gong_user_settings_history!.map((h) => h.userId)).size).toBe(25),
    },
    {
      stream: 'gong_call_users_access',
      method: 'POST',
      path: '/v2/calls/users-access',
      requests: 2,
      check: () => {
        const asked = sent('/v2/calls/users-access').flatMap((r) => ((r.body as { filter: { callIds: string[] } }).filter.callIds));
        expect(asked.sort()).toEqual(run.records.gong_calls!.map((c) => c.id).sort());
        expect(run.records.gong_call_users_access!.every((a) => typeof a.started === 'string')).toBe(true);
      },
    },
    {
      stream: 'gong_flow_prospects',
      method: 'POST',
      path: '/v2/flows/prospects',
      requests: 2,
      check: () => {
        const asked = sent('/v2/flows/prospects').flatMap((r) => (r.body as { crmProspectsIds: string[] }).crmProspectsIds);
        // Every contact and lead the synced calls name, each asked once, at most 100 to a request.
        const named = run.records.gong_calls!.flatMap((call) =>
          [call.context, ...(call.parties as JsonRecord[]).map((party) => party.context)].flatMap((context) =>
            ((context ?? []) as JsonRecord[]).flatMap((system) => (system.objects as JsonRecord[]).filter((o) => o.objectType === 'Contact' || o.objectType === 'Lead').map((o) => String(o.objectId))),
          ),
        );
        expect(asked.sort()).toEqual([...new Set(named)].sort());
        expect(asked.length).toBeGreaterThan(100);
        expect(asked.every((id) => id.startsWith('003'))).toBe(true);
        const rows = run.records.gong_flow_prospects!;
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => asked.includes(String(r.crmProspectId)))).toBe(true);
      },
    },
  ];

  it.each(cases)('$stream: $method $path', ({ method, path, requests, check }) => {
    const log = sent(path);
    expect(log.length).toBe(requests);
    expect(log.every((r) => r.method === method && r.status === 200)).toBe(true);
    check();
  });

  it('reads every declared stream', () => {
    for (const name of NEW_STREAMS) expect(run.records[name]?.length ?? 0, name).toBeGreaterThan(0);
  });
});

describe('a stream below a child stream', () => {
  it('reads the unselected streams between it and the root for it, emitting only what was selected', async () => {
    const limited = await startSandbox({ seed: 3, now: () => TEST_NOW, unlimited: true, providers: (o) => [createGongSandbox(o)] });
    try {
      const config = limited.tapConfig({ start_date: START }) as Record<string, JsonRecord>;
      config.gong!.requests_per_second = 1000;
      const alone = await collectSync(config, { now: TEST_NOW, catalog: catalogOf(['gong_permission_profile_users']) });
      expect(Object.keys(alone.records)).toEqual(['gong_permission_profile_users']);
      expect(alone.records.gong_permission_profile_users).toEqual(run.records.gong_permission_profile_users);
      expect(alone.events.filter((e) => e.type === 'schema').map((e) => e.stream)).toEqual(['gong_permission_profile_users']);
      // Each workspace's profiles, then straight away their users.
      expect(limited.traffic.gong!.log.map((r) => r.path)).toEqual(['/v2/workspaces', ...Array(3).fill(['/v2/all-permission-profiles', ...Array(3).fill('/v2/permission-profile/users')]).flat()]);
    } finally {
      await limited.close();
    }
  });
});

describe('a scope the credentials lack', () => {
  it('skips only the streams that need it, with a warning naming the scope and a summary at the end, and keeps their bookmarks', async () => {
    const lacking = ['api:stats:scorecards', 'api:call-user-access:read'];
    const { running: limited, run: partial } = await syncAll(GONG_SCOPES.filter((scope) => !lacking.includes(scope)));
    try {
      expect(partial.records.gong_answered_scorecards).toBeUndefined();
      expect(partial.records.gong_call_users_access).toBeUndefined();
      expect(partial.records.gong_calls!.length).toBe(run.records.gong_calls!.length);
      for (const scope of lacking) expect(partial.logs.some((line) => line.startsWith('WARNING') && line.includes(scope))).toBe(true);
      expect(partial.finalState.bookmarks.gong_answered_scorecards).toBeUndefined();
      expect(partial.finalState.bookmarks.gong_call_users_access).toBeUndefined();
      expect(partial.finalState.bookmarks.gong_calls).toBeDefined();
      // The summary at the end names both, after the last STATE.
      expect(partial.logs.at(-1)).toBe('WARNING the sync left out 2 stream(s) the credentials may not read: gong_call_users_access, gong_answered_scorecards');
    } finally {
      await limited.close();
    }
  });
});
