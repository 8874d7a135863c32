/**
 * Identical attribute sets are stored once. Route servers hold many routes per attribute set (a peer's packed
 * initial table, the same appliance policy for every /32), so a route costs a map entry and a pointer, not a copy
 * of its attributes. Entries are reference-counted and dropped when the last route using them goes.
 *
 * Each entry also has a small integer id while it is stored: the RIB keeps ids in typed arrays rather than
 * pointers (4 bytes per route, nothing for the garbage collector to trace). An id is reused only after its entry
 * has been dropped, i.e. when no route refers to it any more.
 */
import { toRouteAttributes, type RouteAttributes } from './route-attributes.js';
import type { Family, PathAttributes } from '../bgp/types.js';

export interface SharedAttributes {
  readonly attributes: RouteAttributes;
  /** Store key (attribute bytes, per family); internal. */
  readonly key: string;
  readonly family: Family;
  /** Positive integer naming this entry while it is stored; internal. */
  readonly id: number;
  refs: number;
}

/**
 * A flat copy of a (possibly concatenated) string. The decoder builds attribute keys piece by piece, and V8 keeps
 * such strings as trees of parts, several times the size of their characters; a key lives as long as its entry.
 */
function flatCopy(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

export class AttributeStore {
  private readonly ipv4 = new Map<string, SharedAttributes>();
  private readonly ipv6 = new Map<string, SharedAttributes>();
  /** id → entry; slot 0 is never used, so 0 can mean "no route" in the RIB's id arrays. */
  private readonly byId: (SharedAttributes | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];

  get size(): number {
    return this.ipv4.size + this.ipv6.size;
  }

  /**
   * Returns the shared entry for these attributes with one more reference. `attributesKey` is the decoder's key
   * of the UPDATE's attributes (equal keys, equal attributes); the family picks the next hop.
   */
  acquire(attributesKey: string, family: Family, attributes: PathAttributes): SharedAttributes {
    const entries = family === 'ipv4' ? this.ipv4 : this.ipv6;
    let entry = entries.get(attributesKey);
    if (entry === undefined) {
      const key = flatCopy(attributesKey);
      const id = this.freeIds.pop() ?? this.byId.length;
      entry = { attributes: toRouteAttributes(attributes, family), key, family, id, refs: 0 };
      entries.set(key, entry);
      this.byId[id] = entry;
    }
    entry.refs++;
    return entry;
  }

  /** One more reference to an entry already held. */
  retain(entry: SharedAttributes): void {
    entry.refs++;
  }

  release(entry: SharedAttributes): void {
    if (--entry.refs > 0) return;
    const entries = entry.family === 'ipv4' ? this.ipv4 : this.ipv6;
    if (entries.get(entry.key) !== entry) return; // already dropped (released once too often, or cleared)
    entries.delete(entry.key);
    this.byId[entry.id] = undefined;
    this.freeIds.push(entry.id);
  }

  /** The entry with this id; throws for an id that is not stored (a RIB bookkeeping bug). */
  get(id: number): SharedAttributes {
    const entry = this.byId[id];
    if (entry === undefined) throw new Error(`attribute set ${id} is not stored`);
    return entry;
  }

  /** Forgets every entry. Only for a store that no RIB holds routes in: ids start over. */
  clear(): void {
    this.ipv4.clear();
    this.ipv6.clear();
    this.byId.length = 1;
    this.freeIds.length = 0;
  }
}
