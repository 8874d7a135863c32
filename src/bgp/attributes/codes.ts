/**
 * Path attribute type codes (IANA "BGP Path Attributes") and what RFC 7606 §7 says to do when one is malformed.
 * src/encode/bgp-encode.ts keeps its own table on purpose: the encoder writes the tests' input independently.
 */
import type { AttributeAction } from '../types.js';

export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

const OPTIONAL = 0x80;
const TRANSITIVE = 0x40;

/** Expected Optional/Transitive bits and the action when a known attribute is malformed. */
const KNOWN: Record<number, { flags: number; action: AttributeAction }> = {
  [ATTR.ORIGIN]: { flags: TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.AS_PATH]: { flags: TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.NEXT_HOP]: { flags: TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.MULTI_EXIT_DISC]: { flags: OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.LOCAL_PREF]: { flags: TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.ATOMIC_AGGREGATE]: { flags: TRANSITIVE, action: 'attribute-discard' },
  [ATTR.AGGREGATOR]: { flags: OPTIONAL | TRANSITIVE, action: 'attribute-discard' },
  [ATTR.COMMUNITIES]: { flags: OPTIONAL | TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.ORIGINATOR_ID]: { flags: OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.CLUSTER_LIST]: { flags: OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.EXTENDED_COMMUNITIES]: { flags: OPTIONAL | TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.AS4_PATH]: { flags: OPTIONAL | TRANSITIVE, action: 'attribute-discard' }, // RFC 6793 §6
  [ATTR.AS4_AGGREGATOR]: { flags: OPTIONAL | TRANSITIVE, action: 'attribute-discard' },
  [ATTR.LARGE_COMMUNITY]: { flags: OPTIONAL | TRANSITIVE, action: 'treat-as-withdraw' },
};

/** Per code: the expected Optional/Transitive bits, or -1 for codes we do not check (a lookup per attribute). */
export const KNOWN_ATTRIBUTE_FLAGS = new Int16Array(256).fill(-1);
export const KNOWN_ATTRIBUTE_ACTION: AttributeAction[] = new Array<AttributeAction>(256).fill('attribute-discard');
for (const [code, { flags, action }] of Object.entries(KNOWN)) {
  KNOWN_ATTRIBUTE_FLAGS[Number(code)] = flags;
  KNOWN_ATTRIBUTE_ACTION[Number(code)] = action;
}
