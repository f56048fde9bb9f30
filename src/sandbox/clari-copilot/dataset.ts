import { DateTime, Duration } from 'luxon';
import { ascending, cut, descending, type Run } from '../fourfour/runs.js';
import type { RecordSource } from '../kit/paging.js';
import { intBetween, pick, rngFor, uuid } from '../random.js';
import { recordsVisibleAt, type SandboxOptions } from '../types.js';
import { CallFactory, compact, round2, type MediaOptions } from './calls.js';
import { CREATED_CALL_STATUS, CreatedCallRecords } from './created.js';
import { CrmRecords, type CrmObject } from './crm.js';
import { Directory, type ApiRecord } from './directory.js';
import { CallTimeline, CLASS_COUNT, classRun, type TimeBounds } from './timeline.js';
import { REMARKS, type CallStatus, type CallType } from './vocabulary.js';
import { WriteStore, type CreatedCall } from './writes.js';

export type { ApiRecord } from './directory.js';

/** What `records` and `count` serve, named after the endpoint: `topics` is `/v2/topics`, `keyword_topics` is `/topics`. */
export type ClariObject = 'calls' | 'call_details' | 'users' | 'topics' | 'keyword_topics' | 'scorecards' | 'scorecard_templates';

export interface ClariRecordTypes {
  calls: ApiRecord;
  call_details: ApiRecord;
  users: ApiRecord;
  topics: ApiRecord;
  keyword_topics: string;
  scorecards: ApiRecord;
  scorecard_templates: ApiRecord;
}

export interface DatasetOptions {
  /** The moment whose view to take; defaults to the sandbox clock's current time. */
  visibleAt?: DateTime;
  /** Calls and call details only: include private calls, as `includePrivate=true` does. Default false, like the API. */
  includePrivate?: boolean;
}

/**
 * Ground truth for tests of the tap: the records the simulated Clari Copilot API serves, generated on
 * demand from (seed, object, index) and the clock, never stored; and the calls made through POST
 * /create-call, which the call endpoints serve among the generated ones.
 *
 * Calls fill the 90 days before `anchor` (the start of the UTC day the sandbox was created on) and go
 * on after it; a call appears when it is booked (meetings) or uploaded (dialer calls) and changes
 * status as the clock passes each step of its lifecycle. Only status changes move
 * `last_modified_time`; a call's later "silent" edits (title, deal stage, detected topics) do not
 * (docs/sources.md#clari-copilot-records), and `silentEdits` says when they happen.
 */
export interface ClariCopilotDataset {
  /** Start of the UTC day the sandbox was created on: history ends here, later calls are "new". */
  readonly anchor: DateTime;
  /** When the first call happens (90 days before the anchor). */
  readonly historyStart: DateTime;
  /** How many records `records(object, options)` yields. */
  count(object: ClariObject, options?: DatasetOptions): number;
  /**
   * Every record of `object` exactly as the API serves it at `visibleAt`, in the API's default order:
   * calls, call details and scorecards newest call first (the calls.json fixture lists calls that
   * way); users, topics and templates in list order.
   */
  records<O extends ClariObject>(object: O, options?: DatasetOptions): Iterable<ClariRecordTypes[O]>;
  /** What `/call-details?id=` answers, or undefined where it answers 404. */
  callDetails(id: string, options?: Pick<DatasetOptions, 'visibleAt'>): ApiRecord | undefined;
  /** Whether a call is private: only `includePrivate` lists it, since the record itself carries no marker. */
  isPrivate(callId: string): boolean;
  /** When a call's silent edits happen (fields change, `last_modified_time` does not). */
  silentEdits(callId: string): DateTime[];
  /** What `/get-account|get-contact|get-deal?id=` answers for a CRM id (the written object over the generated one), or undefined where it answers 404. */
  crmRecord(object: CrmObject, crmId: string, options?: Pick<DatasetOptions, 'visibleAt'>): ApiRecord | undefined;
  /** The hidden modified time `/v2/topics` filters on (Clari Copilot OpenAPI, GET /v2/topics: the record has none). */
  topicModifiedAt(topicId: string, options?: Pick<DatasetOptions, 'visibleAt'>): DateTime | undefined;
}

export interface CallQuery {
  bounds: TimeBounds;
  statuses?: ReadonlySet<CallStatus>;
  types?: ReadonlySet<CallType>;
  includePrivate: boolean;
  /** Record-level filters: users, attendees, topics, source ids, duration. */
  accept?: (record: ApiRecord) => boolean;
  order: { by: 'time' | 'modified'; descending: boolean };
  media?: MediaOptions;
}

export interface ScorecardQuery {
  bounds: Pick<TimeBounds, 'timeGt' | 'timeLt'>;
  accept?: (record: ApiRecord) => boolean;
}

export interface TenantSettings {
  historicalCalls: number;
  users: number;
}

const HISTORY = Duration.fromObject({ days: 90 });

/** The calls a query selects, as sorted runs of indices, and the records an index stands for. */
interface CallSelection {
  runs: Run[];
  record(index: number): ApiRecord;
  details(index: number): ApiRecord;
}

/** The generated Clari Copilot workspace behind one sandbox, and the queries its endpoints run. */
export class Tenant implements ClariCopilotDataset {
  readonly anchor: DateTime;
  readonly historyStart: DateTime;
  readonly timeline: CallTimeline;
  readonly directory: Directory;
  readonly calls: CallFactory;
  readonly crm: CrmRecords;
  /** What the write endpoints stored: the one part of the tenant that is state, not generated. */
  readonly writes: WriteStore;
  readonly createdCalls: CreatedCallRecords;

  constructor(
    private readonly options: SandboxOptions,
    settings: TenantSettings,
  ) {
    this.anchor = options.now().toUTC().startOf('day');
    this.historyStart = this.anchor.minus(HISTORY);
    this.timeline = new CallTimeline(options.seed, this.anchor, HISTORY, settings.historicalCalls);
    this.directory = new Directory(options.seed, this.anchor, settings.users);
    this.calls = new CallFactory(options.seed, this.timeline, this.directory);
    this.crm = new CrmRecords(options.seed, this.calls, this.directory);
    this.writes = new WriteStore(options.seed, this.crm);
    this.createdCalls = new CreatedCallRecords(this.directory, this.calls, this.writes);
  }

  /** Every call a query selects but for `accept`: the generated ones, and the created ones merged into their order. */
  private selectCalls(query: CallQuery, nowMs: number): CallSelection {
    const created = this.createdCallRuns(query, nowMs);
    const createdAt = (index: number) => created.calls[index + created.calls.length]!;
    return {
      runs: [...this.callRuns(query, nowMs), ...created.runs],
      record: (index) => (index < 0 ? this.createdCalls.record(createdAt(index), nowMs, query.media) : this.calls.record(index, nowMs, query.media)),
      details: (index) => (index < 0 ? this.createdCalls.details(createdAt(index), nowMs, query.media) : this.calls.details(index, nowMs, query.media)),
    };
  }

  /**
   * The created calls a query selects, as runs merged with the generated calls' runs rather than listed
   * after them: /calls sorts all calls by time or by last_modified_time (Clari Copilot OpenAPI, GET
   * /calls `sortTime`, `sortProcessed`), and a `skip` is a rank in that one order, so pages stay
   * consistent whatever made a call. Sorted as the query sorts (equal times in order of creation), the
   * k-th of n gets index k - n: negative, never a generated call's. Its key is on the generated runs'
   * scale: by time, the index of the first generated call at or after its time (generated calls' times
   * increase with their index); by last_modified_time, that time itself. Equal keys are ordered by
   * index, so a created call comes before a generated one of the same time; as a run's keys must
   * strictly increase, a run ends where two created calls share a key.
   */
  private createdCallRuns(query: CallQuery, nowMs: number): { runs: Run[]; calls: CreatedCall[] } {
    const { bounds } = query;
    const byModified = query.order.by === 'modified';
    const selected = this.writes
      .calls()
      .map((call) => ({ call, ...this.createdCalls.times(call) }))
      .filter(
        ({ call, timeMs, modifiedMs }) =>
          modifiedMs <= nowMs &&
          (!query.statuses || query.statuses.has(CREATED_CALL_STATUS)) &&
          (!query.types || query.types.has(call.fields.type as CallType)) &&
          (bounds.timeGt === undefined || timeMs > bounds.timeGt) &&
          (bounds.timeLt === undefined || timeMs < bounds.timeLt) &&
          (bounds.modifiedGt === undefined || modifiedMs > bounds.modifiedGt) &&
          (bounds.modifiedLt === undefined || modifiedMs < bounds.modifiedLt),
      )
      .sort((a, b) => (byModified ? a.modifiedMs - b.modifiedMs : a.timeMs - b.timeMs));
    const keys = selected.map(({ timeMs, modifiedMs }) => (byModified ? modifiedMs : this.timeline.firstAfter(timeMs - 1)));
    const count = keys.length;
    const runs: Run[] = [];
    keys.forEach((key, k) => {
      const run = runs.at(-1);
      if (run && keys[k - 1]! < key) run.size++;
      else runs.push({ start: k - count, step: 1, size: 1, key: (index) => keys[index + count]! });
    });
    return { runs, calls: selected.map(({ call }) => call) };
  }

  /**
   * The calls matching everything but `accept`, as sorted runs: per class and per status step, the
   * indices whose time puts them at that step now and inside the bounds. Along a run `time` and
   * `last_modified_time` (= time + the step's offset) both strictly increase.
   */
  private callRuns(query: CallQuery, nowMs: number): Run[] {
    const runs: Run[] = [];
    this.timeline.profiles.forEach((profile, classIndex) => {
      if (profile.isPrivate && !query.includePrivate) return;
      if (query.types && !query.types.has(profile.type)) return;
      const offsets = profile.steps.map((step) => step.offsetMs);
      profile.steps.forEach((step, stepIndex) => {
        if (query.statuses && !query.statuses.has(step.status)) return;
        const { start, size } = classRun(classIndex, this.timeline.stepRange(offsets, stepIndex, nowMs, query.bounds));
        const offset = offsets[stepIndex]!;
        const key = query.order.by === 'modified' ? (index: number) => this.timeline.timeOf(index) + offset : (index: number) => index;
        if (size > 0) runs.push({ start, step: CLASS_COUNT, size, key });
      });
    });
    return runs;
  }

  /** Scored calls whose scorecard exists at `nowMs` (it is submitted a while after the call settles). */
  private scorecardRuns(query: ScorecardQuery, nowMs: number): Run[] {
    const runs: Run[] = [];
    this.timeline.profiles.forEach((profile, classIndex) => {
      if (!profile.scorecard) return;
      const submitted = [profile.steps.at(-1)!.offsetMs + profile.scorecard.delayMs];
      const { start, size } = classRun(classIndex, this.timeline.stepRange(submitted, 0, nowMs, query.bounds));
      if (size > 0) runs.push({ start, step: CLASS_COUNT, size, key: (index) => index });
    });
    return runs;
  }

  callSource(query: CallQuery, nowMs: number): RecordSource<ApiRecord> {
    const selection = this.selectCalls(query, nowMs);
    return runsSource(selection.runs, query.order.descending, selection.record, query.accept);
  }

  scorecardSource(query: ScorecardQuery, nowMs: number): RecordSource<ApiRecord> {
    // Newest call first, as /calls lists them; CLARI-OAS does not state the order.
    return runsSource(this.scorecardRuns(query, nowMs), true, (index) => this.scorecard(index), query.accept);
  }

  private scorecard(index: number): ApiRecord {
    const { scorecard } = this.timeline.profileOf(index);
    const random = rngFor(this.options.seed, 'clari-copilot', 'scorecard', index);
    const id = uuid(random);
    const rep = this.calls.hostOf(index);
    const template = this.directory.templates[scorecard!.template]!;
    const questions = (template.questions as ApiRecord[]).map((question) => ({ score: intBetween(random, 1, 5), ...question }));
    return compact({
      id,
      type: template.type,
      rep: rep.id,
      scorer: this.directory.scorerOf(rep).id,
      template_id: template.id,
      call_id: this.calls.id(index),
      total_score: round2(questions.reduce((sum, question) => sum + question.score, 0) / questions.length),
      remark: random() < 0.6 ? pick(random, REMARKS) : undefined,
      questions_score: questions,
    });
  }

  topics(nowMs: number, bounds: Pick<TimeBounds, 'modifiedGt' | 'modifiedLt'> = {}): ApiRecord[] {
    return this.directory
      .visibleTopics(nowMs)
      .filter((topic) => {
        const modified = this.directory.topicModifiedMs(topic, nowMs);
        return (bounds.modifiedGt === undefined || modified > bounds.modifiedGt) && (bounds.modifiedLt === undefined || modified < bounds.modifiedLt);
      })
      .map((topic) => this.directory.topicRecord(topic, nowMs));
  }

  keywordTopics(nowMs: number): string[] {
    return [...new Set(this.directory.visibleTopics(nowMs).filter((topic) => topic.definition.type === 'KEYWORD').map((topic) => topic.definition.name))];
  }

  users(): ApiRecord[] {
    return this.directory.users.map((user) => ({ ...user }));
  }

  scorecardTemplates(): ApiRecord[] {
    return this.directory.templates.map((template) => structuredClone(template));
  }

  /** What `/call-details?id=` answers at `nowMs`, for a created or a generated call; undefined while there is none. */
  callDetailsAt(id: string, nowMs: number, media: MediaOptions = {}): ApiRecord | undefined {
    const created = this.writes.calls().find((call) => call.call_id === id);
    if (created) return this.createdCalls.times(created).modifiedMs <= nowMs ? this.createdCalls.details(created, nowMs, media) : undefined;
    const index = this.calls.indexOf(id);
    return index !== undefined && this.calls.exists(index, nowMs) ? this.calls.details(index, nowMs, media) : undefined;
  }

  private nowMs(options: Pick<DatasetOptions, 'visibleAt'> = {}): number {
    return (options.visibleAt ?? recordsVisibleAt(this.options)).toMillis();
  }

  private defaultCallQuery(options: DatasetOptions): CallQuery {
    return { bounds: {}, includePrivate: options.includePrivate ?? false, order: { by: 'time', descending: true } };
  }

  count(object: ClariObject, options: DatasetOptions = {}): number {
    const nowMs = this.nowMs(options);
    switch (object) {
      case 'calls':
      case 'call_details':
        return totalOf(this.selectCalls(this.defaultCallQuery(options), nowMs).runs);
      case 'scorecards':
        return totalOf(this.scorecardRuns({ bounds: {} }, nowMs));
      default:
        return [...this.records(object, options)].length;
    }
  }

  records<O extends ClariObject>(object: O, options: DatasetOptions = {}): Iterable<ClariRecordTypes[O]> {
    return this.generate(object, options) as Iterable<ClariRecordTypes[O]>;
  }

  private *generate(object: ClariObject, options: DatasetOptions): Generator<unknown> {
    const nowMs = this.nowMs(options);
    switch (object) {
      case 'calls':
      case 'call_details': {
        const { runs, record, details } = this.selectCalls(this.defaultCallQuery(options), nowMs);
        for (const index of descending(runs, runs.map((run) => run.size))) yield object === 'calls' ? record(index) : details(index);
        return;
      }
      case 'scorecards': {
        const runs = this.scorecardRuns({ bounds: {} }, nowMs);
        for (const index of descending(runs, runs.map((run) => run.size))) yield this.scorecard(index);
        return;
      }
      case 'users':
        return yield* this.users();
      case 'topics':
        return yield* this.topics(nowMs);
      case 'keyword_topics':
        return yield* this.keywordTopics(nowMs);
      case 'scorecard_templates':
        return yield* this.scorecardTemplates();
    }
  }

  callDetails(id: string, options?: Pick<DatasetOptions, 'visibleAt'>): ApiRecord | undefined {
    return this.callDetailsAt(id, this.nowMs(options));
  }

  crmRecord(object: CrmObject, crmId: string, options?: Pick<DatasetOptions, 'visibleAt'>): ApiRecord | undefined {
    return this.writes.current(object, crmId, this.nowMs(options));
  }

  isPrivate(callId: string): boolean {
    const index = this.calls.indexOf(callId);
    return index !== undefined && this.timeline.profileOf(index).isPrivate;
  }

  silentEdits(callId: string): DateTime[] {
    const index = this.calls.indexOf(callId);
    return index === undefined ? [] : this.calls.editTimes(index).map((ms) => DateTime.fromMillis(ms, { zone: 'utc' }));
  }

  topicModifiedAt(topicId: string, options?: Pick<DatasetOptions, 'visibleAt'>): DateTime | undefined {
    const nowMs = this.nowMs(options);
    const topic = this.directory.visibleTopics(nowMs).find((candidate) => candidate.id === topicId);
    return topic && DateTime.fromMillis(this.directory.topicModifiedMs(topic, nowMs), { zone: 'utc' });
  }
}

const totalOf = (runs: readonly Run[]) => runs.reduce((sum, run) => sum + run.size, 0);

/** The union of `runs` in key order, by offset; a page also counts the matches, so the count is kept for `total`. */
function runsSource(runs: Run[], isDescending: boolean, build: (index: number) => ApiRecord, accept?: (record: ApiRecord) => boolean): RecordSource<ApiRecord> {
  let matched: number | undefined;
  const take = (skip: number, limit: number) => {
    const page = pageOf(runs, isDescending, skip, limit, build, accept);
    matched = page.matched;
    const next = skip + page.records.length;
    return { records: page.records, next, more: next < page.matched };
  };
  return {
    total() {
      if (matched === undefined) take(0, 0);
      return matched!;
    },
    take,
  };
}

/**
 * One page of the union of `runs`, in key order. Without record-level filters the page is found by
 * rank (a page deep into millions of calls costs a few binary searches); with them every candidate is
 * built and tested, which is what `matched` needs anyway.
 */
function pageOf(runs: Run[], isDescending: boolean, skip: number, limit: number, build: (index: number) => ApiRecord, accept?: (record: ApiRecord) => boolean): { matched: number; records: ApiRecord[] } {
  const records: ApiRecord[] = [];
  if (!accept) {
    const matched = totalOf(runs);
    const reader = isDescending ? descending(runs, cut(runs, matched - skip)) : ascending(runs, cut(runs, skip));
    for (const index of reader) {
      if (records.length >= limit) break;
      records.push(build(index));
    }
    return { matched, records };
  }
  let matched = 0;
  const reader = isDescending ? descending(runs, runs.map((run) => run.size)) : ascending(runs, runs.map(() => 0));
  for (const index of reader) {
    const record = build(index);
    if (!accept(record)) continue;
    if (matched >= skip && records.length < limit) records.push(record);
    matched++;
  }
  return { matched, records };
}
