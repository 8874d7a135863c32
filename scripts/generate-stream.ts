/**
 * Synthetic route-server BMP stream (RFC 7854) for benchmarks and soak tests.
 *
 *   node dist/scripts/generate-stream.js [--peers N] [--prefixes-per-peer N] [--churn N] [--seed N] [--out FILE]
 *
 * The stream: Initiation; per peer a Peer Up with both OPENs and its initial table (pre- then post-policy, packed
 * UPDATEs, End-of-RIB per family and policy); `churn` single-prefix Route Monitoring messages spread over the
 * peers with occasional Stats Reports and a few Peer Down / Peer Up flaps; a Termination. Everything derives from
 * the seed, so the same options always give the same bytes. Messages are handed to `write` as they are made.
 */
import { closeSync, openSync, realpathSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import {
  Afi,
  Safi,
  encodeAttribute,
  encodeEndOfRib,
  encodeNotification,
  encodeOpen,
  encodeUpdate,
  type Attribute,
  type Capability,
  type Nlri,
} from '../src/encode/bgp-encode.js';
import {
  PeerDownReason,
  PeerFlag,
  StatType,
  encodeInitiation,
  encodePeerDown,
  encodePeerUp,
  encodeRouteMonitoring,
  encodeStatsReport,
  encodeTermination,
  fsmEventCode,
  stat32,
  stat64,
  statAfiSafi64,
  tlv,
  type PeerHeader,
} from '../src/encode/bmp-encode.js';

export interface GenerateStreamOptions {
  readonly peers?: number;
  readonly prefixesPerPeer?: number;
  /** Number of single-prefix Route Monitoring messages after the initial tables. */
  readonly churn?: number;
  readonly seed?: number;
}

export interface StreamSummary {
  /** BMP messages written. */
  readonly messages: number;
  /** Bytes written. */
  readonly bytes: number;
  /** NLRI entries (announced or withdrawn, MP_REACH/MP_UNREACH included) across all Route Monitoring messages. */
  readonly prefixes: number;
}

export const DEFAULT_STREAM_OPTIONS = { peers: 50, prefixesPerPeer: 2000, churn: 100_000, seed: 1 } as const;

const RS_AS = 64496; // RFC 5398 documentation ASN
const RS_ID = '192.0.2.1';
const RS_V4 = '100.64.0.1';
const RS_V6 = '2001:db8:ffff::1';
const START_SEC = 1_700_000_000;
/** Stay clear of the 4,096-byte limit so that peers without RFC 8654 could have sent these UPDATEs. */
const PACK_LIMIT = 4000;

type Family = 0 | 1; // 0 = IPv4 unicast, 1 = IPv6 unicast
const FAMILY_AFI = [Afi.IPV4, Afi.IPV6] as const;

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: a 32-bit state PRNG, plenty for test data and tiny enough to inline. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in lo..hi inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Model

interface RouteTable {
  readonly count: number;
  readonly family: Uint8Array;
  /** IPv4 address, or bits 32..63 of an IPv6 address under 2001:db8::/32. */
  readonly addr: Uint32Array;
  readonly len: Uint8Array;
  readonly pathId: Uint32Array;
  /** 1 when import policy rejects the route (it never appears post-policy). */
  readonly filtered: Uint8Array;
  readonly announced: Uint8Array;
  /** Route index range per family: [start, end). */
  readonly ranges: readonly (readonly [number, number])[];
}

interface SimPeer {
  readonly index: number;
  readonly v6: boolean;
  readonly ibgp: boolean;
  /** No 4-octet AS capability: 2-byte AS_PATH, A flag set (RFC 7854 §4.2), AS4_PATH when needed (RFC 6793). */
  readonly legacy: boolean;
  readonly addPath: boolean;
  readonly as: number;
  readonly address: string;
  readonly bgpId: string;
  readonly families: readonly Family[];
  readonly nextHopV4: string;
  readonly nextHopV6: string;
  readonly linkLocal: string | undefined;
  readonly table: RouteTable;
  up: boolean;
  adjIn: [number, number];
  locRib: [number, number];
  rejected: number;
  duplicates: number;
}

interface PathProfile {
  readonly origin: 0 | 1 | 2;
  readonly asns: readonly number[];
  readonly asSet: readonly number[] | null;
  readonly med: number | null;
  readonly communities: readonly number[];
  readonly large: readonly (readonly [number, number, number])[];
}

function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function prefixText(t: RouteTable, k: number): string {
  const a = t.addr[k];
  if (t.family[k] === 0) return `${ipv4Text(a)}/${t.len[k]}`;
  return `2001:db8:${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}::/${t.len[k]}`;
}

function nlriOf(peer: SimPeer, k: number): Nlri {
  const t = peer.table;
  return peer.addPath ? { prefix: prefixText(t, k), pathId: t.pathId[k] } : { prefix: prefixText(t, k) };
}

function nlriBytes(peer: SimPeer, k: number): number {
  return (peer.addPath ? 5 : 1) + ((peer.table.len[k] + 7) >> 3);
}

function randomAsn(rng: Rng): number {
  // Private-use ranges (RFC 6996), half 2-byte and half 4-byte.
  return rng.chance(0.5) ? rng.int(64512, 65534) : rng.int(4_200_000_000, 4_294_967_294);
}

function makePeer(rng: Rng, index: number, prefixesPerPeer: number): SimPeer {
  const v6 = index % 3 === 2;
  const ibgp = index % 5 === 0;
  const legacy = !ibgp && index % 11 === 4;
  const addPath = index % 7 === 3;
  const as = ibgp ? RS_AS : legacy || index % 2 === 0 ? 64512 + (index % 1000) : 4_200_000_000 + index * 7;
  const v4Addr = ipv4Text(((100 << 24) | (64 << 16)) + index + 2);
  const v6Addr = `2001:db8:ffff::${(index + 2).toString(16)}`;
  const families: Family[] = v6 ? [1] : index % 4 === 1 ? [0, 1] : [0];
  return {
    index,
    v6,
    ibgp,
    legacy,
    addPath,
    as,
    address: v6 ? v6Addr : v4Addr,
    bgpId: ipv4Text(((172 << 24) | (16 << 16)) + index + 1),
    families,
    nextHopV4: v4Addr,
    // IPv6 routes over an IPv4 session use an IPv4-mapped next hop, as FRR does; native IPv6 peers add a link-local.
    nextHopV6: v6 ? v6Addr : `::ffff:${v4Addr}`,
    linkLocal: v6 ? `fe80::${(index + 2).toString(16)}` : undefined,
    table: makeTable(rng, families, prefixesPerPeer, addPath),
    up: false,
    adjIn: [0, 0],
    locRib: [0, 0],
    rejected: 0,
    duplicates: 0,
  };
}

function makeTable(rng: Rng, families: readonly Family[], prefixesPerPeer: number, addPath: boolean): RouteTable {
  const family: number[] = [];
  const addr: number[] = [];
  const len: number[] = [];
  const pathId: number[] = [];
  const ranges: [number, number][] = [];
  families.forEach((fam, fi) => {
    const v4Share = Math.ceil(prefixesPerPeer * 0.6);
    const want = families.length === 1 ? prefixesPerPeer : fi === 0 ? v4Share : prefixesPerPeer - v4Share;
    const start = family.length;
    const seen = new Set<number>();
    while (seen.size < want) {
      let a: number;
      let l: number;
      if (fam === 0) {
        // IPv4 /24../32 inside 10.0.0.0/8, mostly /24.
        l = rng.chance(0.5) ? 24 : rng.int(25, 32);
        a = (((10 << 24) | rng.int(0, 0xffffff)) & ((0xffffffff << (32 - l)) >>> 0)) >>> 0;
      } else {
        // IPv6 /48../64 inside 2001:db8::/32; only bits 32..63 vary.
        const r = rng.float();
        l = r < 0.4 ? 48 : r < 0.6 ? 56 : r < 0.8 ? 64 : rng.int(49, 63);
        a = (rng.int(0, 0xffffffff) & ((0xffffffff << (64 - l)) >>> 0)) >>> 0;
      }
      const key = a * 128 + l;
      if (seen.has(key)) continue;
      seen.add(key);
      family.push(fam);
      addr.push(a);
      len.push(l);
      pathId.push(addPath ? 1 : 0);
    }
    if (addPath) {
      // A second path for about a quarter of the prefixes, so ADD-PATH actually distinguishes something.
      const end = family.length;
      for (let k = start; k < end; k++) {
        if (!rng.chance(0.25)) continue;
        family.push(fam);
        addr.push(addr[k]);
        len.push(len[k]);
        pathId.push(2);
      }
    }
    ranges.push([start, family.length]);
  });
  const count = family.length;
  const filtered = new Uint8Array(count);
  for (let k = 0; k < count; k++) filtered[k] = rng.chance(0.03) ? 1 : 0;
  return {
    count,
    family: Uint8Array.from(family),
    addr: Uint32Array.from(addr),
    len: Uint8Array.from(len),
    pathId: Uint32Array.from(pathId),
    filtered,
    announced: new Uint8Array(count),
    ranges,
  };
}

function randomProfile(rng: Rng, peer: SimPeer): PathProfile {
  const n = rng.int(1, 5);
  const asns: number[] = peer.ibgp ? [] : [peer.as];
  while (asns.length < n) asns.push(randomAsn(rng));
  if (!peer.ibgp && asns.length < 5 && rng.chance(0.1)) asns.unshift(peer.as); // prepending
  const o = rng.float();
  const commAs = peer.as <= 0xffff ? peer.as : 65000;
  const communities: number[] = [];
  for (let i = rng.int(0, 4); i > 0; i--) communities.push(((commAs << 16) | rng.int(1, 65535)) >>> 0);
  const large: [number, number, number][] = [];
  if (rng.chance(0.25)) for (let i = rng.int(1, 2); i > 0; i--) large.push([peer.as, rng.int(1, 10), rng.int(0, 99_999)]);
  return {
    origin: o < 0.85 ? 0 : o < 0.95 ? 2 : 1,
    asns,
    asSet: rng.chance(0.02) ? [randomAsn(rng), randomAsn(rng)] : null,
    med: rng.chance(0.3) ? rng.int(0, 1000) : null,
    communities,
    large,
  };
}

/**
 * Path attributes in ascending type order (RFC 4271 §5 SHOULD). Post-policy adds what the route server's import
 * policy sets: LOCAL_PREF and a community. `mpNlri` non-null makes an IPv6 MP_REACH_NLRI (RFC 4760 §3).
 */
function attributesFor(peer: SimPeer, p: PathProfile, post: boolean, mpNlri: readonly Nlri[] | null): Attribute[] {
  const fourOctet = !peer.legacy;
  const segments: { type: 1 | 2; asns: readonly number[] }[] = [{ type: 2, asns: p.asns }];
  if (p.asSet) segments.push({ type: 1, asns: p.asSet });
  const attrs: Attribute[] = [
    { type: 'origin', value: p.origin },
    { type: 'as-path', segments, fourOctet },
  ];
  if (!mpNlri) attrs.push({ type: 'next-hop', address: peer.nextHopV4 });
  if (p.med !== null) attrs.push({ type: 'med', value: p.med });
  if (post || peer.ibgp) attrs.push({ type: 'local-pref', value: post && peer.ibgp ? 200 : 100 });
  if (p.asSet) {
    const aggAs = p.asns[p.asns.length - 1];
    attrs.push({ type: 'atomic-aggregate' }, { type: 'aggregator', as: aggAs, address: '10.255.255.1', fourOctet });
  }
  const communities = post ? [...p.communities, ((RS_AS << 16) | 100) >>> 0] : p.communities;
  if (communities.length > 0) attrs.push({ type: 'communities', values: communities });
  if (mpNlri) {
    attrs.push({ type: 'mp-reach', afi: Afi.IPV6, safi: Safi.UNICAST, nextHop: peer.nextHopV6, linkLocalNextHop: peer.linkLocal, nlri: mpNlri });
  }
  // RFC 6793 §4.2.2: an OLD speaker's path keeps the real 4-byte ASNs in AS4_PATH.
  if (!fourOctet && segments.some((s) => s.asns.some((a) => a > 0xffff))) attrs.push({ type: 'as4-path', segments });
  if (p.large.length > 0) attrs.push({ type: 'large-communities', values: p.large });
  return attrs;
}

// ---------------------------------------------------------------------------------------------------------------
// Generator

/**
 * Write a deterministic route-server BMP stream (RFC 7854 message sequence, §3.3) through `write`, one message
 * per call, and return what was written.
 */
export function generateStream(options: GenerateStreamOptions, write: (chunk: Buffer) => void): StreamSummary {
  const peersN = options.peers ?? DEFAULT_STREAM_OPTIONS.peers;
  const prefixesPerPeer = options.prefixesPerPeer ?? DEFAULT_STREAM_OPTIONS.prefixesPerPeer;
  const churn = options.churn ?? DEFAULT_STREAM_OPTIONS.churn;
  const seed = options.seed ?? DEFAULT_STREAM_OPTIONS.seed;
  for (const [name, v] of [['peers', peersN], ['prefixesPerPeer', prefixesPerPeer], ['churn', churn], ['seed', seed]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  }

  const rng = new Rng(seed);
  let messages = 0;
  let bytes = 0;
  let prefixes = 0;
  let clockUs = 0; // microseconds since START_SEC
  const emit = (msg: Buffer): void => {
    messages++;
    bytes += msg.length;
    write(msg);
  };
  const tick = (maxUs: number): void => {
    clockUs += rng.int(0, maxUs);
  };
  const header = (peer: SimPeer, post: boolean): PeerHeader => ({
    peerType: 0,
    flags: (peer.v6 ? PeerFlag.V : 0) | (post ? PeerFlag.L : 0) | (peer.legacy ? PeerFlag.A : 0),
    address: peer.address,
    as: peer.as,
    bgpId: peer.bgpId,
    timestampSec: START_SEC + Math.floor(clockUs / 1e6),
    timestampUsec: clockUs % 1e6,
  });
  const emitUpdate = (peer: SimPeer, post: boolean, update: Buffer, nlriCount: number): void => {
    prefixes += nlriCount;
    emit(encodeRouteMonitoring(header(peer, post), update));
  };

  const peerUp = (peer: SimPeer): void => {
    const mp: Capability[] = peer.families.map((f) => ({ type: 'multiprotocol', afi: FAMILY_AFI[f], safi: Safi.UNICAST }));
    const addPath: Capability[] = peer.addPath
      ? [{ type: 'add-path', entries: peer.families.map((f) => ({ afi: FAMILY_AFI[f], safi: Safi.UNICAST, sendReceive: 3 as const })) }]
      : [];
    const gr: Capability = {
      type: 'graceful-restart',
      restartTime: 120,
      families: peer.families.map((f) => ({ afi: FAMILY_AFI[f], safi: Safi.UNICAST, forwardingState: false })),
    };
    const sentOpen = encodeOpen({
      myAs: RS_AS,
      holdTime: 90,
      bgpId: RS_ID,
      capabilities: [...mp, { type: 'route-refresh' }, { type: 'extended-message' }, gr, { type: 'four-octet-as', as: RS_AS }, ...addPath],
    });
    const receivedCaps: Capability[] = [...mp, { type: 'route-refresh' }];
    if (!peer.legacy) receivedCaps.push({ type: 'four-octet-as', as: peer.as });
    if (peer.index % 2 === 0) receivedCaps.push({ ...gr, flags: 0x8 });
    receivedCaps.push(...addPath);
    const receivedOpen = encodeOpen({ myAs: peer.as, holdTime: peer.ibgp ? 90 : 180, bgpId: peer.bgpId, capabilities: receivedCaps });
    tick(20_000);
    emit(
      encodePeerUp(header(peer, false), {
        localAddress: peer.v6 ? RS_V6 : RS_V4,
        localPort: 179,
        remotePort: rng.int(32768, 60999),
        sentOpen,
        receivedOpen,
        tlvs: peer.index % 4 === 0 ? [tlv(0, `session ${peer.index} ${peer.ibgp ? 'appliance' : 'core'}`)] : [],
      }),
    );
    peer.up = true;
  };

  /** Initial (or post-flap) table: pre-policy then post-policy, each family closed by End-of-RIB (RFC 4724 §2). */
  const dumpTable = (peer: SimPeer): void => {
    const t = peer.table;
    // Attribute groups are drawn once so the post-policy view is the pre-policy one plus policy edits.
    const groups: { fam: Family; routes: number[]; profile: PathProfile }[] = [];
    peer.adjIn = [0, 0];
    peer.locRib = [0, 0];
    for (const fam of peer.families) {
      const [start, end] = t.ranges[peer.families.indexOf(fam)];
      let k = start;
      while (k < end) {
        const size = rng.float() < 0.3 ? rng.int(1, 5) : rng.int(5, 300);
        const routes: number[] = [];
        for (const stop = Math.min(end, k + size); k < stop; k++) {
          routes.push(k);
          t.announced[k] = 1;
          peer.adjIn[fam]++;
          if (t.filtered[k]) peer.rejected++;
          else peer.locRib[fam]++;
        }
        groups.push({ fam, routes, profile: randomProfile(rng, peer) });
      }
    }
    for (const post of [false, true]) {
      for (const fam of peer.families) {
        for (const g of groups) {
          if (g.fam !== fam) continue;
          const routes = post ? g.routes.filter((k) => !t.filtered[k]) : g.routes;
          emitPacked(peer, post, fam, g.profile, routes);
        }
        tick(1000);
        emit(encodeRouteMonitoring(header(peer, post), encodeEndOfRib(FAMILY_AFI[fam], Safi.UNICAST)));
      }
    }
  };

  /** Many NLRI per UPDATE sharing one attribute set, each UPDATE kept under PACK_LIMIT bytes. */
  const emitPacked = (peer: SimPeer, post: boolean, fam: Family, profile: PathProfile, routes: readonly number[]): void => {
    if (routes.length === 0) return;
    const mp = fam === 1;
    let base = 19 + 4 + 1; // header, two length fields, slack for MP_REACH growing an extended length
    for (const a of attributesFor(peer, profile, post, mp ? [] : null)) base += encodeAttribute(a).length;
    let chunk: Nlri[] = [];
    let size = base;
    const flush = (): void => {
      const update = mp
        ? encodeUpdate({ attributes: attributesFor(peer, profile, post, chunk), addPath: peer.addPath })
        : encodeUpdate({ attributes: attributesFor(peer, profile, post, null), nlri: chunk, addPath: peer.addPath });
      tick(200);
      emitUpdate(peer, post, update, chunk.length);
      chunk = [];
      size = base;
    };
    for (const k of routes) {
      const nb = nlriBytes(peer, k);
      if (chunk.length > 0 && size + nb > PACK_LIMIT) flush();
      chunk.push(nlriOf(peer, k));
      size += nb;
    }
    flush();
  };

  const singleUpdate = (peer: SimPeer, k: number, profile: PathProfile | null, post: boolean): Buffer => {
    const nlri = [nlriOf(peer, k)];
    const mp = peer.table.family[k] === 1;
    if (profile === null) {
      return mp
        ? encodeUpdate({ attributes: [{ type: 'mp-unreach', afi: Afi.IPV6, safi: Safi.UNICAST, withdrawn: nlri }], addPath: peer.addPath })
        : encodeUpdate({ withdrawn: nlri, addPath: peer.addPath });
    }
    return mp
      ? encodeUpdate({ attributes: attributesFor(peer, profile, post, nlri), addPath: peer.addPath })
      : encodeUpdate({ attributes: attributesFor(peer, profile, post, null), nlri, addPath: peer.addPath });
  };

  const statsReport = (peer: SimPeer): void => {
    const stats = [
      stat32(StatType.REJECTED_PREFIXES, peer.rejected >>> 0),
      stat32(StatType.DUPLICATE_PREFIX_ADVERTISEMENTS, peer.duplicates >>> 0),
      stat64(StatType.ADJ_RIB_IN_ROUTES, BigInt(peer.adjIn[0] + peer.adjIn[1])),
      stat64(StatType.LOC_RIB_ROUTES, BigInt(peer.locRib[0] + peer.locRib[1])),
      ...peer.families.map((f) => statAfiSafi64(StatType.PER_AFI_SAFI_ADJ_RIB_IN, FAMILY_AFI[f], Safi.UNICAST, BigInt(peer.adjIn[f]))),
      ...peer.families.map((f) => statAfiSafi64(StatType.PER_AFI_SAFI_LOC_RIB, FAMILY_AFI[f], Safi.UNICAST, BigInt(peer.locRib[f]))),
    ];
    emit(encodeStatsReport(header(peer, false), stats));
  };

  const peerDown = (peer: SimPeer): void => {
    // RFC 7854 §4.9: 1 and 3 carry the NOTIFICATION, 2 an FSM event code (18 = TcpConnectionFails, RFC 4271 §8.1.3).
    const reason = [PeerDownReason.LOCAL_NOTIFICATION, PeerDownReason.LOCAL_NO_NOTIFICATION, PeerDownReason.REMOTE_NOTIFICATION, PeerDownReason.REMOTE_NO_NOTIFICATION][rng.int(0, 3)];
    const data =
      reason === PeerDownReason.LOCAL_NOTIFICATION
        ? encodeNotification({ code: 6, subcode: 2 }) // Cease / Administrative Shutdown (RFC 4486)
        : reason === PeerDownReason.REMOTE_NOTIFICATION
          ? encodeNotification({ code: 4, subcode: 0 }) // Hold Timer Expired
          : reason === PeerDownReason.LOCAL_NO_NOTIFICATION
            ? fsmEventCode(18)
            : undefined;
    tick(50_000);
    emit(encodePeerDown(header(peer, false), reason, data));
    peer.up = false;
    peer.table.announced.fill(0);
    peer.adjIn = [0, 0];
    peer.locRib = [0, 0];
  };

  // --- the stream ---
  emit(encodeInitiation([tlv(1, 'bmpwatch generate-stream: synthetic route server'), tlv(2, 'rs1.example.net')]));
  const peers: SimPeer[] = [];
  for (let i = 0; i < peersN; i++) peers.push(makePeer(rng, i, prefixesPerPeer));
  for (const peer of peers) {
    peerUp(peer);
    dumpTable(peer);
  }

  const flaps = churn > 0 && peersN >= 2 ? Math.min(5, Math.max(1, Math.floor(peersN / 10))) : 0;
  const downAt = Array.from({ length: flaps }, (_, j) => Math.floor(((j + 1) * churn) / (flaps + 1)));
  const downFor = Math.max(1, Math.floor(churn / (flaps + 1) / 2));
  const pendingUp: { peer: SimPeer; at: number }[] = [];
  let nextStats = rng.int(500, 3000);
  let done = 0;
  const upPeers = (): SimPeer[] => peers.filter((p) => p.up && p.table.count > 0);
  let candidates = upPeers();

  while (done < churn && candidates.length > 0) {
    while (downAt.length > 0 && done >= downAt[0]) {
      downAt.shift();
      const victim = candidates[rng.int(0, candidates.length - 1)];
      if (candidates.length > 1) {
        peerDown(victim);
        pendingUp.push({ peer: victim, at: done + downFor });
        candidates = upPeers();
      }
    }
    while (pendingUp.length > 0 && done >= pendingUp[0].at) {
      const { peer } = pendingUp.shift() as { peer: SimPeer; at: number };
      peerUp(peer);
      dumpTable(peer);
      candidates = upPeers();
    }
    if (done >= nextStats) {
      statsReport(candidates[rng.int(0, candidates.length - 1)]);
      nextStats += rng.int(500, 3000);
    }

    const peer = candidates[rng.int(0, candidates.length - 1)];
    const t = peer.table;
    const k = rng.int(0, t.count - 1);
    const fam = t.family[k] as Family;
    const filtered = t.filtered[k] === 1;
    tick(5000);
    if (t.announced[k] && rng.chance(0.3)) {
      t.announced[k] = 0;
      peer.adjIn[fam]--;
      emitUpdate(peer, false, singleUpdate(peer, k, null, false), 1);
      done++;
      if (!filtered) {
        peer.locRib[fam]--;
        if (done < churn) {
          emitUpdate(peer, true, singleUpdate(peer, k, null, true), 1);
          done++;
        }
      }
    } else {
      if (t.announced[k]) {
        if (rng.chance(0.1)) peer.duplicates++;
      } else {
        t.announced[k] = 1;
        peer.adjIn[fam]++;
        if (!filtered) peer.locRib[fam]++;
      }
      if (filtered) peer.rejected++;
      const profile = randomProfile(rng, peer);
      emitUpdate(peer, false, singleUpdate(peer, k, profile, false), 1);
      done++;
      if (!filtered && done < churn) {
        emitUpdate(peer, true, singleUpdate(peer, k, profile, true), 1);
        done++;
      }
    }
  }
  // Every flapped peer comes back before the end, so each Peer Down has its re-Peer-Up.
  for (const { peer } of pendingUp) {
    peerUp(peer);
    dumpTable(peer);
  }

  tick(100_000);
  const reason = Buffer.from([0, 0]); // RFC 7854 §4.5: 0 = session administratively closed
  emit(encodeTermination([tlv(0, 'generator finished'), tlv(1, reason)]));
  return { messages, bytes, prefixes };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

/** Collects small messages into large synchronous writes so memory stays flat whatever the stream size. */
class BatchWriter {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  constructor(private readonly fd: number) {}

  write(chunk: Buffer): void {
    if (this.used + chunk.length > this.buf.length) this.flush();
    if (chunk.length >= this.buf.length) {
      this.writeAll(chunk);
      return;
    }
    this.used += chunk.copy(this.buf, this.used);
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (e) {
        // A non-blocking pipe that is full: wait briefly for the reader rather than buffering in memory.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
}

function parseCount(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('number too large');
  return n;
}

function main(argv: readonly string[]): void {
  const program = new Command()
    .name('generate-stream')
    .description('Write a deterministic synthetic route-server BMP stream (RFC 7854).')
    .option('--peers <n>', 'number of monitored peers', parseCount, DEFAULT_STREAM_OPTIONS.peers)
    .option('--prefixes-per-peer <n>', 'prefixes in each peer\'s initial table', parseCount, DEFAULT_STREAM_OPTIONS.prefixesPerPeer)
    .option('--churn <n>', 'single-prefix Route Monitoring messages after the initial tables', parseCount, DEFAULT_STREAM_OPTIONS.churn)
    .option('--seed <n>', 'PRNG seed', parseCount, DEFAULT_STREAM_OPTIONS.seed)
    .option('--out <file>', 'output file (default: stdout)');
  program.parse([...argv]);
  const opts = program.opts<{ peers: number; prefixesPerPeer: number; churn: number; seed: number; out?: string }>();

  // fd 1 is used directly (not process.stdout) so writes stay synchronous and batched.
  if (opts.out === undefined && isatty(1)) {
    process.stderr.write('generate-stream: refusing to write binary to a terminal; use --out FILE or a pipe\n');
    process.exitCode = 2;
    return;
  }
  const fd = opts.out === undefined ? 1 : openSync(opts.out, 'w');
  const writer = new BatchWriter(fd);
  const started = process.hrtime.bigint();
  let summary: StreamSummary;
  try {
    summary = generateStream(opts, (chunk) => writer.write(chunk));
    writer.flush();
  } catch (e) {
    // The reader went away (e.g. `| head`): stop quietly like other Unix producers.
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    process.stderr.write('generate-stream: output closed early\n');
    process.exitCode = 1;
    return;
  }
  if (opts.out !== undefined) closeSync(fd);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stderr.write(`${JSON.stringify({ ...summary, elapsedMs: Math.round(elapsedMs) })}\n`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main(process.argv);
}
