/**
 * Path attributes as JSON-safe values, from an UpdateScan (update-scan.ts checked them and applied RFC 7606).
 * Attributes appear in wire order; with 2-octet ASNs on the wire AS4_PATH and AS4_AGGREGATOR are merged in
 * (RFC 6793 §4.2.3).
 */
import { decodeAsPath, mergeAs4Path } from './as-path.js';
import { ATTR } from './codes.js';
import { decodeCommunities, decodeExtendedCommunities, decodeLargeCommunities } from './communities.js';
import { decodeNextHop } from './mp-reach.js';
import { ATTRIBUTE_VALID, type UpdateScan } from '../update-scan.js';
import { materializeSection } from '../nlri.js';
import type { Nlri, PathAttributes, RawAttribute } from '../types.js';
import { formatIPv4 } from '../../model/address.js';

export { ATTR } from './codes.js';

const AS_TRANS = 23456;

/** The MP attributes of an UPDATE in wire order (each appears at most once: a repeat is fatal). */
const MP_REACH_ONLY = [ATTR.MP_REACH_NLRI] as const;
const MP_UNREACH_ONLY = [ATTR.MP_UNREACH_NLRI] as const;
const MP_REACH_THEN_UNREACH = [ATTR.MP_REACH_NLRI, ATTR.MP_UNREACH_NLRI] as const;
const MP_UNREACH_THEN_REACH = [ATTR.MP_UNREACH_NLRI, ATTR.MP_REACH_NLRI] as const;
const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function materializeAttributes(scan: UpdateScan): PathAttributes {
  const attributes: PathAttributes = {};
  const buf = scan.buf;
  for (let i = 0; i < scan.attributeCount; i++) {
    const code = scan.attributeOrder[i];
    if (scan.attributeState[code] !== ATTRIBUTE_VALID) continue;
    const start = scan.attributeValueStart[code];
    const end = scan.attributeValueEnd[code];
    switch (code) {
      case ATTR.ORIGIN:
        attributes.origin = ORIGINS[scan.origin];
        break;
      case ATTR.AS_PATH:
        attributes.asPath = decodeAsPath(buf, start, end, scan.asPathWidth as 2 | 4);
        break;
      case ATTR.AS4_PATH:
        attributes.as4Path = decodeAsPath(buf, start, end, scan.as4PathWidth as 2 | 4);
        break;
      case ATTR.NEXT_HOP:
        attributes.nextHop = formatIPv4(buf, start);
        break;
      case ATTR.MULTI_EXIT_DISC:
        attributes.med = scan.med;
        break;
      case ATTR.LOCAL_PREF:
        attributes.localPref = scan.localPref;
        break;
      case ATTR.ATOMIC_AGGREGATE:
        attributes.atomicAggregate = true;
        break;
      case ATTR.AGGREGATOR: {
        const asBytes = end - start - 4;
        attributes.aggregator = { as: asBytes === 4 ? buf.readUInt32BE(start) : buf.readUInt16BE(start), address: formatIPv4(buf, start + asBytes) };
        break;
      }
      case ATTR.AS4_AGGREGATOR:
        attributes.as4Aggregator = { as: buf.readUInt32BE(start), address: formatIPv4(buf, start + 4) };
        break;
      case ATTR.COMMUNITIES:
        attributes.communities = decodeCommunities(buf, start, end);
        break;
      case ATTR.ORIGINATOR_ID:
        attributes.originatorId = formatIPv4(buf, start);
        break;
      case ATTR.CLUSTER_LIST: {
        const ids: string[] = [];
        for (let pos = start; pos < end; pos += 4) ids.push(formatIPv4(buf, pos));
        attributes.clusterList = ids;
        break;
      }
      case ATTR.MP_REACH_NLRI: {
        const { nextHop, linkLocalNextHop } = decodeNextHop(buf, scan.mpReachNextHopStart, scan.mpReachNextHopLength, scan.mpReachSafi);
        const afi = scan.mpReachAfi;
        const safi = scan.mpReachSafi;
        if (scan.mpReachFamily < 0) {
          attributes.mpReach = { afi, safi, nextHop, nlri: [], rawNlriHex: buf.toString('hex', scan.mpReachNlriStart, end) };
          break;
        }
        const nlri = materializeSection(buf, scan.mpReachNlri, scan.prefixes, []);
        attributes.mpReach = linkLocalNextHop === undefined ? { afi, safi, nextHop, nlri } : { afi, safi, nextHop, nlri, linkLocalNextHop };
        break;
      }
      case ATTR.MP_UNREACH_NLRI: {
        const afi = scan.mpUnreachAfi;
        const safi = scan.mpUnreachSafi;
        attributes.mpUnreach =
          scan.mpUnreachFamily < 0
            ? { afi, safi, withdrawn: [], rawNlriHex: buf.toString('hex', scan.mpUnreachNlriStart, end) }
            : { afi, safi, withdrawn: materializeSection(buf, scan.mpUnreachNlri, scan.prefixes, [] as Nlri[]) };
        break;
      }
      case ATTR.EXTENDED_COMMUNITIES:
        attributes.extendedCommunities = decodeExtendedCommunities(buf, start, end);
        break;
      case ATTR.LARGE_COMMUNITY:
        attributes.largeCommunities = decodeLargeCommunities(buf, start, end);
        break;
      default: {
        const raw: RawAttribute = { code, flags: buf[scan.attributeHeader[code]], hex: buf.toString('hex', start, end) };
        (attributes.unknown ??= []).push(raw);
      }
    }
  }
  mergeAs4(attributes, scan.fourOctetAs);
  return attributes;
}

/**
 * The attribute bytes minus the NLRI inside MP_REACH/MP_UNREACH: equal keys mean equal attributes, so the RIB
 * can store each distinct attribute set once without comparing decoded objects. MP_REACH keeps AFI, SAFI and
 * the next hop (they are attributes of the routes).
 */
export function attributesKeyOf(scan: UpdateScan): string {
  const buf = scan.buf;
  const reach = scan.has(ATTR.MP_REACH_NLRI);
  const unreach = scan.has(ATTR.MP_UNREACH_NLRI);
  if (!reach && !unreach) return buf.toString('latin1', scan.attributesStart, scan.attributesStop);
  const reachFirst = reach && (!unreach || scan.attributeHeader[ATTR.MP_REACH_NLRI] < scan.attributeHeader[ATTR.MP_UNREACH_NLRI]);
  const order = reach && unreach ? (reachFirst ? MP_REACH_THEN_UNREACH : MP_UNREACH_THEN_REACH) : reach ? MP_REACH_ONLY : MP_UNREACH_ONLY;
  let key = '';
  let from = scan.attributesStart;
  for (const code of order) {
    key += buf.toString('latin1', from, scan.attributeHeader[code]);
    const valueStart = scan.attributeValueStart[code];
    const valueEnd = scan.attributeValueEnd[code];
    if (code === ATTR.MP_REACH_NLRI && valueEnd - valueStart >= 4) {
      key += `|${buf.toString('latin1', valueStart, Math.min(valueEnd, valueStart + 4 + buf[valueStart + 3]))}|`;
    }
    from = valueEnd;
  }
  return key + buf.toString('latin1', from, scan.attributesStop);
}

/**
 * RFC 6793 §4.2.3: with 2-octet ASNs on the wire, the real path is the merge of AS_PATH and AS4_PATH, and an
 * AGGREGATOR of AS_TRANS is replaced by AS4_AGGREGATOR. Between 4-octet speakers AS4_* must be ignored.
 */
function mergeAs4(attributes: PathAttributes, fourOctetAs: boolean): void {
  if (fourOctetAs) return;
  // §4.2.3: an AGGREGATOR other than AS_TRANS means the AS4_* attributes are stale and must be ignored.
  if (attributes.aggregator && attributes.aggregator.as !== AS_TRANS) return;
  if (attributes.as4Aggregator && attributes.aggregator?.as === AS_TRANS) attributes.aggregator = attributes.as4Aggregator;
  if (attributes.as4Path && attributes.asPath) attributes.asPath = mergeAs4Path(attributes.asPath, attributes.as4Path);
}
