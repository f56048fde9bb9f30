import { DateTime, Duration } from 'luxon';
import { rngFor, type Random } from '../random.js';
import { recordsVisibleAt, type SandboxOptions } from '../types.js';
import { ENTITY_SET_NAMES, NAMESPACE, type EntitySetDefinition, type EntitySetName, type PropertyDefinition, type RawValue, type RecordContext } from './edm.js';
import { COMPLEX_TYPES, ENTITY_SETS } from './entity-sets.js';
import { ChildLayout, Series, UPDATE_DELAYS_MS } from './timeline.js';

/** A record exactly as the OData API serves it inside `value` (all properties, no annotations). */
export type ApiRecord = Record<string, unknown>;

export interface VisibilityOptions {
  /** The moment whose view to take; defaults to the sandbox clock's current time. */
  visibleAt?: DateTime;
}

/**
 * Ground truth for tests of the tap: the records the simulated Four/Four API serves, generated on
 * demand from (seed, entity set, index), never stored.
 *
 * The dataset is anchored at the start of the UTC day the sandbox was created on; history lies before
 * the anchor, and records created later (or updated later) appear as the injected clock passes them.
 */
export interface FourfourDataset {
  /** Start of the UTC day the sandbox was created on: history ends here, later records are "new". */
  readonly anchor: DateTime;
  /** The 21 entity set names, as they appear in URLs (case-sensitive). */
  readonly entitySets: readonly EntitySetName[];
  /** How many records of `set` exist at `visibleAt`. */
  count(set: EntitySetName, options?: VisibilityOptions): number;
  /** Every record of `set` visible at `visibleAt`, API-shaped, in the server's default order (by `id`). */
  records(set: EntitySetName, options?: VisibilityOptions): Iterable<ApiRecord>;
  /** The record at `index` of that order (0 … count-1), without generating the ones before it. */
  record(set: EntitySetName, index: number, options?: VisibilityOptions): ApiRecord;
  /** The field an incremental read filters on (`updated` or `created_at`); undefined for the five full-table sets. */
  incrementalField(set: EntitySetName): 'updated' | 'created_at' | undefined;
}

/** One entity set's records as functions of their index. */
export class EntitySetRuntime {
  readonly properties: ReadonlyMap<string, PropertyDefinition>;
  private readonly series?: Series;
  private readonly children?: { layout: ChildLayout; parent: EntitySetRuntime };

  constructor(
    readonly name: EntitySetName,
    readonly definition: EntitySetDefinition,
    private readonly dataset: Dataset,
  ) {
    this.properties = new Map(Object.entries(definition.properties));
    const { layout } = definition;
    if (layout.kind === 'series') {
      const start = dataset.anchor.minus(Duration.fromISO(layout.history));
      const historyMs = dataset.anchor.toMillis() - start.toMillis();
      const count = Math.max(1, Math.round(layout.count * dataset.scale));
      this.series = new Series(dataset.seed, name, start.toMillis(), historyMs, count);
    } else {
      this.children = { layout: new ChildLayout(dataset.seed, name, layout.perParent), parent: dataset.runtime(layout.parent) };
    }
  }

  get seed(): number {
    return this.dataset.seed;
  }

  /** Records that exist at `ms`: indices 0 … count-1. */
  visibleCount(ms: number): number {
    if (this.series) return this.series.countAt(ms);
    const { layout, parent } = this.children!;
    return layout.startOf(parent.visibleCount(ms));
  }

  createdMs(index: number): number {
    if (this.series) return this.series.timeOf(index);
    const { layout, parent } = this.children!;
    return parent.createdMs(layout.locate(index).parent);
  }

  /** The delay of this record's one later update, or 0 when it is never updated. */
  updateDelayMs(index: number): number {
    return this.definition.versioned ? UPDATE_DELAYS_MS[index % UPDATE_DELAYS_MS.length]! : 0;
  }

  updatedMs(index: number, nowMs: number): number {
    const created = this.createdMs(index);
    const delay = this.updateDelayMs(index);
    return delay > 0 && created + delay <= nowMs ? created + delay : created;
  }

  /**
   * UUIDv7-shaped: the first 48 bits are the creation time in ms (and for children the next 12 the
   * position under the parent), so ids sort in record order and an id range is an index range.
   */
  id(index: number): string {
    const random = rngFor(this.dataset.seed, this.name, 'id', index);
    const word = () => Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0');
    const bits = word() + word() + word();
    const time = this.createdMs(index).toString(16).padStart(12, '0');
    const sequence = this.children ? this.children.layout.locate(index).position.toString(16).padStart(3, '0') : bits.slice(0, 3);
    const variant = '89ab'[parseInt(bits[3]!, 16) & 3]!;
    return `${time.slice(0, 8)}-${time.slice(8)}-7${sequence}-${variant}${bits.slice(4, 7)}-${bits.slice(7, 19)}`;
  }

  record(index: number, nowMs: number): GeneratedRecord {
    return new GeneratedRecord(this, index, nowMs, this.dataset);
  }

  /** Children only: the parent record's index and this record's position under it. */
  locate(index: number): { parent: number; position: number } {
    if (!this.children) throw new Error(`${this.name} is not a child set`);
    return this.children.layout.locate(index);
  }

  parentRuntime(): EntitySetRuntime {
    if (!this.children) throw new Error(`${this.name} is not a child set`);
    return this.children.parent;
  }

  /** Children only: the index range of the children of `parent`. */
  childrenOf(parent: number): { start: number; size: number } {
    if (!this.children) throw new Error(`${this.name} is not a child set`);
    return { start: this.children.layout.startOf(parent), size: this.children.layout.sizeOf(parent) };
  }
}

/** A record being generated: each property is computed once, on first use. */
export class GeneratedRecord implements RecordContext {
  private readonly values = new Map<string, RawValue>();
  private readonly memo: { id?: string; createdMs?: number; updatedMs?: number } = {};

  constructor(
    private readonly set: EntitySetRuntime,
    readonly index: number,
    private readonly nowMs: number,
    private readonly dataset: Dataset,
  ) {}

  get id(): string {
    this.memo.id ??= this.set.id(this.index);
    return this.memo.id;
  }

  get createdMs(): number {
    this.memo.createdMs ??= this.set.createdMs(this.index);
    return this.memo.createdMs;
  }

  get updatedMs(): number {
    this.memo.updatedMs ??= this.set.updatedMs(this.index, this.nowMs);
    return this.memo.updatedMs;
  }

  get version(): number {
    return this.updatedMs === this.createdMs ? 0 : 1;
  }

  get parentId(): string {
    return this.set.parentRuntime().id(this.set.locate(this.index).parent);
  }

  get position(): number {
    return this.set.locate(this.index).position;
  }

  get(property: string): RawValue {
    if (this.values.has(property)) return this.values.get(property)!;
    const definition = this.set.properties.get(property);
    if (!definition) throw new Error(`${this.set.name} has no property ${property}`);
    const random = rngFor(this.set.seed, this.set.name, this.index, property, definition.changes ? this.version : 0);
    const value = definition.value(this, random);
    this.values.set(property, value);
    return value;
  }

  pickId(set: EntitySetName, random: Random, recent?: number): string {
    const target = this.dataset.runtime(set);
    // A record created before any of its parents exist still needs one; the first is the closest.
    const existing = Math.max(1, target.visibleCount(this.createdMs));
    const choices = recent === undefined ? existing : Math.min(recent, existing);
    return target.id(existing - 1 - Math.floor(random() * choices));
  }

  pickSiblingId(set: EntitySetName, random: Random): string {
    const sibling = this.dataset.runtime(set);
    const { start, size } = sibling.childrenOf(this.set.locate(this.index).parent);
    return sibling.id(start + Math.floor(random() * size));
  }

  /** The API shape: every property (or only `select`) in declaration order, values in JSON form. */
  toJson(select?: readonly string[]): ApiRecord {
    const json: ApiRecord = {};
    for (const name of select ?? this.set.properties.keys()) {
      const definition = this.set.properties.get(name)!;
      json[name] = serialize(definition.type, definition.collection, this.get(name));
    }
    return json;
  }
}

function serialize(type: string, isCollection: boolean, value: RawValue): unknown {
  if (value === null) return null;
  if (isCollection) return (value as RawValue[]).map((item) => serialize(type, false, item));
  if (type === 'Edm.DateTimeOffset') return DateTime.fromMillis(value as number, { zone: 'utc' }).toISO({ suppressMilliseconds: true });
  const complexType = type.startsWith(`${NAMESPACE}.`) ? COMPLEX_TYPES[type.slice(NAMESPACE.length + 1)] : undefined;
  if (complexType) {
    const object = value as Record<string, RawValue>;
    return Object.fromEntries(Object.entries(complexType.properties).map(([name, p]) => [name, serialize(p.type, false, object[name] ?? null)]));
  }
  return value;
}

/** The generated Four/Four tenant behind one sandbox. */
export class Dataset implements FourfourDataset {
  readonly anchor: DateTime;
  readonly entitySets = ENTITY_SET_NAMES;
  readonly seed: number;
  readonly scale: number;
  private readonly now: () => DateTime;
  private readonly runtimes = new Map<EntitySetName, EntitySetRuntime>();

  constructor(options: SandboxOptions) {
    this.seed = options.seed;
    this.scale = options.scale;
    this.now = () => recordsVisibleAt(options);
    this.anchor = options.now().toUTC().startOf('day');
  }

  /** Built on first use, so a child set can ask for its parent regardless of table order. */
  runtime(set: EntitySetName): EntitySetRuntime {
    let runtime = this.runtimes.get(set);
    if (!runtime) {
      runtime = new EntitySetRuntime(set, ENTITY_SETS[set], this);
      this.runtimes.set(set, runtime);
    }
    return runtime;
  }

  nowMs(options: VisibilityOptions = {}): number {
    return (options.visibleAt ?? this.now()).toMillis();
  }

  count(set: EntitySetName, options?: VisibilityOptions): number {
    return this.runtime(set).visibleCount(this.nowMs(options));
  }

  *records(set: EntitySetName, options?: VisibilityOptions): Iterable<ApiRecord> {
    const nowMs = this.nowMs(options);
    const runtime = this.runtime(set);
    const count = runtime.visibleCount(nowMs);
    for (let index = 0; index < count; index++) yield runtime.record(index, nowMs).toJson();
  }

  record(set: EntitySetName, index: number, options?: VisibilityOptions): ApiRecord {
    const nowMs = this.nowMs(options);
    const runtime = this.runtime(set);
    if (!Number.isInteger(index) || index < 0 || index >= runtime.visibleCount(nowMs)) throw new RangeError(`${set} has no record ${index} at that time`);
    return runtime.record(index, nowMs).toJson();
  }

  incrementalField(set: EntitySetName): 'updated' | 'created_at' | undefined {
    const { properties } = ENTITY_SETS[set];
    return 'updated' in properties ? 'updated' : 'created_at' in properties ? 'created_at' : undefined;
  }
}
