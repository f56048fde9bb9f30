import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { FormData } from 'undici';
import type { JsonRecord } from '../../protocol/messages.js';
import { gong, type GongConfig } from '../../providers/gong/provider.js';
import { RecordRefused, singleRecordWriter, type ObjectWriter } from './writers.js';

/** Gong's new call id (gong-openapi.json NewCallAddingResponse `callId`). */
function callIdOf(answer: unknown): string {
  const id = (answer as JsonRecord | undefined)?.callId;
  if (typeof id !== 'string' || id === '') throw new Error('Gong answered POST /v2/calls without a callId');
  return id;
}

/**
 * Calls are added with POST /v2/calls (gong-openapi.json addCall), then their recording uploaded with
 * PUT /v2/calls/{id}/media (addCallRecording) when the record names a local `media_file`. Gong
 * de-duplicates on `clientUniqueId` ("to prevent repeated attempts to upload the same recording"), so a
 * create whose answer was lost is sent again and answers the same call; the upload is a PUT. Gong
 * cannot update or delete a call through its API, so a changed record is refused, not resent.
 */
const callWriter = singleRecordWriter<GongConfig>({ stream: 'gong_calls', provider: gong, key: 'clientUniqueId', schemaFile: 'calls' }, {
  async upsert({ payload, before }, channel) {
    if (before) throw new RecordRefused(`Gong cannot update calls: call ${before.id} was added for this clientUniqueId with other values; a new clientUniqueId adds a new call`);
    const { media_file: mediaFile, ...body } = payload as JsonRecord & { media_file?: string };
    // addCall: "A party must be provided for the primaryUser"; checked here so the record is refused before anything is sent.
    const parties = body.parties as JsonRecord[];
    if (!parties.some((party) => party.userId === body.primaryUser)) throw new RecordRefused('parties: a party must be provided for the primaryUser');
    // addCall: "If you provide this URL, you should not perform the 'Add call media' step."
    if (mediaFile !== undefined && body.downloadMediaUrl !== undefined) throw new RecordRefused('media_file and downloadMediaUrl: give one of them, not both (Gong downloads the recording from downloadMediaUrl itself)');
    const media = mediaFile === undefined ? undefined : await recording(mediaFile);
    const callId = callIdOf(await channel.send({ method: 'POST', path: '/v2/calls', body }));
    if (media) {
      const form = new FormData();
      form.set('mediaFile', media, basename(mediaFile!));
      await channel.send({ method: 'PUT', path: `/v2/calls/${encodeURIComponent(callId)}/media`, body: form });
    }
    return callId;
  },
});

/** addCallRecording: "You may attach files up to 1.5GB in size." */
const MOST_MEDIA_BYTES = 1.5 * 2 ** 30;

/** The recording a record names, read from disk as it is sent; one Gong would not take refuses the record before any request. */
async function recording(path: string): Promise<Blob> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) throw new RecordRefused(`media_file ${path}: cannot be read (${found.code ?? found.message})`);
  if (!found.isFile()) throw new RecordRefused(`media_file ${path}: is not a file`);
  if (found.size > MOST_MEDIA_BYTES) throw new RecordRefused(`media_file ${path}: ${found.size} bytes, more than the 1.5 GB Gong accepts`);
  return openAsBlob(path);
}

export const gongWriters: ObjectWriter<GongConfig>[] = [callWriter];
