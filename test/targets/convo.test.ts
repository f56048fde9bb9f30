import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createConfigPersister, fillDefaults } from '../../src/core/config.js';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { PROVIDERS } from '../../src/providers/index.js';
import { createClariCopilotSandbox, type ClariSandbox } from '../../src/sandbox/clari-copilot/index.js';
import { startSandbox, type FaultOptions, type RunningSandbox } from '../../src/sandbox/server.js';
import { runConvoTarget, TARGET_SETTINGS } from '../../src/targets/convo/target.js';
import { runBinary, tempDir, writeJson } from '../helpers/binary.js';
import { record, state, writeWithTarget } from '../helpers/convo.js';
import { memoryLogger } from '../helpers/logger.js';
import { TEST_NOW } from '../helpers/sync.js';

let running: RunningSandbox | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function sandbox(faults?: FaultOptions): Promise<{ server: RunningSandbox; clari: ClariSandbox; config: JsonRecord }> {
  let clari: ClariSandbox | undefined;
  const server = await startSandbox({ seed: 4, now: () => TEST_NOW, unlimited: true, faults, providers: (o) => [(clari = createClariCopilotSandbox(o, { flaky502Rate: 0 }))] });
  running = server;
  const block = server.tapConfig().clari_copilot as JsonRecord;
  return { server, clari: clari!, config: { clari_copilot: { ...block, requests_per_second: 1000 } } };
}

const write = writeWithTarget;

const ACCOUNT = { crm_id: '001WRITE000000001', name: 'Northwind', phones: ['+15550100'], website: 'https://northwind.example', custom_fields: [{ key: 'Tier', value: 'Gold' }] };
const CONTACT = { crm_id: '003WRITE000000001', account_crm_id: ACCOUNT.crm_id, first_name: 'Ada', last_name: 'Byron', emails: ['ada@northwind.example'], is_lead: false };
const DEAL = { crm_id: '006WRITE000000001', account_crm_id: ACCOUNT.crm_id, deal_name: 'Northwind - New Business', amount: '42000', stage: 'Proposal', close_date: '2026-09-30T00:00:00Z' };

describe('target-convo into Clari Copilot', () => {
  it.each([
    ['clari_copilot_accounts', 'account', ACCOUNT],
    ['clari_copilot_contacts', 'contact', CONTACT],
    ['clari_copilot_deals', 'deal', DEAL],
  ] as const)('%s: creates, reads back the same fields, updates a change, deletes with _sdc_deleted_at', async (stream, object, fields) => {
    const { clari, config, server } = await sandbox();
    const first = await write(config, [record(stream, fields), state({ bookmarks: {} })]);
    expect(first.summary).toEqual({ written: 1, unchanged: 0, rejected: 0 });
    const stored = clari.writes.object(object, fields.crm_id)!;
    expect(stored.record).toMatchObject(fields);
    expect(clari.writes.count(`create-${object}`, fields.crm_id)).toBe(1);
    const held = first.last!.target_convo as Record<string, Record<string, { id: string }>>;
    expect(held[stream]![fields.crm_id]!.id).toBe(stored.record.id);

    // The same record again, from the echoed state: nothing is sent.
    const sent = server.traffic['clari-copilot']!.requests;
    const again = await write(config, [record(stream, fields)], first.last);
    expect(again.summary).toEqual({ written: 0, unchanged: 1, rejected: 0 });
    expect(server.traffic['clari-copilot']!.requests).toBe(sent);

    // A change is an update of the object Clari holds, never a second create.
    const changed = { ...fields, ...(object === 'deal' ? { stage: 'Negotiation' } : object === 'contact' ? { last_name: 'Lovelace' } : { name: 'Northwind Traders' }) };
    const updated = await write(config, [record(stream, changed)], first.last);
    expect(updated.summary.written).toBe(1);
    expect(clari.writes.object(object, fields.crm_id)!.record).toMatchObject(changed);
    expect(clari.writes.count(`create-${object}`, fields.crm_id)).toBe(1);
    expect(clari.writes.count(`update-${object}`, fields.crm_id)).toBe(1);

    const deleted = await write(config, [record(stream, { ...changed, _sdc_deleted_at: '2026-06-15T12:00:00Z' })], updated.last);
    expect(deleted.summary.written).toBe(1);
    expect(clari.writes.object(object, fields.crm_id)!.deleted).toBe(true);
  });

  it('updates, rather than creates, an object Clari already holds that this target never wrote (read back first)', async () => {
    const { clari, config } = await sandbox();
    await write(config, [record('clari_copilot_accounts', ACCOUNT)]);
    const fresh = await write(config, [record('clari_copilot_accounts', { ...ACCOUNT, city: 'Seattle' })]);
    expect(fresh.summary.written).toBe(1);
    expect(clari.writes.count('create-account', ACCOUNT.crm_id)).toBe(1);
    expect(clari.writes.object('account', ACCOUNT.crm_id)!.record.city).toBe('Seattle');
  });

  it('creates a call once per source_id, and a rerun of a changed call replaces it under the same call id', async () => {
    const { clari, config } = await sandbox();
    const user = clari.dataset.records('users');
    const recorder = [...user].find((u) => u.is_recording)!;
    const call = { source_id: 'dialer-0001', type: 'RECORDING', call_time: '2026-06-14T15:00:00Z', audio_url: 'https://recordings.example/dialer-0001.mp3', user_emails: [recorder.email], other_name: ['Pat Doe'], other_phone: ['+15550199'], other_email: ['pat@customer.example'], title: 'Intro call' };
    const first = await write(config, [record('clari_copilot_calls', call)]);
    expect(first.summary.written).toBe(1);
    const again = await write(config, [record('clari_copilot_calls', { ...call, title: 'Intro call (renamed)' })], first.last);
    expect(again.summary.written).toBe(1);
    expect(clari.writes.calls().filter((c) => c.source_id === call.source_id)).toHaveLength(1);
    expect(clari.writes.count('create-call', call.source_id)).toBeGreaterThanOrEqual(1);
    const held = (again.last!.target_convo as Record<string, Record<string, { id: string }>>).clari_copilot_calls![call.source_id]!;
    expect(held.id).toBe(clari.writes.calls()[0]!.call_id);
  });

  it('rejects a record that does not fit, or that the API refuses, with a JSON line naming the key and reason, and writes the rest', async () => {
    const { clari, config } = await sandbox();
    const run = await write(config, [
      record('clari_copilot_accounts', { crm_id: '001BAD', name: 42 }),
      record('clari_copilot_calls', { source_id: 'nobody-records', type: 'RECORDING', call_time: '2026-06-14T15:00:00Z', audio_url: 'https://recordings.example/x.mp3', user_emails: ['stranger@elsewhere.example'] }),
      record('clari_copilot_accounts', ACCOUNT),
    ]);
    expect(run.summary).toEqual({ written: 1, unchanged: 0, rejected: 2 });
    expect(run.rejects[0]).toEqual({ stream: 'clari_copilot_accounts', key: '001BAD', status: null, message: "the record does not fit clari_copilot_accounts's write schema: name must be string" });
    expect(run.rejects[1]).toMatchObject({ stream: 'clari_copilot_calls', key: 'nobody-records', status: 400 });
    expect(String(run.rejects[1]!.message)).toMatch(/recording user/i);
    expect(clari.writes.object('account', ACCOUNT.crm_id)).toBeDefined();
  });

  it.each([
    ['answers lost after the write was applied (half the answers truncated)', { rate: 0.5, kinds: ['truncated'] }],
    ['30% faults of every kind', { rate: 0.3, kinds: ['truncated', '500', '502', '503', 'reset', 'timeout', '429'], holdMs: 1500 }],
  ] as Array<[string, FaultOptions]>)('writes every key exactly once under %s', async (_, faults) => {
    const { clari, config, server } = await sandbox(faults);
    const accounts = Array.from({ length: 30 }, (_, i) => ({ crm_id: `001FAULT${String(i).padStart(9, '0')}`, name: `Account ${i}` }));
    const run = await write({ clari_copilot: { ...(config.clari_copilot as JsonRecord), request_timeout: 1 } }, accounts.map((a) => record('clari_copilot_accounts', a)));
    expect(run.summary).toEqual({ written: 30, unchanged: 0, rejected: 0 });
    expect(server.traffic['clari-copilot']!.faults).toBeGreaterThan(5);
    for (const account of accounts) {
      // Never a second create sent for a key, let alone applied.
      expect(clari.writes.received('create-account', account.crm_id), account.crm_id).toBe(1);
      expect(clari.writes.count('create-account', account.crm_id), account.crm_id).toBe(1);
      expect(clari.writes.object('account', account.crm_id)!.record.name).toBe(account.name);
    }
  }, 60_000);

  it('stops once more records than max_rejects were rejected, keeping in the state what it wrote before', async () => {
    const { config } = await sandbox();
    const bad = (i: number) => record('clari_copilot_accounts', { crm_id: `001BAD${i}`, name: i });
    const path = writeJson(tempDir(), 'config.json', { ...config, max_rejects: 1 });
    const run = await runBinary('target-convo', ['--config', path], { input: [record('clari_copilot_accounts', ACCOUNT), bad(1), bad(2), bad(3)].join('\n') + '\n' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('CRITICAL stopped after 2 rejected records (more than max_rejects 1)');
    expect(run.stderr).not.toContain('001BAD3');
    const last = run.lines.at(-1) as { type: string; value: { target_convo: Record<string, Record<string, unknown>> } };
    expect(last.type).toBe('STATE');
    expect(Object.keys(last.value.target_convo.clari_copilot_accounts!)).toEqual([ACCOUNT.crm_id]);
  });

  it('counts its requests in the quota the state carries, and stops at a resumable state before passing it', async () => {
    const { clari, config } = await sandbox();
    const week = { window_start: '2026-06-14T00:00:00Z', requests: 2 };
    const accounts = [1, 2, 3].map((i) => ({ crm_id: `001QUOTA${i}`, name: `Account ${i}` }));
    const limited = { clari_copilot: { ...(config.clari_copilot as JsonRecord), weekly_request_quota: 5 } };
    const out: string[] = [];
    const logger = memoryLogger('info');
    const run = runConvoTarget(Readable.from(accounts.map((a) => record('clari_copilot_accounts', a))), async (line) => void out.push(line), fillDefaults(limited, PROVIDERS, TARGET_SETTINGS), {
      logger,
      persister: createConfigPersister(new Map(), logger),
      state: { quota: { clari_copilot: week } },
      reject: () => undefined,
      now: () => TEST_NOW,
    });
    // Each new account costs a read-back and a create: the first two requests of the week were spent before, the third account's are past the quota.
    await expect(run).rejects.toThrow(/^Clari Copilot: the weekly quota of 5 requests is used up \(5 counted across runs\)/);
    const last = JSON.parse(out.at(-1)!) as { value: { quota: JsonRecord; target_convo: Record<string, JsonRecord> } };
    expect(last.value.quota).toEqual({ clari_copilot: { window_start: '2026-06-14T00:00:00Z', requests: 5 } });
    expect(Object.keys(last.value.target_convo.clari_copilot_accounts!)).toEqual([accounts[0]!.crm_id]);
    expect(clari.writes.object('account', accounts[1]!.crm_id)).toBeUndefined();
  });

  it("counts on from the higher count of a tap's STATE passed through it, and carries the rest of that state on", async () => {
    const { config } = await sandbox();
    const tap = { bookmarks: { clari_copilot_calls: { replication_key_value: '2026-06-14T00:00:00Z' } }, quota: { clari_copilot: { window_start: '2026-06-14T00:00:00Z', requests: 40 }, gong: { window_start: '2026-06-15T00:00:00Z', requests: 7 } } };
    const run = await write(config, [state(tap), record('clari_copilot_accounts', ACCOUNT)], { quota: { clari_copilot: { window_start: '2026-06-14T00:00:00Z', requests: 10 } } });
    expect(run.last).toMatchObject({ bookmarks: tap.bookmarks, quota: { clari_copilot: { requests: 42 }, gong: { requests: 7 } } });
  });

  it('refuses a stream it cannot write in one line naming the streams it can', async () => {
    const { config } = await sandbox();
    await expect(write(config, [record('gong_users', { id: '1' })])).rejects.toThrow(
      'target-convo writes gong_calls, clari_copilot_calls, clari_copilot_accounts, clari_copilot_contacts, clari_copilot_deals, fourfour_accounts, fourfour_contacts, fourfour_opportunities, fourfour_leads, fourfour_users; it cannot write stream gong_users',
    );
  });

  it('--dry-run validates and prints each request, sending none, and records nothing as written', async () => {
    const { config, server } = await sandbox();
    const run = await write({ ...config, dry_run: true }, [record('clari_copilot_accounts', ACCOUNT)]);
    expect(server.traffic['clari-copilot']!.requests).toBe(0);
    expect(run.logs.some((line) => line.startsWith('INFO dry run: ') && line.includes('/create-account') && line.includes(ACCOUNT.crm_id))).toBe(true);
    expect(run.states).toEqual([]);
  });

  it.each([3, 11, 24])('killed (SIGKILL) after %i creates, a rerun from the last STATE it echoed creates each key exactly once', async (creates) => {
    const { clari, config } = await sandbox();
    const dir = tempDir();
    // Paced, so the kill lands mid-run; a STATE every 5 records.
    const path = writeJson(dir, 'config.json', { clari_copilot: { ...(config.clari_copilot as JsonRecord), requests_per_second: 20 } });
    const accounts = Array.from({ length: 30 }, (_, i) => ({ crm_id: `001KILL${String(i).padStart(10, '0')}`, name: `Account ${i}` }));
    const lines = accounts.flatMap((a, i) => [record('clari_copilot_accounts', a), ...(i % 5 === 4 ? [state({ bookmarks: {}, at: i })] : [])]);
    const created = () => accounts.filter((a) => clari.writes.count('create-account', a.crm_id) > 0).length;
    const reached = new Promise<void>((resolve) => {
      const timer = setInterval(() => created() >= creates && (clearInterval(timer), resolve()), 5);
    });
    const killed = await runBinary('target-convo', ['--config', path], { input: lines.join('\n') + '\n', signal: { signal: 'SIGKILL', when: reached } });
    expect(killed.signal).toBe('SIGKILL');
    expect(created()).toBeLessThan(accounts.length);
    const last = killed.lines.filter((line) => line.type === 'STATE').at(-1) as { value: JsonRecord } | undefined;
    const rerun = await runBinary('target-convo', ['--config', path, ...(last ? ['--state', writeJson(dir, 'state.json', last.value)] : [])], { input: lines.join('\n') + '\n' });
    expect(rerun.code, rerun.stderr).toBe(0);
    for (const account of accounts) {
      expect(clari.writes.count('create-account', account.crm_id), account.crm_id).toBe(1);
      expect(clari.writes.received('create-account', account.crm_id), account.crm_id).toBe(1);
    }
  }, 60_000);

  it('as a binary: exit 1 after a reject, the rejects on stderr, STATE on stdout, no secret anywhere', async () => {
    const { config } = await sandbox();
    const dir = tempDir();
    const path = writeJson(dir, 'config.json', config);
    const input = [record('clari_copilot_accounts', { crm_id: '001BAD', name: 42 }), record('clari_copilot_accounts', ACCOUNT), state({ bookmarks: {} })].join('\n') + '\n';
    const run = await runBinary('target-convo', ['--config', path], { input, secrets: [String((config.clari_copilot as JsonRecord).api_password)] });
    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toMatchObject({ type: 'STATE' });
    expect(run.stderr).toContain('"key":"001BAD"');
  });
});
