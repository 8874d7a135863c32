/**
 * Golden test: our BMP decoder against tshark 4.0.17's decode of the same real captures (test/fixtures, see
 * SHARED-README.md there).
 *
 * For each fixture, both decodes are reduced to one normalised record per BMP message, in stream order, and the two
 * sequences must be equal: same count, same order, same content. A record holds the message type; the per-peer
 * header (peer type, flags, address, AS, BGP identifier); for Route Monitoring the announced prefixes (NLRI field,
 * then MP_REACH_NLRI, as "addr/len"), the withdrawn prefixes (Withdrawn Routes, then MP_UNREACH_NLRI), the NEXT_HOP
 * attribute, the MP_REACH_NLRI next hop(s), the AS_PATH as a list of ASNs and the RFC 1997 communities as "a:b";
 * for Peer Down the reason; for Statistics Report the list of stat types and each statistic's value; for Peer Up
 * the local address and ports; for Initiation the TLV types and values; for Termination the TLV types and reason.
 * Our side runs the raw `*.bmp` stream through BmpFramer and one BmpSessionDecoder; a decode error, framing error or
 * leftover bytes becomes a record of its own so that it shows up in the comparison.
 *
 * tshark's JSON comes from `tshark -T json --no-duplicate-keys -J "frame bmp"`: a key that repeats becomes an array,
 * one TCP frame may carry several BMP messages (then `bmp` is an array), and a field may be a scalar, an array or an
 * object depending on how many times it occurred. `many()` and the lookup helpers below absorb those shapes
 * generically instead of assuming any one of them.
 *
 * Fields deliberately NOT compared, because tshark is known to be wrong or silent there (SHARED-README.md):
 *  - Peer Up information TLVs: tshark marks FRR's Peer Up information TLV as malformed.
 *  - The value of FRR's private stats type 65531: tshark does not decode it ("Unknown stats type payload"), so
 *    for that type only the type is compared; every other statistic is compared as type and value.
 *  - The text of NLRI prefix fields: tshark prints some prefixes without their length, so every prefix is rebuilt
 *    from the address field plus the `bgp.prefix_length` field of the JSON tree, never from display labels.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BmpFramer } from '../../src/bmp/framer.js';
import { BmpSessionDecoder } from '../../src/bmp/decode.js';
import type { BmpMessage, PerPeerHeader } from '../../src/bmp/types.js';
import type { BgpUpdate, Nlri } from '../../src/bgp/types.js';
import { CAPTURES, readFixture } from '../helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------------------------
// The normalised record both sides are reduced to.

interface PeerRecord {
  readonly peerType: number;
  readonly flags: number;
  readonly address: string;
  readonly as: number;
  readonly bgpId: string;
}

interface MessageRecord {
  readonly type: string;
  readonly peer?: PeerRecord;
  // Route Monitoring
  readonly announced?: string[];
  readonly withdrawn?: string[];
  /** NEXT_HOP attribute (code 3); null when absent. */
  readonly nextHop?: string | null;
  /** MP_REACH_NLRI next hop(s): global, then link-local when present; null when there is no MP_REACH_NLRI. */
  readonly mpReachNextHop?: string[] | null;
  /** AS_PATH (code 2) flattened to its ASNs; null when the attribute is absent, [] when it is empty. */
  readonly asPath?: number[] | null;
  /** COMMUNITIES (code 8) as "a:b"; null when absent. */
  readonly communities?: string[] | null;
  // Peer Down
  readonly reason?: number;
  // Statistics Report
  readonly statTypes?: number[];
  /** "type=value" per statistic; just "type" for FRR's private type 65531, whose value tshark cannot decode. */
  readonly statValues?: string[];
  // Peer Up
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remotePort?: number;
  // Initiation / Termination
  readonly information?: string[];
  readonly terminationReason?: number;
}

const BMP_TYPE_NAMES: Record<number, string> = {
  0: 'route-monitoring',
  1: 'statistics-report',
  2: 'peer-down',
  3: 'peer-up',
  4: 'initiation',
  5: 'termination',
  6: 'route-mirroring',
};

/** Names used on the summary.txt "message types:" line. */
const SUMMARY_TYPE_NAMES: Record<string, string> = {
  RouteMonitoring: 'route-monitoring',
  Stats: 'statistics-report',
  PeerDown: 'peer-down',
  PeerUp: 'peer-up',
  Initiation: 'initiation',
  Termination: 'termination',
  RouteMirroring: 'route-mirroring',
};

const ATTR_NEXT_HOP = 3;
/** FRR's private statistic, which tshark 4.0.17 reports as "Unknown stats type payload". */
const FRR_PRIVATE_STAT_TYPE = 65531;
const ATTR_AS_PATH = 2;
const ATTR_COMMUNITIES = 8;
const ATTR_MP_REACH = 14;
const ATTR_MP_UNREACH = 15;

// ---------------------------------------------------------------------------------------------------------------
// tshark JSON normaliser.

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field that occurred 0, 1 or n times: undefined, a value, or (with --no-duplicate-keys) an array of them. */
function many(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function objects(value: Json | undefined): JsonObject[] {
  return many(value).filter(isObject);
}

function text(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`tshark JSON: expected one string for ${what}, got ${JSON.stringify(value)}`);
  return value;
}

function num(value: Json | undefined, what: string): number {
  const s = text(value, what);
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  if (!Number.isFinite(n)) throw new Error(`tshark JSON: ${what} is not a number: ${s}`);
  return n;
}

/**
 * NLRI entries inside a tshark container (bgp.update.nlri, bgp.update.withdrawn_routes, the MP_REACH/MP_UNREACH
 * attribute objects). tshark keys each entry by a display label and puts the address in a `*_prefix` field next
 * to `bgp.prefix_length`; the labels are not used (see the header comment), only those two fields.
 */
function tsharkPrefixes(container: Json | undefined): string[] {
  const out: string[] = [];
  for (const obj of objects(container)) {
    for (const value of Object.values(obj)) {
      for (const entry of objects(value)) {
        if (!('bgp.prefix_length' in entry)) continue;
        const addressKey = Object.keys(entry).find((k) => k.endsWith('_prefix'));
        if (addressKey === undefined) throw new Error(`tshark JSON: NLRI entry without address: ${JSON.stringify(entry)}`);
        const pathIdKey = Object.keys(entry).find((k) => k.endsWith('path_id'));
        const prefix = `${text(entry[addressKey], addressKey)}/${num(entry['bgp.prefix_length'], 'bgp.prefix_length')}`;
        out.push(pathIdKey === undefined ? prefix : `${prefix}#${num(entry[pathIdKey], pathIdKey)}`);
      }
    }
  }
  return out;
}

function tsharkPeer(message: JsonObject): PeerRecord {
  const headers = objects(message['bmp.peer.header']);
  if (headers.length !== 1) throw new Error(`tshark JSON: expected one per-peer header, got ${headers.length}`);
  const h = headers[0];
  const address = h['bmp.peer.ipv6.addr'] ?? h['bmp.peer.ip.addr'];
  return {
    peerType: num(h['bmp.peer.type'], 'bmp.peer.type'),
    flags: num(h['bmp.peer.flags'], 'bmp.peer.flags'),
    address: text(address, 'bmp.peer.ip(v6).addr'),
    as: num(h['bmp.peer.asn'], 'bmp.peer.asn'),
    bgpId: text(h['bmp.peer.id'], 'bmp.peer.id'),
  };
}

const PA = 'bgp.update.path_attribute';

function tsharkRouteMonitoring(message: JsonObject): MessageRecord {
  const bgps = objects(message.bgp);
  if (bgps.length !== 1) throw new Error(`tshark JSON: Route Monitoring with ${bgps.length} BGP PDUs`);
  const bgp = bgps[0];
  const attributes = objects(bgp['bgp.update.path_attributes']).flatMap((c) => objects(c[PA]));
  const byCode = (code: number): JsonObject[] =>
    attributes.filter((a) => num(a[`${PA}.type_code`], `${PA}.type_code`) === code);

  const mpReach = byCode(ATTR_MP_REACH).flatMap((a) => objects(a[`${PA}.mp_reach_nlri`]));
  const mpUnreach = byCode(ATTR_MP_UNREACH).flatMap((a) => objects(a[`${PA}.mp_unreach_nlri`]));

  const nextHops = byCode(ATTR_NEXT_HOP).map((a) => text(a[`${PA}.next_hop`], `${PA}.next_hop`));
  let mpReachNextHop: string[] | null = null;
  if (byCode(ATTR_MP_REACH).length > 0) {
    // afi, safi and the next hop sit on the attribute object; its `.mp_reach_nlri` child holds only the NLRI.
    mpReachNextHop = byCode(ATTR_MP_REACH).flatMap((a) =>
      objects(a[`${PA}.mp_reach_nlri.next_hop_tree`]).flatMap((tree) =>
        Object.entries(tree)
          .filter(([k]) => /\.next_hop\.ipv[46]$/.test(k))
          .flatMap(([k, v]) => many(v).map((x) => text(x, k))),
      ),
    );
  }

  let asPath: number[] | null = null;
  const asPathAttrs = byCode(ATTR_AS_PATH);
  if (asPathAttrs.length > 0) {
    asPath = asPathAttrs
      .flatMap((a) => objects(a[`${PA}.as_path_segment`]))
      .flatMap((segment) =>
        Object.entries(segment)
          .filter(([k]) => /\.as_path_segment\.as[24]$/.test(k))
          .flatMap(([k, v]) => many(v).map((x) => num(x, k))),
      );
  }

  let communities: string[] | null = null;
  const communityAttrs = byCode(ATTR_COMMUNITIES);
  if (communityAttrs.length > 0) {
    communities = communityAttrs
      .flatMap((a) => objects(a[`${PA}.communities`]))
      .flatMap((c) => objects(c[`${PA}.community`]))
      .map((c) => `${num(c[`${PA}.community_as`], 'community_as')}:${num(c[`${PA}.community_value`], 'community_value')}`);
  }

  return {
    type: 'route-monitoring',
    peer: tsharkPeer(message),
    announced: [...tsharkPrefixes(bgp['bgp.update.nlri']), ...tsharkPrefixes(mpReach)],
    withdrawn: [...tsharkPrefixes(bgp['bgp.update.withdrawn_routes']), ...tsharkPrefixes(mpUnreach)],
    nextHop: nextHops.length === 0 ? null : nextHops.join(','),
    mpReachNextHop,
    asPath,
    communities,
  };
}

function tsharkMessage(message: JsonObject): MessageRecord {
  const type = BMP_TYPE_NAMES[num(message['bmp.type'], 'bmp.type')] ?? `unknown-${text(message['bmp.type'], 'bmp.type')}`;
  switch (type) {
    case 'route-monitoring':
      return tsharkRouteMonitoring(message);
    case 'statistics-report': {
      const statTypes = many(message['bmp.stats.type']).map((t) => num(t, 'bmp.stats.type'));
      const trees = objects(message['bmp.stats.type_tree']);
      const statValues = statTypes.map((t, i) => {
        // The decoded value is the one `bmp.stats.data.<name>` field; `bmp.stats.data` itself is the raw bytes.
        // tshark has none for a type it does not know (FRR's 65531, see the header comment): then type only.
        const valueKeys = Object.keys(trees[i] ?? {}).filter((k) => /^bmp\.stats\.data\.\w+$/.test(k));
        if (valueKeys.length === 0) return `${t}`;
        if (valueKeys.length !== 1) throw new Error(`tshark JSON: stat type ${t} has values ${valueKeys.join(', ')}`);
        return `${t}=${num(trees[i][valueKeys[0]], valueKeys[0])}`;
      });
      return { type, peer: tsharkPeer(message), statTypes, statValues };
    }
    case 'peer-down':
      return { type, peer: tsharkPeer(message), reason: num(message['bmp.peer.down.reason'], 'bmp.peer.down.reason') };
    case 'peer-up':
      // Information TLVs excluded: tshark marks FRR's Peer Up information TLV as malformed (SHARED-README.md).
      return {
        type,
        peer: tsharkPeer(message),
        localAddress: text(message['bmp.peer.up.ipv6.addr'] ?? message['bmp.peer.up.ip.addr'], 'bmp.peer.up.ip(v6).addr'),
        localPort: num(message['bmp.peer.up.port.local'], 'bmp.peer.up.port.local'),
        remotePort: num(message['bmp.peer.up.port.remote'], 'bmp.peer.up.port.remote'),
      };
    case 'initiation': {
      const tlvs = objects(message['bmp.init.types']);
      const types = tlvs.flatMap((t) => many(t['bmp.init.type']));
      const values = tlvs.flatMap((t) => objects(t['bmp.init.type_tree'])).map((t) => text(t['bmp.init.info'], 'bmp.init.info'));
      return { type, information: types.map((t, i) => `${num(t, 'bmp.init.type')}=${values[i]}`) };
    }
    case 'termination': {
      const tlvs = objects(message['bmp.term.types']);
      const reasons = tlvs.flatMap((t) => many(t['bmp.term.reason'])).map((r) => num(r, 'bmp.term.reason'));
      const types = tlvs.flatMap((t) => many(t['bmp.term.type'])).map((t) => num(t, 'bmp.term.type'));
      return { type, information: types.map((t) => `${t}`), terminationReason: reasons[0] };
    }
    case 'route-mirroring':
      return { type, peer: tsharkPeer(message) };
    default:
      return { type };
  }
}

function tsharkRecords(gz: Buffer): MessageRecord[] {
  const frames = JSON.parse(gunzipSync(gz).toString('utf8')) as Json;
  const records: MessageRecord[] = [];
  for (const frame of objects(frames)) {
    const source = frame._source;
    const layers = isObject(source) ? source.layers : undefined;
    if (!isObject(layers)) throw new Error('tshark JSON: frame without _source.layers');
    for (const message of objects(layers.bmp)) records.push(tsharkMessage(message));
  }
  return records;
}

// ---------------------------------------------------------------------------------------------------------------
// Our decoder, reduced to the same records.

function ourPeer(peer: PerPeerHeader): PeerRecord {
  return { peerType: peer.peerType, flags: peer.flags, address: peer.address, as: peer.as, bgpId: peer.bgpId };
}

function ourPrefix(n: Nlri): string {
  return n.pathId === undefined ? n.prefix : `${n.prefix}#${n.pathId}`;
}

function ourRouteMonitoring(peer: PerPeerHeader, update: BgpUpdate): MessageRecord {
  const a = update.attributes;
  let mpReachNextHop: string[] | null = null;
  if (a.mpReach) {
    mpReachNextHop = [];
    if (a.mpReach.nextHop !== null) mpReachNextHop.push(a.mpReach.nextHop);
    if (a.mpReach.linkLocalNextHop !== undefined) mpReachNextHop.push(a.mpReach.linkLocalNextHop);
  }
  return {
    type: 'route-monitoring',
    peer: ourPeer(peer),
    announced: update.announced.map(ourPrefix),
    withdrawn: update.withdrawn.map(ourPrefix),
    nextHop: a.nextHop ?? null,
    mpReachNextHop,
    asPath: a.asPath ? a.asPath.flatMap((segment) => [...segment.asns]) : null,
    communities: a.communities ? [...a.communities] : null,
  };
}

function ourMessage(m: BmpMessage): MessageRecord {
  switch (m.type) {
    case 'route-monitoring':
      return ourRouteMonitoring(m.peer, m.update);
    case 'statistics-report':
      return {
        type: m.type,
        peer: ourPeer(m.peer),
        statTypes: m.stats.map((s) => s.type),
        // Type 65531 without its value: tshark cannot decode FRR's private statistic (header comment).
        statValues: m.stats.map((s) => (s.type === FRR_PRIVATE_STAT_TYPE ? `${s.type}` : `${s.type}=${s.value}`)),
      };
    case 'peer-down':
      return { type: m.type, peer: ourPeer(m.peer), reason: m.reason };
    case 'peer-up':
      return { type: m.type, peer: ourPeer(m.peer), localAddress: m.localAddress, localPort: m.localPort, remotePort: m.remotePort };
    case 'initiation':
      return { type: m.type, information: m.information.map((t) => `${t.type}=${t.value}`) };
    case 'termination':
      return { type: m.type, information: m.information.map((t) => `${t.type}`), terminationReason: m.reason };
    case 'route-mirroring':
      return { type: m.type, peer: ourPeer(m.peer) };
    case 'unknown':
      return { type: `unknown-${m.messageType}` };
  }
}

function ourRecords(stream: Buffer): MessageRecord[] {
  const framer = new BmpFramer();
  const decoder = new BmpSessionDecoder();
  const records: MessageRecord[] = [];
  const framingError = framer.push(stream, (frame) => {
    const result = decoder.decode(frame.bytes);
    // A decode failure becomes a record of its own, so the sequence comparison shows where it happened.
    records.push(result.ok ? ourMessage(result.value) : { type: `decode-error: ${JSON.stringify(result.error)}` });
  });
  if (framingError) records.push({ type: `framing-error: ${JSON.stringify(framingError)}` });
  if (framer.bufferedBytes !== 0) records.push({ type: `trailing-bytes: ${framer.bufferedBytes}` });
  return records;
}

// ---------------------------------------------------------------------------------------------------------------

/** Parses the summary's `message types: Initiation x1, PeerDown x4, ...` line into counts per our type names. */
function summaryCounts(summary: string): Record<string, number> {
  const line = summary.split('\n').find((l) => l.trim().startsWith('message types:'));
  if (line === undefined) throw new Error('summary.txt has no "message types:" line');
  const counts: Record<string, number> = {};
  for (const item of line.slice(line.indexOf(':') + 1).split(',')) {
    const match = /^\s*(\w+) x(\d+)\s*$/.exec(item);
    if (!match) throw new Error(`summary.txt: cannot parse message type item "${item}"`);
    const name = SUMMARY_TYPE_NAMES[match[1]];
    if (name === undefined) throw new Error(`summary.txt: unknown message type name "${match[1]}"`);
    counts[name] = (counts[name] ?? 0) + Number(match[2]);
  }
  return counts;
}

function countByType(records: readonly MessageRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

describe.each(CAPTURES)('tshark agreement: $name', ({ file }) => {
  const ours = ourRecords(readFixture(`${file}.bmp`));
  const theirs = tsharkRecords(readFixture(`${file}.tshark.json.gz`));

  it('decodes every BMP message exactly as tshark does, in order', () => {
    // Every differing field of every message, named by message index, so one run shows all disagreements.
    const disagreements: { index: number; field: string; ours: unknown; tshark: unknown }[] = [];
    for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
      const a: Record<string, unknown> = { ...ours[i] };
      const b: Record<string, unknown> = { ...theirs[i] };
      for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) {
          disagreements.push({ index: i, field, ours: a[field], tshark: b[field] });
        }
      }
    }
    expect(disagreements).toEqual([]);
    // Guard against a normaliser that silently finds nothing on both sides.
    expect(theirs.some((r) => (r.announced?.length ?? 0) > 0)).toBe(true);
    expect(ours.length).toBe(theirs.length);
    expect(ours).toEqual(theirs);
  });

  it('counts messages per type as the summary does', () => {
    const expected = summaryCounts(readFixture(`${file}.summary.txt`).toString('utf8'));
    expect(countByType(ours)).toEqual(expected);
    expect(countByType(theirs)).toEqual(expected);
  });
});
