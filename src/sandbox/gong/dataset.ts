import { DateTime } from 'luxon';
import { callRecord } from './calls.js';
import { flowRecord, type GongData, type GongRecord } from './data.js';
import { ServedCalls, type CallFilter } from './selection.js';
import { FULL_CONTENT_SELECTOR, chooseSections, type ContentSelector } from './selector.js';
import { callTranscript } from './transcripts.js';
import { writtenCallRecord, writtenTranscript, type GongWriteStore } from './writes.js';

export type GongObjectName = 'calls' | 'transcripts' | 'users' | 'workspaces' | 'flows';
export const GONG_OBJECT_NAMES: readonly GongObjectName[] = ['calls', 'transcripts', 'users', 'workspaces', 'flows'];

export interface GongDatasetQuery {
  /** The moment whose view to take; defaults to the sandbox clock's now. Only calls and transcripts change with it. */
  visibleAt?: DateTime;
  /** Calls and transcripts: the window on the call's start, `from` inclusive and `to` exclusive, as the API filters. */
  from?: DateTime;
  to?: DateTime;
  /** Calls: the sections to include, as in the API request; default FULL_CONTENT_SELECTOR. `{}` gives `metaData` only. */
  contentSelector?: ContentSelector;
  /** Users: also list the Gong avatar users. */
  includeAvatars?: boolean;
}

/**
 * Ground truth for tests of the tap: the records the simulated Gong API serves, API-shaped (the
 * elements of `calls`, `callTranscripts`, `users`, `workspaces`, `flows`), generated on demand and
 * never stored. Int64 JSON numbers (scorecard ids inside `content.scorecardsAnswers`) are `bigint`;
 * `toGongJson` writes them as the API does.
 *
 * The data is anchored at the start of the UTC day the sandbox was created on; about 90 days of calls
 * lie before it. A call is served once the clock passes its end plus a seeded processing latency
 * (minutes up to about 20 hours), so calls keep arriving as the injected clock moves on.
 */
export interface GongDataset {
  /** Start of the UTC day the sandbox was created on. */
  readonly anchor: DateTime;
  /** How many records of `object` match the query. */
  count(object: GongObjectName, query?: GongDatasetQuery): number;
  /**
   * The records of `object`, in the API's order: calls and transcripts by start time (then those written
   * through POST /v2/calls, in order of creation), users by creation,
   * flows by creation. Flows are listed once each, as their owner sees them (`Company` or `Personal`).
   */
  records(object: GongObjectName, query?: GongDatasetQuery): Iterable<GongRecord>;
  /** `GET /v2/flows?flowOwnerEmail=` for one user; undefined for an address the API refuses (unknown, or a user without a Gong Engage seat). */
  flowsFor(ownerEmail: string, workspaceId?: string): GongRecord[] | undefined;
  /** When a call started and from when the API serves it (a written call: from its creation); undefined for an id no call has. */
  callTiming(callId: string): { started: DateTime; servedFrom: DateTime } | undefined;
}

export function createGongDataset(data: GongData, writes: GongWriteStore, now: () => DateTime): GongDataset {
  const callsMatching = (query: GongDatasetQuery) => {
    const filter: CallFilter = { ...(query.from ? { fromMs: query.from.toMillis() } : {}), ...(query.to ? { toMs: query.to.toMillis() } : {}) };
    return new ServedCalls(data, writes, filter, (query.visibleAt ?? now()).toMillis());
  };

  function* records(object: GongObjectName, query: GongDatasetQuery = {}): Iterable<GongRecord> {
    switch (object) {
      case 'calls': {
        const sections = chooseSections(query.contentSelector ?? FULL_CONTENT_SELECTOR);
        const requestMs = (query.visibleAt ?? now()).toMillis();
        yield* callsMatching(query).records(
          (index) => callRecord(data, index, sections, requestMs),
          (call) => writtenCallRecord(data, call, sections, requestMs),
        );
        return;
      }
      case 'transcripts':
        yield* callsMatching(query).records((index) => callTranscript(data, index), writtenTranscript);
        return;
      case 'users': {
        const users = data.usersListed(query.includeAvatars === true);
        for (let position = 0; position < users.count; position++) yield users.at(position);
        return;
      }
      case 'workspaces':
        yield* data.workspaces.map((workspace) => ({ ...workspace }));
        return;
      case 'flows':
        for (let index = 0; index < data.flowCount; index++) {
          const flow = data.flow(index);
          yield flowRecord(flow, flow.ownerIndex === undefined ? 'Company' : 'Personal');
        }
    }
  }

  return {
    anchor: data.anchor,
    count(object, query = {}) {
      switch (object) {
        case 'calls':
        case 'transcripts':
          return callsMatching(query).count();
        case 'users':
          return data.usersListed(query.includeAvatars === true).count;
        case 'workspaces':
          return data.workspaces.length;
        case 'flows':
          return data.flowCount;
      }
    },
    records,
    flowsFor(ownerEmail, workspaceId) {
      const userIndex = data.userIndexByEmail(ownerEmail);
      return userIndex === undefined || !data.userHasEngage(userIndex) ? undefined : data.flowsFor(userIndex, workspaceId);
    },
    callTiming(callId) {
      const written = writes.served(callId, Number.POSITIVE_INFINITY);
      if (written) return { started: DateTime.fromMillis(written.startedMs, { zone: 'utc' }), servedFrom: DateTime.fromMillis(written.createdMs, { zone: 'utc' }) };
      const index = data.callIndex(callId);
      if (index === undefined) return undefined;
      return { started: DateTime.fromMillis(data.timeline.startedMs(index), { zone: 'utc' }), servedFrom: DateTime.fromMillis(data.timeline.servedFromMs(index), { zone: 'utc' }) };
    },
  };
}
