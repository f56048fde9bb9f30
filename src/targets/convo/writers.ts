import type { ProviderConfig, ProviderDefinition, RequestSpec } from '../../core/definitions.js';
import { HttpStatusError } from '../../http/client.js';
import type { JsonRecord } from '../../protocol/messages.js';

/** What the target remembers of a key it wrote: the provider's id, and a hash of the payload last sent. */
export interface Written {
  id: string;
  hash: string;
  /** Set once the object was deleted (a record with `_sdc_deleted_at`). */
  deleted?: true;
}

/** How a writer reaches the API: requests relative to the provider's base URL, through its one client. */
export interface WriteChannel {
  /** Sends a request; `unsafeToRepeat` for a write the API does not de-duplicate (retried only where it cannot have been applied). */
  send(spec: RequestSpec, options?: { unsafeToRepeat?: boolean; text?: boolean }): Promise<unknown>;
  /** Waits before the `attempt`-th look at an asynchronous job (Four/Four's imports): short at first, then longer. */
  pause(attempt: number): Promise<void>;
  /** A dry run prints requests instead of sending them, so there is no job to wait for. */
  readonly dryRun: boolean;
}

/** One record to write: its key, the payload its write schema admits, what this target wrote for the key before, and whether it deletes. */
export interface Change {
  key: string;
  payload: JsonRecord;
  before: Written | undefined;
  deleting: boolean;
}

/** What became of a change: written under the provider's id, or refused by the API (its HTTP status when it gave one, and its own words). */
export type Outcome = { id: string } | { refused: { status?: number; message: string } };

/**
 * One object the target writes: the stream that names it, the record field that keys it, its write
 * schema (`catalogs/<provider>/write/<file>.json`), and how changes reach the API.
 */
export interface ObjectWriter<C extends ProviderConfig = ProviderConfig> {
  stream: string;
  provider: ProviderDefinition<C>;
  /** The record field that identifies the object across runs (Clari's `crm_id`, Gong's `clientUniqueId`). */
  key: string;
  schemaFile: string;
  /** Records the API takes in one request: 1 unless it imports batches (Four/Four's CSV imports). */
  batchSize: number;
  /** The provider block the writes authenticate with, when not the tap's (Four/Four imports take a personal token). */
  credentials?(config: C): C;
  /**
   * Writes the changes (at most `batchSize`, distinct keys) and answers each one's outcome, in order.
   * A failure that is no answer about these records (credentials, retries spent, a lost answer) throws.
   */
  write(changes: readonly Change[], channel: WriteChannel): Promise<Outcome[]>;
}

/** How one record is written by an API that takes one record per request. */
export interface SingleWrites {
  /** Creates or updates the object behind `change.payload`; returns the provider's id. */
  upsert(change: Change, channel: WriteChannel): Promise<string>;
  /** Deletes it (Singer's `_sdc_deleted_at`); absent when the API cannot delete the object. */
  remove?(change: Change, channel: WriteChannel): Promise<void>;
}

/** Thrown by a single-record write to refuse its record for a reason of the target's own, before any request. */
export class RecordRefused extends Error {}

/** A writer of one record per request: an API's refusal of a record is its outcome, anything else stops the target. */
export function singleRecordWriter<C extends ProviderConfig>(declaration: Omit<ObjectWriter<C>, 'batchSize' | 'write'>, writes: SingleWrites): ObjectWriter<C> {
  return {
    ...declaration,
    batchSize: 1,
    async write([change], channel) {
      try {
        if (!change!.deleting) return [{ id: await writes.upsert(change!, channel) }];
        if (!writes.remove) return [refused(`${declaration.stream} cannot be deleted through the API`)];
        await writes.remove(change!, channel);
        return [{ id: change!.before?.id ?? '' }];
      } catch (error) {
        if (error instanceof RecordRefused) return [refused(error.message)];
        const refusal = apiRefusal(error);
        if (!refusal) throw error;
        return [{ refused: refusal }];
      }
    },
  };
}

/** An outcome refusing a record for a reason of the target's own, before any request. */
export function refused(message: string): Outcome {
  return { refused: { message } };
}

/** The API's refusal of what was sent (a 4xx but credentials and rate limits): its records are rejected and the target goes on; undefined for any other failure. */
export function apiRefusal(error: unknown): { status: number; message: string } | undefined {
  if (!(error instanceof HttpStatusError) || error.status < 400 || error.status >= 500 || [401, 403, 429].includes(error.status)) return undefined;
  return { status: error.status, message: apiMessage(error) };
}

/** The API's own words for a refusal (Gong's `errors[]`, Clari's `errorMessage`, OData's `error.message`), else the client's message. */
function apiMessage(error: HttpStatusError): string {
  const body = error.body as JsonRecord | string | undefined;
  if (typeof body === 'string') return body;
  const said = body?.errorMessage ?? body?.message ?? (body?.error as JsonRecord | undefined)?.message ?? body?.error ?? body?.errors;
  if (Array.isArray(said) && said.every((item) => typeof item === 'string')) return said.join('; ');
  return said === undefined ? error.message : typeof said === 'string' ? said : JSON.stringify(said);
}
