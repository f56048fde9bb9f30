import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonRecord } from '../../src/protocol/messages.js';
import { createGongSandbox, type GongSandbox } from '../../src/sandbox/gong/index.js';
import { startSandbox, type FaultOptions, type RunningSandbox } from '../../src/sandbox/server.js';
import { record, writeWithTarget as write } from '../helpers/convo.js';
import { tempDir } from '../helpers/binary.js';
import { TEST_NOW } from '../helpers/sync.js';

let running: RunningSandbox | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function sandbox(faults?: FaultOptions): Promise<{ server: RunningSandbox; gong: GongSandbox; config: JsonRecord; host: string; unrecorded: string }> {
  let gong: GongSandbox | undefined;
  const server = await startSandbox({ seed: 4, now: () => TEST_NOW, unlimited: true, faults, providers: (o) => [(gong = createGongSandbox(o))] });
  running = server;
  const off = new Set(gong!.writes.recordingDisabledUserIds());
  const users = Array.from({ length: 20 }, (_, i) => gong!.data.userId(i));
  const block = server.tapConfig().gong as JsonRecord;
  return { server, gong: gong!, config: { gong: { ...block, requests_per_second: 1000 } }, host: users.find((id) => !off.has(id))!, unrecorded: [...off][0]! };
}

/** A call as a dialer's warehouse table would hold it: the fields POST /v2/calls requires, and a few more. */
const callOf = (host: string, n: number): JsonRecord => ({
  clientUniqueId: `DIALER-${String(n).padStart(6, '0')}`,
  actualStart: TEST_NOW.minus({ hours: 3, minutes: n }).toISO(),
  direction: 'Outbound',
  primaryUser: host,
  parties: [{ userId: host }, { name: 'Pat Doe', phoneNumber: '+15550199', emailAddress: 'pat@customer.example' }],
  title: `Call ${n}`,
  duration: 125.5,
  disposition: 'Connected',
});

describe('target-convo into Gong', () => {
  it('adds a call once per clientUniqueId; a rerun from the state sends nothing', async () => {
    const { gong, config, host, server } = await sandbox();
    const call = callOf(host, 1);
    const first = await write(config, [record('gong_calls', call)]);
    expect(first.summary).toEqual({ written: 1, unchanged: 0, rejected: 0 });
    const [created] = gong.writes.calls();
    expect(created).toMatchObject({ clientUniqueId: call.clientUniqueId, fields: call });
    expect(first.written.gong_calls![String(call.clientUniqueId)]!.id).toBe(created!.callId);
    const sent = server.traffic.gong!.requests;
    const again = await write(config, [record('gong_calls', call)], first.last);
    expect(again.summary).toEqual({ written: 0, unchanged: 1, rejected: 0 });
    expect(server.traffic.gong!.requests).toBe(sent);
  });

  it('uploads the recording a record names with PUT /v2/calls/{id}/media, leaving media_file out of the body', async () => {
    const { gong, config, host } = await sandbox();
    const file = join(tempDir(), 'call-2.mp3');
    writeFileSync(file, Buffer.alloc(4096, 7));
    const run = await write(config, [record('gong_calls', { ...callOf(host, 2), media_file: file })]);
    expect(run.summary.written).toBe(1);
    const [created] = gong.writes.calls();
    expect(created!.fields).not.toHaveProperty('media_file');
    expect(created!.media).toMatchObject({ filename: 'call-2.mp3', size: 4096 });
    expect(gong.writes.count('add-media', created!.callId)).toBe(1);
  });

  it.each([
    ['the primary user records nothing (Gong answers 409)', (host: string, unrecorded: string): JsonRecord => ({ ...callOf(host, 3), primaryUser: unrecorded, parties: [{ userId: unrecorded }] }), 409, /recording is not enabled/i, 1],
    ['no party is the primary user', (host: string): JsonRecord => ({ ...callOf(host, 4), parties: [{ name: 'Pat Doe' }] }), null, /^parties: a party must be provided for the primaryUser$/, 0],
    ['its media_file does not exist', (host: string): JsonRecord => ({ ...callOf(host, 5), media_file: '/nonexistent/call.mp3' }), null, /^media_file \/nonexistent\/call\.mp3: cannot be read \(ENOENT\)$/, 0],
    ['it names both media_file and downloadMediaUrl', (host: string): JsonRecord => ({ ...callOf(host, 6), media_file: '/tmp/x.mp3', downloadMediaUrl: 'https://media.example/x.mp3' }), null, /^media_file and downloadMediaUrl: give one of them, not both/, 0],
    ['a required field is missing', (host: string): JsonRecord => ({ ...callOf(host, 7), direction: undefined }), null, /write schema: direction is required$/, 0],
  ] as Array<[string, (host: string, unrecorded: string) => JsonRecord, number | null, RegExp, number]>)('rejects a call when %s, with the reason, and writes the rest', async (_, make, status, message, requests) => {
    const { gong, config, host, unrecorded, server } = await sandbox();
    const bad = make(host, unrecorded);
    const run = await write(config, [record('gong_calls', bad), record('gong_calls', callOf(host, 8))]);
    expect(run.summary).toEqual({ written: 1, unchanged: 0, rejected: 1 });
    expect(run.rejects[0]).toMatchObject({ stream: 'gong_calls', key: bad.clientUniqueId, status });
    expect(String(run.rejects[0]!.message)).toMatch(message);
    // The good call's create, and the bad one's only where Gong had to be asked.
    expect(server.traffic.gong!.requests).toBe(1 + requests);
    expect(gong.writes.calls().map((c) => c.clientUniqueId)).toEqual(['DIALER-000008']);
  });

  it('refuses to resend a call whose record changed after it was added, as Gong cannot update calls', async () => {
    const { config, host } = await sandbox();
    const first = await write(config, [record('gong_calls', callOf(host, 9))]);
    const changed = await write(config, [record('gong_calls', { ...callOf(host, 9), title: 'Renamed' })], first.last);
    expect(changed.rejects).toEqual([{ stream: 'gong_calls', key: 'DIALER-000009', status: null, message: expect.stringMatching(/^Gong cannot update calls: call \d+ was added for this clientUniqueId with other values/) }]);
  });

  it('adds every call exactly once under 30% faults, lost answers included: a resend answers the call Gong de-duplicated', async () => {
    const { gong, config, host, server } = await sandbox({ rate: 0.3, kinds: ['truncated', '500', '502', '503', 'reset', 'timeout', '429'], holdMs: 1500 });
    const calls = Array.from({ length: 25 }, (_, i) => callOf(host, 100 + i));
    const run = await write({ gong: { ...(config.gong as JsonRecord), request_timeout: 1 } }, calls.map((c) => record('gong_calls', c)));
    expect(run.summary).toEqual({ written: 25, unchanged: 0, rejected: 0 });
    expect(server.traffic.gong!.faults).toBeGreaterThan(0);
    for (const call of calls) {
      const id = String(call.clientUniqueId);
      expect(gong.writes.count('create-call', id), id).toBe(1);
      expect(run.written.gong_calls![id]!.id).toBe(gong.writes.calls().find((c) => c.clientUniqueId === id)!.callId);
    }
  }, 60_000);

  it('--dry-run prints the create and the upload (the file by name and size), sending nothing', async () => {
    const { config, host, server } = await sandbox();
    const file = join(tempDir(), 'call-10.wav');
    writeFileSync(file, Buffer.alloc(100));
    const run = await write({ ...config, dry_run: true }, [record('gong_calls', { ...callOf(host, 10), media_file: file })]);
    expect(server.traffic.gong!.requests).toBe(0);
    const printed = run.logs.filter((line) => line.startsWith('INFO dry run: ')).map((line) => JSON.parse(line.slice('INFO dry run: '.length)) as JsonRecord);
    expect(printed.map((request) => [request.method, new URL(String(request.url)).pathname])).toEqual([
      ['POST', '/gong/v2/calls'],
      ['PUT', '/gong/v2/calls/dry-run/media'],
    ]);
    expect(printed[1]!.body).toEqual({ mediaFile: 'call-10.wav (100 bytes)' });
  });
});
