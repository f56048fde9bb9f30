import type { StreamPlan } from './catalog.js';
import type { ProviderDefinition, StreamDefinition } from './definitions.js';

/** A stream and the selected streams that hang off it, read together so children follow parents. */
export interface Family {
  root: StreamPlan | undefined;
  rootStream: StreamDefinition;
  /** The selected streams below the root, each after its parent. */
  children: StreamPlan[];
  /** Unselected streams between the root and a selected child of theirs: read for that child, never emitted. */
  relays: StreamPlan[];
}

/** Groups plans into families: each root stream with the selected children hanging off it. */
export function families(provider: ProviderDefinition, plans: StreamPlan[]): Family[] {
  const byName = new Map(plans.map((p) => [p.stream.name, p]));
  const out: Family[] = [];
  for (const stream of provider.streams) {
    if (stream.parent) continue;
    const children = plans.filter((p) => p.stream.parent && lineOf(provider, p.stream).at(-1) === stream);
    // Bookmarks follow the root's windows through one level of children only.
    const deepIncremental = children.find((p) => p.incremental && depthOf(provider, p.stream) > 1);
    if (deepIncremental) throw new Error(`${deepIncremental.stream.name}: a stream below a child stream is read full table; it cannot be incremental`);
    // Between a child and the root: the streams that are not selected themselves, read for it.
    const between = new Set(children.flatMap((child) => lineOf(provider, child.stream).slice(1, -1)).filter((s) => !byName.has(s.name)));
    const relays = [...between].map((relay) => ({ provider, stream: relay, schema: {}, knownFields: new Set<string>(), incremental: false }));
    const root = byName.get(stream.name);
    if (root || children.length) out.push({ root, rootStream: stream, children, relays });
  }
  return out;
}

/** A stream and its ancestors, up to the root stream. */
function lineOf(provider: ProviderDefinition, stream: StreamDefinition): StreamDefinition[] {
  const parent = stream.parent && provider.streams.find((s) => s.name === stream.parent!.stream);
  return parent ? [stream, ...lineOf(provider, parent)] : [stream];
}

/** How many parents a stream has above it: 0 for a root, 1 for its child. */
export const depthOf = (provider: ProviderDefinition, stream: StreamDefinition) => lineOf(provider, stream).length - 1;
