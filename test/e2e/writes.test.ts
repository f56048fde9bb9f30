import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRecord } from '../../src/protocol/messages.js';
import type { ClariSandbox } from '../../src/sandbox/clari-copilot/index.js';
import type { GongSandbox } from '../../src/sandbox/gong/index.js';
import { allSandboxProviders } from '../../src/sandbox/index.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server.js';
import type { SandboxProvider } from '../../src/sandbox/types.js';
import { runBinary, secretsOf, tempDir, writeJson } from '../helpers/binary.js';
import { record, type WrittenKeys } from '../helpers/convo.js';
import { TEST_NOW } from '../helpers/sync.js';

/**
 * The round trip a user makes: rows written with the real `target-convo` binary, then read back with
 * the real `tap-convo` binary from the same config file, field by field.
 */
let sandbox: RunningSandbox;
let providers: SandboxProvider[];
let dir: string;
let configPath: string;
let secrets: string[];
/** The sandbox's clock: writes happen before TEST_NOW, the tap reads up to it (its end_date), so what was written is inside the window read. */
const clock = { now: TEST_NOW };

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 9, now: () => clock.now, unlimited: true, providers: (options) => (providers = allSandboxProviders(options)) });
  dir = tempDir();
  const config = sandbox.tapConfig({ start_date: TEST_NOW.minus({ days: 3 }).toISO(), end_date: TEST_NOW.toISO() });
  for (const block of Object.values(config)) if (block && typeof block === 'object') Object.assign(block, { requests_per_second: 100 });
  configPath = writeJson(dir, 'config.json', config);
  secrets = secretsOf(config);
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

const sandboxOf = <P extends SandboxProvider>(configKey: string) => providers.find((p) => p.configKey === configKey) as P;

/** Writes the lines with target-convo; its last STATE. */
async function writeAll(lines: string[]): Promise<{ written: WrittenKeys }> {
  clock.now = TEST_NOW.minus({ minutes: 30 });
  const run = await runBinary('target-convo', ['--config', configPath], { input: lines.join('\n') + '\n', secrets });
  expect(run.code, run.stderr).toBe(0);
  const last = run.lines.filter((line) => line.type === 'STATE').at(-1) as { value: { target_convo: WrittenKeys } };
  return { written: last.value.target_convo };
}

/** Reads the streams back with tap-convo; their records by stream. */
async function readBack(streams: string[]): Promise<Record<string, JsonRecord[]>> {
  clock.now = TEST_NOW;
  const discovered = await runBinary('tap-convo', ['--config', configPath, '--discover']);
  const catalog = discovered.lines[0] as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: JsonRecord }> }> };
  for (const stream of catalog.streams) {
    for (const entry of stream.metadata) if (entry.breadcrumb.length === 0) entry.metadata.selected = streams.includes(stream.tap_stream_id);
  }
  const run = await runBinary('tap-convo', ['--config', configPath, '--catalog', writeJson(dir, 'catalog.json', catalog)], { secrets });
  expect(run.code, run.stderr).toBe(0);
  const records: Record<string, JsonRecord[]> = {};
  for (const line of run.lines) if (line.type === 'RECORD') (records[String(line.stream)] ??= []).push(line.record as JsonRecord);
  return records;
}

describe('written with target-convo, read back with tap-convo', () => {
  it('Gong: a call and its recording come back through gong_calls', async () => {
    const gong = sandboxOf<GongSandbox>('gong');
    const off = new Set(gong.writes.recordingDisabledUserIds());
    const host = Array.from({ length: 20 }, (_, i) => gong.data.userId(i)).find((id) => !off.has(id))!;
    const media = join(dir, 'rt-call.mp3');
    writeFileSync(media, Buffer.alloc(2048, 1));
    const call = {
      clientUniqueId: 'RT-DIALER-1',
      actualStart: TEST_NOW.minus({ hours: 4 }).toISO(),
      direction: 'Outbound',
      primaryUser: host,
      parties: [{ userId: host }, { name: 'Pat Doe', phoneNumber: '+15550199', emailAddress: 'pat@customer.example' }],
      title: 'Renewal check-in',
      purpose: 'Renewal',
      disposition: 'Connected',
      duration: 300,
      media_file: media,
    };
    const { written } = await writeAll([record('gong_calls', call)]);
    const id = written.gong_calls![call.clientUniqueId]!.id;
    const read = await readBack(['gong_calls']);
    const readCall = read.gong_calls!.find((candidate) => (candidate.metaData as JsonRecord).id === id)!;
    expect(readCall.metaData).toMatchObject({ clientUniqueId: call.clientUniqueId, title: call.title, purpose: call.purpose, sdrDisposition: call.disposition, duration: call.duration, direction: call.direction, primaryUserId: host, scope: 'External', media: 'Audio' });
    expect(Date.parse(String((readCall.metaData as JsonRecord).started))).toBe(Date.parse(call.actualStart!));
    expect(gong.writes.calls().find((c) => c.callId === id)!.media).toMatchObject({ filename: 'rt-call.mp3', size: 2048 });
  }, 60_000);

  it('Clari Copilot: accounts, contacts and a deal, named by a call whose participant is one of the contacts', async () => {
    const clari = sandboxOf<ClariSandbox>('clari_copilot');
    const recorder = [...clari.dataset.records('users')].find((user) => user.is_recording)!;
    const account = { crm_id: '001RT0000000001', name: 'Initech', website: 'https://initech.example', city: 'Austin', phones: ['+15125550100'] };
    const contact = { crm_id: '003RT0000000001', account_crm_id: account.crm_id, first_name: 'Peter', last_name: 'Gibbons', emails: ['peter@initech.example'], job_title: 'Engineer' };
    const deal = { crm_id: '006RT0000000001', account_crm_id: account.crm_id, deal_name: 'Initech - TPS', amount: '25000', stage: 'Proposal' };
    const call = {
      source_id: 'rt-call-1',
      type: 'RECORDING',
      call_time: TEST_NOW.minus({ hours: 5 }).toISO(),
      audio_url: 'https://recordings.example/rt-call-1.mp3',
      title: 'TPS report review',
      user_emails: [recorder.email],
      other_name: ['Peter Gibbons'],
      other_email: [contact.emails[0]],
      other_phone: ['+15125550111'],
    };
    const { written } = await writeAll([
      record('clari_copilot_accounts', account),
      record('clari_copilot_contacts', contact),
      record('clari_copilot_deals', deal),
      record('clari_copilot_calls', call),
    ]);
    const read = await readBack(['clari_copilot_calls', 'clari_copilot_accounts', 'clari_copilot_contacts', 'clari_copilot_deals']);

    const readCall = read.clari_copilot_calls!.find((candidate) => candidate.id === written.clari_copilot_calls![call.source_id]!.id)!;
    expect(readCall).toMatchObject({ source_id: call.source_id, title: call.title, type: call.type, crm_info: { account_id: account.crm_id, deal_id: deal.crm_id, contact_ids: [contact.crm_id] } });
    expect(Date.parse(String(readCall.time))).toBe(Date.parse(call.call_time!));
    expect(readCall.externalParticipants).toEqual([expect.objectContaining({ name: 'Peter Gibbons', email: contact.emails[0], phone: '+15125550111' })]);
    for (const [stream, body] of [['clari_copilot_accounts', account], ['clari_copilot_contacts', contact], ['clari_copilot_deals', deal]] as const) {
      const readRecord = read[stream]!.find((candidate) => candidate.crm_id === body.crm_id);
      expect(readRecord, stream).toMatchObject({ ...body, id: written[stream]![body.crm_id]!.id });
    }
  }, 60_000);
});
