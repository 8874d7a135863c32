/**
 * Identical attribute sets are stored once. Route servers hold many routes per attribute set (a peer's packed
 * initial table, the same appliance policy for every /32), so a route costs a map entry and a pointer, not a copy
 * of its attributes. Entries are reference-counted and dropped when the last route using them goes.
 */
import { toRouteAttributes, type RouteAttributes } from './route-attributes.js';
import type { Family, PathAttributes } from '../bgp/types.js';

export interface SharedAttributes {
  readonly attributes: RouteAttributes;
  /** Store key (family + attribute bytes); internal. */
  readonly key: string;
  refs: number;
}

export class AttributeStore {
  private readonly entries = new Map<string, SharedAttributes>();

  get size(): number {
    return this.entries.size;
  }

  /** Returns the shared entry for these attributes with one more reference. */
  acquire(attributesKey: string, family: Family, attributes: PathAttributes): SharedAttributes {
    const key = family === 'ipv4' ? `4${attributesKey}` : `6${attributesKey}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { attributes: toRouteAttributes(attributes, family), key, refs: 0 };
      this.entries.set(key, entry);
    }
    entry.refs++;
    return entry;
  }

  release(entry: SharedAttributes): void {
    entry.refs--;
    if (entry.refs <= 0) this.entries.delete(entry.key);
  }

  clear(): void {
    this.entries.clear();
  }
}
