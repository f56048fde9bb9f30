import type { ProviderConfig, ProviderDefinition, RequestSpec } from '../../core/definitions.js';
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
  send(spec: RequestSpec, options?: { unsafeToRepeat?: boolean }): Promise<unknown>;
}

/**
 * One object the target writes: the stream that names it, the record field that keys it, its write
 * schema (`catalogs/<provider>/write/<file>.json`), and how a payload reaches the API.
 */
export interface ObjectWriter<C extends ProviderConfig = ProviderConfig> {
  stream: string;
  provider: ProviderDefinition<C>;
  /** The record field that identifies the object across runs (Clari's `crm_id`, `source_id`). */
  key: string;
  schemaFile: string;
  /**
   * Creates or updates the object behind `payload`, given what this target wrote for its key before;
   * returns the provider's id. `channel` is the provider's client.
   */
  upsert(payload: JsonRecord, before: Written | undefined, channel: WriteChannel): Promise<string>;
  /** Deletes it (Singer's `_sdc_deleted_at`); undefined when the object cannot be deleted. */
  remove?(key: string, before: Written | undefined, channel: WriteChannel): Promise<void>;
}
