/**
 * Deterministic randomness for the sandbox. Every record is a pure function of (seed, object, index),
 * so a dataset of millions is never held in memory and two sandboxes with one seed agree exactly.
 */
export type Random = () => number;

/** mulberry32: a tiny, well-distributed 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the parts, so rngFor(seed, 'calls', 7) is stable across runs and machines. */
export function hashParts(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = String(part);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function rngFor(seed: number, ...parts: Array<string | number>): Random {
  return mulberry32(hashParts(seed, ...parts));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

export function intBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** A decimal string of exactly `digits` digits (no leading zero): Gong-style ids beyond 2^53. */
export function digitString(random: Random, digits: number): string {
  let s = String(1 + Math.floor(random() * 9));
  while (s.length < digits) s += String(Math.floor(random() * 10));
  return s;
}

/** RFC 4122-shaped v4 UUID from the generator (Clari Copilot ids). */
export function uuid(random: Random): string {
  const hex = () => Math.floor(random() * 16).toString(16);
  const block = (n: number) => Array.from({ length: n }, hex).join('');
  const variant = '89ab'[Math.floor(random() * 4)];
  return `${block(8)}-${block(4)}-4${block(3)}-${variant}${block(3)}-${block(12)}`;
}

export const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim', 'Margaret', 'Linus', 'Hedy', 'John', 'Katherine', 'Dennis'];
export const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Berners-Lee', 'Hamilton', 'Torvalds', 'Lamarr', 'McCarthy', 'Johnson', 'Ritchie'];
export const COMPANY_NAMES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka'];

export function personName(random: Random): { first: string; last: string } {
  return { first: pick(random, FIRST_NAMES), last: pick(random, LAST_NAMES) };
}

export function companyName(random: Random): string {
  return pick(random, COMPANY_NAMES);
}
