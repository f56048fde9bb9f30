import type { Random } from '../random.js';

/**
 * The vocabulary the Four/Four entity sets are declared in. One declaration per property yields both
 * the `$metadata` entry and the generated value, so the schema and the data can never disagree.
 */

/** docs/sources.md#fourfour-service: the 21 entity sets AMP reads and fourfour.ai/developers/api lists, in that order. */
export const ENTITY_SET_NAMES = [
  'Insights', 'Topics', 'TopicModels', 'Conversations', 'Fragments', 'Participants',
  'Accounts', 'Contacts', 'Cases', 'Calls', 'Owners', 'Opportunities', 'Leads', 'CalendarEvents',
  'Objects', 'TrackerProjects', 'TrackerIssues', 'TrackerComments', 'Labels',
  'Chats', 'ChatMessages',
] as const;
export type EntitySetName = (typeof ENTITY_SET_NAMES)[number];

export const NAMESPACE = 'FourFour';

export type EdmPrimitive =
  | 'Edm.String'
  | 'Edm.Int32'
  | 'Edm.Int64'
  | 'Edm.Decimal'
  | 'Edm.Double'
  | 'Edm.Boolean'
  | 'Edm.DateTimeOffset'
  | 'Edm.Date'
  | 'Edm.Guid';

/**
 * A value as the sandbox holds it: `Edm.DateTimeOffset` as epoch milliseconds (so filters compare
 * numbers and serialisation formats them), everything else already in its JSON form.
 */
export type RawValue = string | number | boolean | null | RawValue[] | { [name: string]: RawValue };

/** What a property's value source may ask about the record being generated. */
export interface RecordContext {
  readonly index: number;
  readonly id: string;
  readonly createdMs: number;
  /** `createdMs`, or the time of the record's later update once the clock has passed it. */
  readonly updatedMs: number;
  /** 0 as created, 1 after the later update; properties marked `changes` are drawn per version. */
  readonly version: number;
  /** Another property of the same record (each is computed once). */
  get(property: string): RawValue;
  /** The id of a record of `set` that already existed when this one was created; `recent` limits the choice to the newest n. */
  pickId(set: EntitySetName, random: Random, recent?: number): string;
  /** Child sets only: the parent's id, and this record's position among the parent's children. */
  readonly parentId: string;
  readonly position: number;
  /** Child sets only: the id of a record of another child set with the same parent. */
  pickSiblingId(set: EntitySetName, random: Random): string;
}

export type ValueSource = (record: RecordContext, random: Random) => RawValue;

export interface PropertyDefinition {
  type: EdmPrimitive | `${typeof NAMESPACE}.${string}`;
  collection: boolean;
  nullable: boolean;
  /** Decimal scale in `$metadata`. */
  scale?: number;
  /** Drawn again when the record is updated later, so a re-read shows the change. */
  changes: boolean;
  /** Non-decreasing in record order, so a filter on it narrows an index range instead of scanning. */
  monotonic: boolean;
  /** A foreign key into this set; `$metadata` gets a navigation property for it. */
  references?: EntitySetName;
  value: ValueSource;
}

export interface ComplexTypeDefinition {
  properties: Record<string, { type: EdmPrimitive | `${typeof NAMESPACE}.${string}`; nullable: boolean }>;
}

/** Where a set's records sit in time. */
export type EntitySetLayout =
  /** `count` records (at scale 1) spread over `history` before the anchor, continuing at the same pace after it. */
  | { kind: 'series'; count: number; history: string }
  /** Between `perParent[0]` and `perParent[1]` records per parent record, visible with the parent. */
  | { kind: 'children'; parent: EntitySetName; perParent: readonly [number, number] };

export interface EntitySetDefinition {
  entityType: string;
  layout: EntitySetLayout;
  /** Some records get one later update that redraws their `changes` properties (and moves `updated`). */
  versioned: boolean;
  /** The key is always `id`; property order is the order records are served in. */
  properties: Record<string, PropertyDefinition>;
}

interface PropertyOptions {
  /** Share of records (0..1) whose value is null; any value makes the property nullable. */
  nullChance?: number;
  /** Nullable although no null chance is set: the source itself returns null for some records. */
  nullable?: boolean;
  changes?: boolean;
  scale?: number;
  references?: EntitySetName;
}

/** A property of `type` whose value comes from `source`. */
export function prop(type: EdmPrimitive, source: ValueSource, options: PropertyOptions = {}): PropertyDefinition {
  const nullChance = options.nullChance ?? 0;
  return {
    type,
    collection: false,
    nullable: options.nullable ?? nullChance > 0,
    changes: options.changes ?? false,
    monotonic: false,
    ...(options.scale === undefined ? {} : { scale: options.scale }),
    ...(options.references === undefined ? {} : { references: options.references }),
    value: nullChance > 0 ? (record, random) => (random() < nullChance ? null : source(record, random)) : source,
  };
}

export function collection(type: EdmPrimitive | `${typeof NAMESPACE}.${string}`, source: ValueSource, options: Pick<PropertyOptions, 'changes'> = {}): PropertyDefinition {
  return { type, collection: true, nullable: false, changes: options.changes ?? false, monotonic: false, value: source };
}

export function complex(typeName: string, source: ValueSource): PropertyDefinition {
  return { type: `${NAMESPACE}.${typeName}`, collection: false, nullable: false, changes: false, monotonic: false, value: source };
}

/** The key. Ids are time-ordered (UUIDv7-shaped), so id order is record order. */
export function key(): PropertyDefinition {
  return { type: 'Edm.Guid', collection: false, nullable: false, changes: false, monotonic: true, value: (r) => r.id };
}

/** The creation time of a series record, monotonic in record order. */
export function createdTime(): PropertyDefinition {
  return { type: 'Edm.DateTimeOffset', collection: false, nullable: false, changes: false, monotonic: true, value: (r) => r.createdMs };
}

export function updatedTime(): PropertyDefinition {
  return { type: 'Edm.DateTimeOffset', collection: false, nullable: false, changes: false, monotonic: false, value: (r) => r.updatedMs };
}

/** A foreign key to a record of `set` that existed when this record was created. */
export function ref(set: EntitySetName, options: { nullChance?: number; recent?: number; changes?: boolean } = {}): PropertyDefinition {
  const { recent, ...rest } = options;
  return prop('Edm.Guid', (r, random) => r.pickId(set, random, recent), { ...rest, references: set });
}

/** The parent's id on a child set; monotonic because children are laid out in parent order. */
export function parentRef(set: EntitySetName): PropertyDefinition {
  return { type: 'Edm.Guid', collection: false, nullable: false, changes: false, monotonic: true, references: set, value: (r) => r.parentId };
}

export function siblingRef(set: EntitySetName): PropertyDefinition {
  return prop('Edm.Guid', (r, random) => r.pickSiblingId(set, random), { references: set });
}
