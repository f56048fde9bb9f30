import type { DateTime } from 'luxon';
import type { JsonRecord } from '../protocol/messages.js';
import { parseInstant, type Bookmark } from './state.js';

/** The bookmark key under which a child stream keeps, per parent key, the parent version whose children were emitted. */
export const PARENT_VERSIONS_KEY = 'parent_versions';

/**
 * What a child stream read once per parent version (`StreamDefinition.parent.oncePerVersion`) has
 * already read: per parent key, the parent's replication-key value when its children were emitted.
 * It lives in the child's bookmark, so it is kept only for versions at or after a horizon (where the
 * parent stream's next read starts); a parent older than that is not read again, and should it be,
 * its children are only read once more.
 */
export class ParentVersions {
  private readonly read = new Map<string, string>();

  constructor(
    private readonly primaryKey: readonly string[],
    private readonly versionKey: string,
    bookmark: Bookmark | undefined,
  ) {
    const saved = bookmark?.[PARENT_VERSIONS_KEY];
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return;
    for (const [key, version] of Object.entries(saved)) if (typeof version === 'string') this.read.set(key, version);
  }

  /** True when this parent's children were emitted at the version the parent has now. */
  has(parent: JsonRecord): boolean {
    const known = parseInstant(this.read.get(this.keyOf(parent)));
    const version = parseInstant(parent[this.versionKey]);
    return known !== undefined && version !== undefined && known.toMillis() === version.toMillis();
  }

  /** Notes that these parents' children were emitted. */
  record(parents: readonly JsonRecord[]): void {
    for (const parent of parents) {
      const version = parent[this.versionKey];
      if (typeof version === 'string') this.read.set(this.keyOf(parent), version);
    }
  }

  /** Forgets versions before `horizon` and returns the rest, for the bookmark. */
  since(horizon: DateTime | undefined): Record<string, string> {
    for (const [key, version] of this.read) {
      const at = parseInstant(version);
      if (!at || (horizon && at < horizon)) this.read.delete(key);
    }
    return Object.fromEntries(this.read);
  }

  private keyOf(parent: JsonRecord): string {
    const values = this.primaryKey.map((key) => parent[key]);
    return values.length === 1 ? String(values[0]) : JSON.stringify(values);
  }
}
