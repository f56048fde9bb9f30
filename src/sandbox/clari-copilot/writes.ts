import { ApiError, badRequest } from '../kit/errors.js';
import { WriteTally } from '../kit/tally.js';
import { rngFor, uuid } from '../random.js';
import { inSchemaOrder } from './bodies.js';
import { iso } from './calls.js';
import type { CrmObject, CrmRecords } from './crm.js';
import type { ApiRecord } from './directory.js';

/** A write operation, named as its endpoint is (Clari Copilot OpenAPI: POST /create-call, PUT /update-deal, …). */
export type WriteOperation = `${'create' | 'update' | 'delete'}-${CrmObject}` | 'create-call';

/** An account, contact or deal as written: the full object (`id` and the fields), and whether it was deleted since. */
export interface WrittenObject {
  readonly record: Readonly<ApiRecord>;
  readonly deleted: boolean;
}

/** A call made through POST /create-call: its Copilot id, the body accepted last for its source id, and when that body was. */
export interface CreatedCall {
  readonly call_id: string;
  readonly source_id: string;
  readonly fields: Readonly<ApiRecord>;
  /** When the call was created, or replaced by `force_overwrite_old_call`: its `last_modified_time`. */
  readonly written_at: string;
}

/** What tests see of the writes: the objects and calls written, and how often each key was written. */
export interface ClariWrites {
  /** The account, contact or deal written under this CRM id, deleted or not; undefined if it never was. */
  object(object: CrmObject, crmId: string): WrittenObject | undefined;
  /** Every call created, in order of creation. */
  calls(): readonly CreatedCall[];
  /**
   * Writes that took effect for a key (a CRM id, or a call's source id): a refused create of an
   * existing object, or a repeated create-call that only answers the call it made before, does not count.
   */
  count(operation: WriteOperation, key: string): number;
  /** Requests for a key that passed validation, whether they took effect or not. */
  received(operation: WriteOperation, key: string): number;
}

/**
 * The accounts, contacts, deals and calls written through the Clari Copilot API, over the generated
 * CRM records: a write to a generated record's CRM id turns it into a written one. Held in memory
 * for the sandbox's life; every id it hands out is derived from the seed and the key, so two
 * sandboxes with one seed answer the same writes alike.
 */
export class WriteStore implements ClariWrites {
  /** Each object as written last, and the number of that write among all of them (the later, the higher). */
  private readonly objects = new Map<string, { record: ApiRecord; deleted: boolean; sequence: number }>();
  private writes = 0;
  /** CRM id of each written object by its Copilot id, per object type. */
  private readonly crmIds = new Map<string, string>();
  private readonly created = new Map<string, CreatedCall>();
  private readonly tally = new WriteTally<WriteOperation>();

  constructor(
    private readonly seed: number,
    private readonly crm: CrmRecords,
  ) {}

  object(object: CrmObject, crmId: string): WrittenObject | undefined {
    const written = this.objects.get(`${object}/${crmId}`);
    return written && { record: { ...written.record }, deleted: written.deleted };
  }

  calls(): readonly CreatedCall[] {
    return [...this.created.values()];
  }

  count(operation: WriteOperation, key: string): number {
    return this.tally.count(operation, key);
  }

  received(operation: WriteOperation, key: string): number {
    return this.tally.received(operation, key);
  }

  /** What GET /get-…?id= answers: the written object unless deleted, else the generated one; undefined for a 404. */
  current(object: CrmObject, crmId: string, nowMs: number): ApiRecord | undefined {
    const written = this.objects.get(`${object}/${crmId}`);
    if (written) return written.deleted ? undefined : { ...written.record };
    return this.crm.record(object, crmId, nowMs);
  }

  /** POST /create-…: a new object under `fields.crm_id`; 400 when one exists there. */
  create(object: CrmObject, fields: ApiRecord, nowMs: number): ApiRecord {
    const crmId = fields.crm_id as string;
    this.tally.receive(`create-${object}`, crmId);
    if (this.current(object, crmId, nowMs)) throw badRequest(`${object} with crm_id ${crmId} already exists`);
    const id = this.generatedId(object, crmId, nowMs) ?? uuid(rngFor(this.seed, 'clari-copilot', 'crm-written', object, crmId));
    return this.store(object, { id, ...fields }, `create-${object}`);
  }

  /**
   * PUT /update-…: the fields given replace those stored. Found by `crm_id`, or by the Copilot `id`
   * alone among written objects (generated ids are hashes of CRM ids, not indexed); a body naming both
   * must name the same object. 404 when there is none.
   */
  update(object: CrmObject, fields: ApiRecord, nowMs: number): ApiRecord {
    const id = fields.id as string | undefined;
    const crmId = (fields.crm_id as string | undefined) ?? (id === undefined ? undefined : this.crmIds.get(`${object}/${id}`));
    this.tally.receive(`update-${object}`, crmId ?? `id:${id}`);
    const record = crmId === undefined ? undefined : this.current(object, crmId, nowMs);
    if (!record) throw new ApiError(404, `No ${object} with ${fields.crm_id === undefined ? `id ${id}` : `crm_id ${crmId}`}`);
    if (id !== undefined && id !== record.id) throw badRequest(`id: ${id} is not the id of the ${object} with crm_id ${crmId}`);
    return this.store(object, inSchemaOrder(object, { ...record, ...fields }), `update-${object}`);
  }

  /** DELETE /delete-…: the object's last snapshot; 404 when there is none. */
  delete(object: CrmObject, crmId: string, nowMs: number): ApiRecord {
    this.tally.receive(`delete-${object}`, crmId);
    const record = this.current(object, crmId, nowMs);
    if (!record) throw new ApiError(404, `No ${object} with id ${crmId}`);
    this.objects.set(`${object}/${crmId}`, { record, deleted: true, sequence: ++this.writes });
    this.tally.done(`delete-${object}`, crmId);
    return { ...record };
  }

  /** The written contacts, not deleted, with this email among their `emails` (compared ignoring case), oldest write first. */
  contactsWithEmail(email: string): ApiRecord[] {
    const wanted = email.toLowerCase();
    return this.live('contact')
      .filter((record) => ((record.emails as string[] | undefined) ?? []).some((candidate) => candidate.toLowerCase() === wanted))
      .map((record) => ({ ...record }));
  }

  /** The written deal, not deleted, of this account (`account_crm_id`) that was written last. */
  latestDealOf(accountCrmId: string): ApiRecord | undefined {
    const deal = this.live('deal').findLast((record) => record.account_crm_id === accountCrmId);
    return deal && { ...deal };
  }

  /**
   * POST /create-call: `source_id` de-duplicates (Clari Copilot OpenAPI, POST /create-call), so a
   * second create answers the first call's id and changes nothing, unless `force_overwrite_old_call`
   * replaces the call, which keeps its id. `nowMs` stamps the call's `last_modified_time`.
   */
  createCall(fields: ApiRecord, nowMs: number): CreatedCall {
    const sourceId = fields.source_id as string;
    this.tally.receive('create-call', sourceId);
    const existing = this.created.get(sourceId);
    if (existing && fields.force_overwrite_old_call !== true) return existing;
    const callId = existing?.call_id ?? uuid(rngFor(this.seed, 'clari-copilot', 'created-call', sourceId));
    const call = { call_id: callId, source_id: sourceId, fields: { ...fields }, written_at: iso(nowMs) };
    this.created.set(sourceId, call);
    this.tally.done('create-call', sourceId);
    return call;
  }

  /** The written objects of one type that are not deleted, in the order they were last written. */
  private live(object: CrmObject): ApiRecord[] {
    return [...this.objects.entries()]
      .filter(([key, written]) => key.startsWith(`${object}/`) && !written.deleted)
      .sort(([, a], [, b]) => a.sequence - b.sequence)
      .map(([, written]) => written.record);
  }

  /** A generated record's Copilot id, kept when a write takes it over. */
  private generatedId(object: CrmObject, crmId: string, nowMs: number): string | undefined {
    return this.crm.record(object, crmId, nowMs)?.id as string | undefined;
  }

  private store(object: CrmObject, record: ApiRecord, operation: WriteOperation): ApiRecord {
    const crmId = record.crm_id as string;
    this.objects.set(`${object}/${crmId}`, { record, deleted: false, sequence: ++this.writes });
    this.crmIds.set(`${object}/${record.id as string}`, crmId);
    this.tally.done(operation, crmId);
    return { ...record };
  }
}
