import type { DateTime } from 'luxon';
import type { JsonRecord } from '../protocol/messages.js';
import type { StreamPlan } from './catalog.js';
import type { Checkpoints } from './checkpoints.js';
import type { SyncEvent } from './events.js';
import { depthOf, type Family } from './families.js';
import { ParentVersions } from './parent-versions.js';
import { readAll, requestContext, SkipParents, StreamRefused, type ProviderRun } from './reading.js';
import { recordEmitter, type RecordEmitter } from './records.js';
import { parseInstant, type Bookmark } from './state.js';

/**
 * A child stream's parents waiting for their batch, kept across pages and windows so every batch is
 * full but the last. Parents are counted in arrival order: `waiting` holds those from `delivered` up
 * to `accepted`, and a window's bookmark is held until the parents accepted before its end are delivered.
 */
export interface ChildQueue {
  plan: StreamPlan;
  emitter: RecordEmitter;
  waiting: JsonRecord[];
  accepted: number;
  delivered: number;
  held: Array<{ through: number; bookmark: Bookmark }>;
  versions: ParentVersions | undefined;
  /** Set once the API refused the stream ('skip-stream'): its parents are no longer read, and its bookmark stays. */
  refused?: StreamRefused;
  /** The newest replication-key value among the parents read so far, wanted or not. */
  newestParent?: DateTime;
  /** For a child of references: the ids queued so far in this run. */
  referenced?: Set<string>;
  /** A stream read only for the children below it: its records feed them and are not emitted. */
  relay: boolean;
  /** The records of the stream the references are drawn across (`parent.across`), read when the family starts. */
  across?: JsonRecord[];
  /** The queues of the streams whose parent this stream is. */
  below: ChildQueue[];
}

/** What reading a family's children shares: the family, its provider's run and the run's bookmarks. */
export interface ChildRun {
  family: Family;
  run: ProviderRun;
  checkpoints: Checkpoints;
}

/**
 * A queue for each child and relay of a family, parents before the streams below them, each linked to
 * the queues it feeds. A relay's records are never emitted, so its emitter has no record limit.
 */
export function childQueues({ family, run, checkpoints }: ChildRun, emitters: ReadonlyMap<string, RecordEmitter>): ChildQueue[] {
  const queues = [...family.children, ...family.relays]
    .sort((a, b) => depthOf(run.provider, a.stream) - depthOf(run.provider, b.stream))
    .map((plan): ChildQueue => {
      const emitter = emitters.get(plan.stream.name) ?? recordEmitter(plan, run.logger, Number.POSITIVE_INFINITY, undefined);
      const once = plan.stream.parent!.oncePerVersion && plan.incremental && family.rootStream.replicationKey;
      const versions = once ? new ParentVersions(family.rootStream.primaryKey, family.rootStream.replicationKey!, checkpoints.bookmarks[plan.stream.name]) : undefined;
      const relay = family.relays.includes(plan);
      return { plan, emitter, waiting: [], accepted: 0, delivered: 0, held: [], versions, relay, below: [], ...(plan.stream.parent!.references ? { referenced: new Set<string>() } : {}) };
    });
  for (const queue of queues) queue.below = queues.filter((other) => other.plan.stream.parent!.stream === queue.plan.stream.name);
  return queues;
}

/** Reads, for each child of references drawn across another stream, that stream's records: one more request each. */
export async function readAcross(queues: readonly ChildQueue[], run: ProviderRun): Promise<void> {
  for (const queue of queues) {
    const across = queue.plan.stream.parent!.across;
    if (across) queue.across = await readAll(run.provider.streams.find((s) => s.name === across)!, requestContext(run, { parents: [] }), run);
  }
}

/**
 * Queues the parents a child wants and sends every full batch; `flush` sends the rest. Up to
 * `concurrency` batches are in flight, a new one starting as soon as the oldest is emitted, so one
 * slow request does not hold the others back; records come out in parent order. After each batch,
 * the bookmarks held for the windows it completes follow.
 */
export async function* syncChildren(children: ChildRun, queue: ChildQueue, parents: readonly JsonRecord[], flush: boolean): AsyncGenerator<SyncEvent> {
  const { plan, emitter, waiting } = queue;
  const { family, run } = children;
  if (queue.refused) return;
  const spec = plan.stream.parent!;
  const parentKey = family.rootStream.replicationKey;
  for (const parent of parents) {
    const value = parentKey === undefined ? undefined : parseInstant(parent[parentKey]);
    if (value && (!queue.newestParent || value > queue.newestParent)) queue.newestParent = value;
    if ((spec.accept && !spec.accept(parent, run.config)) || queue.versions?.has(parent)) continue;
    for (const item of spec.references ? unseenReferences(queue.referenced!, spec.references(parent, queue.across ?? [])) : [parent]) {
      waiting.push(item);
      queue.accepted++;
    }
  }
  const inFlight: Array<{ parents: JsonRecord[]; reading: Promise<JsonRecord[]> }> = [];
  try {
    for (;;) {
      while (!emitter.full && inFlight.length < (spec.concurrency ?? 1) && (waiting.length >= spec.batchSize || (flush && waiting.length > 0))) {
        const batch = waiting.splice(0, spec.batchSize);
        const reading = readAll(plan.stream, requestContext(run, { parents: batch }), run).then(
          (records) => ((emitter.skipped.read += batch.length), records),
          (error: unknown) => {
            if (error instanceof StreamRefused) {
              refuse(queue, error);
              return [];
            }
            if (!(error instanceof SkipParents)) throw error;
            emitter.skipped.parents += batch.length;
            emitter.skipped.reason ??= `HTTP ${error.refusal.status} on ${error.refusal.endpoint}`;
            return [];
          },
        );
        // Its failure is rethrown when its turn to be emitted comes, or dropped once another failed first.
        reading.catch(() => undefined);
        inFlight.push({ parents: batch, reading });
      }
      const oldest = inFlight[0];
      if (!oldest) break;
      const records = await oldest.reading;
      if (queue.refused) {
        waiting.length = 0;
        inFlight.length = 0;
        queue.held.length = 0;
        return;
      }
      if (!queue.relay) yield* emitter.emit(records, plan.stream);
      for (const below of queue.below) yield* syncChildren(children, below, records, false);
      inFlight.shift();
      queue.delivered += oldest.parents.length;
      queue.versions?.record(oldest.parents);
      yield* releaseHeld(children, queue);
    }
  } finally {
    // Batches not emitted go back to the front: a window read again, or the run's end, covers them.
    waiting.unshift(...inFlight.flatMap((batch) => batch.parents));
    await Promise.allSettled(inFlight.map((batch) => batch.reading));
  }
  if (emitter.full) {
    waiting.length = 0;
    queue.delivered = queue.accepted;
    yield* releaseHeld(children, queue);
  }
}

/**
 * Before a window is read again from its first page: the window's parents still waiting go, to be
 * queued again with it (and their references forgotten); those of earlier windows stay. Below them
 * nothing is read again: their parents' batches already delivered are not re-read.
 */
export function rewind(queue: ChildQueue, acceptedBeforeWindow: number): void {
  const from = Math.max(acceptedBeforeWindow, queue.delivered);
  for (const reference of queue.waiting.slice(from - queue.delivered)) queue.referenced?.delete(String(reference.id));
  queue.waiting.length = from - queue.delivered;
  queue.accepted = from;
}

/** The latest bookmark held for a child whose parents up to it are now delivered, and its STATE. */
function* releaseHeld({ family, checkpoints }: ChildRun, queue: ChildQueue): Generator<SyncEvent> {
  let due: Bookmark | undefined;
  while (queue.held[0] && queue.held[0].through <= queue.delivered) due = queue.held.shift()!.bookmark;
  if (!due) return;
  checkpoints.setBookmark(family, queue.plan, due, queue);
  yield { type: 'state', state: checkpoints.snapshot(), streams: [queue.plan.stream.name] };
}

/** A refused stream, and with it every stream below it, is read no further. */
function refuse(queue: ChildQueue, refusal: StreamRefused): void {
  queue.refused ??= refusal;
  for (const below of queue.below) refuse(below, refusal);
}

/** The references whose id was not queued before in this run, remembered from now on. */
function unseenReferences(referenced: Set<string>, references: readonly JsonRecord[]): JsonRecord[] {
  return references.filter((reference) => {
    const id = String(reference.id);
    if (referenced.has(id)) return false;
    referenced.add(id);
    return true;
  });
}
