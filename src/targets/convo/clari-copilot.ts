import { HttpStatusError, UncertainWrite } from '../../http/client.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { clariCopilot, type ClariCopilotConfig } from '../../providers/clari-copilot/provider.js';
import { singleRecordWriter, type ObjectWriter, type WriteChannel } from './writers.js';

/** The id of an object as Clari answers it (CLARI-OAS `Account.id` …, `CreateCallResponse.call_id`). */
function idOf(answer: unknown, field: string): string {
  const id = (answer as JsonRecord | undefined)?.[field];
  if (typeof id !== 'string' || id === '') throw new Error(`Clari Copilot answered without ${field}`);
  return id;
}

/** GET /get-<object>?id=: the object Clari holds for a CRM id, or undefined (404). */
async function readBack(object: string, crmId: string, channel: WriteChannel): Promise<JsonRecord | undefined> {
  try {
    return (await channel.send({ method: 'GET', path: `/get-${object}`, query: { id: crmId } })) as JsonRecord;
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Accounts, contacts and deals are upserted on `crm_id` (CLARI-OAS /create-…, /update-…, /delete-…):
 * a key this target wrote is updated; an unknown one is read back first, so an object that exists
 * (created by another client, or by a create whose answer was lost) is updated, never created twice.
 * Creates carry no de-duplication key, so they are never resent blindly (unsafeToRepeat).
 */
function crmWriter(stream: string, object: 'account' | 'contact' | 'deal', schemaFile: string): ObjectWriter<ClariCopilotConfig> {
  return singleRecordWriter({ stream, provider: clariCopilot, key: 'crm_id', schemaFile }, {
    async upsert({ payload, before }, channel) {
      const crmId = String(payload.crm_id);
      const update = async (id: unknown) => idOf(await channel.send({ method: 'PUT', path: `/update-${object}`, body: { ...payload, id } }), 'id');
      const create = async () => idOf(await channel.send({ method: 'POST', path: `/create-${object}`, body: payload }, { unsafeToRepeat: true }), 'id');
      const held = before && !before.deleted ? before.id : (await readBack(object, crmId, channel))?.id;
      if (typeof held === 'string') return update(held);
      try {
        return await create();
      } catch (error) {
        if (!(error instanceof UncertainWrite)) throw error;
        // The answer was lost: the read-back says whether the create happened (then the payload is made sure of); only if not is it sent again.
        const created = await readBack(object, crmId, channel);
        return typeof created?.id === 'string' ? update(created.id) : create();
      }
    },
    async remove({ key: crmId }, channel) {
      try {
        await channel.send({ method: 'DELETE', path: `/delete-${object}`, body: { id: crmId } });
      } catch (error) {
        // Already gone: the delete asked for holds.
        if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
      }
    },
  });
}

/** Calls are created (CLARI-OAS POST /create-call; there is no update); Clari de-duplicates on `source_id`, so a resend is safe. */
const callWriter = singleRecordWriter<ClariCopilotConfig>({ stream: 'clari_copilot_calls', provider: clariCopilot, key: 'source_id', schemaFile: 'calls' }, {
  async upsert({ payload, before }, channel) {
    // A changed call replaces the one Clari holds for its source_id; an unchanged one never gets here.
    const body = before ? { ...payload, force_overwrite_old_call: true } : payload;
    const answer = (await channel.send({ method: 'POST', path: '/create-call', body })) as JsonRecord;
    if (typeof answer.error === 'string' && answer.error !== '') throw new HttpStatusError(400, answer, 'POST /create-call', answer.error);
    return idOf(answer, 'call_id');
  },
});

export const clariCopilotWriters: ObjectWriter<ClariCopilotConfig>[] = [
  callWriter,
  crmWriter('clari_copilot_accounts', 'account', 'accounts'),
  crmWriter('clari_copilot_contacts', 'contact', 'contacts'),
  crmWriter('clari_copilot_deals', 'deal', 'deals'),
];
