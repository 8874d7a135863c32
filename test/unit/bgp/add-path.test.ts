/**
 * ADD-PATH (RFC 7911) through the BmpSessionDecoder: the Peer Up's two OPENs decide per family and direction
 * whether NLRI carry path identifiers (RFC 7911 §5: from A to B when A can send and B can receive), and the bytes
 * are checked against that, because FRR 8.4 negotiates ADD-PATH yet sends none.
 */
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import { BmpFramer } from '../../../src/bmp/framer.js';
import type { BgpUpdate, Nlri } from '../../../src/bgp/types.js';
import type { Capability } from '../../../src/encode/bgp-encode.js';
import { encodePeerDown, encodeRouteMonitoring, type PeerHeader } from '../../../src/encode/bmp-encode.js';
import { readCapture } from '../../helpers/fixtures.js';
import {
  attribute,
  decodeAs,
  decodePeerUp,
  decodeUpdateMessage,
  DEFAULT_CAPABILITIES,
  expectOk,
  header,
  hex,
  MANDATORY,
  nlri,
  PEER_V4,
  peerUpFrame,
  rawAttribute,
  rawUpdate,
} from './support.js';

type Mode = 1 | 2 | 3;
const RECEIVE: Mode = 1;
const SEND: Mode = 2;
const BOTH: Mode = 3;

/** OPEN capabilities with ADD-PATH for IPv4 and IPv6 unicast in the given modes (undefined: no ADD-PATH at all). */
function caps(ipv4?: Mode, ipv6?: Mode): Capability[] {
  const entries = [
    ...(ipv4 === undefined ? [] : [{ afi: 1, safi: 1, sendReceive: ipv4 }]),
    ...(ipv6 === undefined ? [] : [{ afi: 2, safi: 1, sendReceive: ipv6 }]),
  ];
  return entries.length === 0 ? [...DEFAULT_CAPABILITIES] : [...DEFAULT_CAPABILITIES, { type: 'add-path', entries }];
}

const ORIGIN = attribute({ type: 'origin', value: 0 });
const AS_PATH = attribute({ type: 'as-path', segments: [{ type: 2, asns: [65011] }], fourOctet: true });
const NEXT_HOP = attribute({ type: 'next-hop', address: '192.0.2.11' });
const NH6 = '20010db8000000000000000000000011';

/** A Route Monitoring message whose IPv4 NLRI field holds exactly these bytes. */
const v4Block = (peer: PeerHeader, block: string): Buffer => encodeRouteMonitoring(peer, rawUpdate([ORIGIN, AS_PATH, NEXT_HOP], hex(block)));
/** A Route Monitoring message with an IPv6 MP_REACH_NLRI whose NLRI are exactly these bytes. */
const v6Block = (peer: PeerHeader, block: string): Buffer =>
  encodeRouteMonitoring(peer, rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, 14, `0002 01 10 ${NH6} 00 ${block}`)]));

/** 10.128.1.0/29 and 10.128.1.16/32, path ids 1 and 2. */
const V4_WITH_IDS = '00000001 1d 0a800100   00000002 20 0a800110';
/** The same prefixes without path ids (what FRR 8.4 sends after negotiating ADD-PATH). */
const V4_WITHOUT_IDS = '1d 0a800100   20 0a800110';
/** FRR's single-prefix UPDATE: read with a path id it becomes 0.0.0.0/0 with path id 0x1d0a8001. */
const FRR_SINGLE = '1d 0a800100';
/** 2001:db8:100:1::/64 without a path id: read with one, the prefix length byte would be 0xb8 (invalid). */
const FRR_V6_SINGLE = '40 20010db801000001';
/**
 * A block both layouts read equally well (each with one oddity): without path ids 10.0.0.1/32 and 0.0.0.0/0,
 * with path ids 0.0.0.0/1 with path id 0x200a0000. Only the negotiation or an earlier finding can decide.
 */
const AMBIGUOUS = '20 0a000001 00';
const AMBIGUOUS_WITHOUT = [nlri('10.0.0.1/32'), nlri('0.0.0.0/0')];
const AMBIGUOUS_WITH = [nlri('0.0.0.0/1', 0x200a0000)];

const PEER = PEER_V4;
const PEER_POST = header({ flags: 0x40 });
const PEER_OUT = header({ flags: 0x10 });
const PEER_OUT_POST = header({ flags: 0x50 });

function session(sent: Capability[], received: Capability[], peer: PeerHeader = PEER): BmpSessionDecoder {
  const decoder = new BmpSessionDecoder();
  decodePeerUp(peerUpFrame(peer, sent, received), decoder);
  return decoder;
}

function update(decoder: BmpSessionDecoder, frame: Buffer): BgpUpdate {
  return decodeAs(frame, 'route-monitoring', decoder).update;
}

describe('negotiation from the two OPENs in the Peer Up (RFC 7911 §5)', () => {
  it.each([
    { name: 'on: both can send and receive', sent: caps(BOTH, BOTH), received: caps(BOTH, BOTH), fromPeer: ['1/1', '2/1'], toPeer: ['1/1', '2/1'] },
    { name: 'off: no capability anywhere', sent: caps(), received: caps(), fromPeer: [], toPeer: [] },
    { name: 'off: only the router advertises it', sent: caps(BOTH, BOTH), received: caps(), fromPeer: [], toPeer: [] },
    { name: 'off: both only receive', sent: caps(RECEIVE, RECEIVE), received: caps(RECEIVE, RECEIVE), fromPeer: [], toPeer: [] },
    { name: 'off: both only send', sent: caps(SEND), received: caps(SEND), fromPeer: [], toPeer: [] },
    { name: 'peer sends, router receives: Adj-RIB-In only', sent: caps(RECEIVE), received: caps(SEND), fromPeer: ['1/1'], toPeer: [] },
    { name: 'router sends, peer receives: Adj-RIB-Out only', sent: caps(SEND), received: caps(RECEIVE), fromPeer: [], toPeer: ['1/1'] },
    { name: 'per family: IPv4 from the peer, IPv6 to the peer', sent: caps(RECEIVE, SEND), received: caps(SEND, RECEIVE), fromPeer: ['1/1'], toPeer: ['2/1'] },
    { name: 'router both, peer sends', sent: caps(BOTH, BOTH), received: caps(SEND, SEND), fromPeer: ['1/1', '2/1'], toPeer: [] },
  ])('$name', ({ sent, received, fromPeer, toPeer }) => {
    const message = decodePeerUp(peerUpFrame(PEER, sent, received));
    expect(message.negotiated).toEqual({ fourOctetAs: true, extendedMessages: false, addPathFromPeer: fromPeer, addPathToPeer: toPeer });
  });
});

describe('ADD-PATH on: both OPENs agree', () => {
  it.each([
    { name: 'Adj-RIB-In pre-policy', peer: PEER },
    { name: 'Adj-RIB-In post-policy', peer: PEER_POST },
    { name: 'Adj-RIB-Out pre-policy', peer: PEER_OUT },
    { name: 'Adj-RIB-Out post-policy', peer: PEER_OUT_POST },
  ])('path ids decoded: $name', ({ peer }) => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const v4 = update(decoder, v4Block(peer, V4_WITH_IDS));
    expect(v4.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    expect(v4.addPathFallbacks).toBe(0);
    const v6 = update(decoder, v6Block(peer, '00000007 40 20010db801000001'));
    expect(v6.announced).toEqual([nlri('2001:db8:100:1::/64', 7)]);
    expect(v6.addPathFallbacks).toBe(0);
  });

  it('an ambiguous block follows the negotiation', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    const result = update(decoder, v4Block(PEER, AMBIGUOUS));
    expect(result.nlri).toEqual(AMBIGUOUS_WITH);
    expect(result.addPathFallbacks).toBe(0);
  });

  it('a genuine default route 0.0.0.0/0 with path id 1 stays a default route with its path id', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const v4 = update(decoder, v4Block(PEER, '00000001 00'));
    expect(v4.announced).toEqual([nlri('0.0.0.0/0', 1)]);
    expect(v4.addPathFallbacks).toBe(0);
    const v6 = update(decoder, v6Block(PEER, '00000001 00'));
    expect(v6.announced).toEqual([nlri('::/0', 1)]);
    expect(v6.addPathFallbacks).toBe(0);
  });

  it('path ids in Withdrawn Routes and MP_UNREACH_NLRI too', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const frame = encodeRouteMonitoring(
      PEER,
      rawUpdate([rawAttribute(0x80, 15, '0002 01 00000003 30 20010db80001')], Buffer.alloc(0), hex('00000005 18 0a0001')),
    );
    const result = update(decoder, frame);
    expect(result.withdrawn).toEqual([nlri('10.0.1.0/24', 5), nlri('2001:db8:1::/48', 3)]);
    expect(result.addPathFallbacks).toBe(0);
  });
});

describe('ADD-PATH off: no capability', () => {
  it.each([
    { name: 'plain NLRI', block: V4_WITHOUT_IDS, expected: [nlri('10.128.1.0/29'), nlri('10.128.1.16/32')] },
    { name: 'an ambiguous block follows the negotiation (none)', block: AMBIGUOUS, expected: AMBIGUOUS_WITHOUT },
  ])('no path ids: $name', ({ block, expected }) => {
    const decoder = session(caps(), caps());
    const result = update(decoder, v4Block(PEER, block));
    expect(result.nlri).toEqual(expected);
    expect(result.addPathFallbacks).toBe(0);
  });

  it('bytes that can only be read with path ids are read so, and counted as a fallback', () => {
    const decoder = session(caps(), caps());
    const result = update(decoder, v4Block(PEER, V4_WITH_IDS));
    expect(result.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    expect(result.addPathFallbacks).toBe(1);
  });
});

describe('asymmetric ADD-PATH', () => {
  it('router advertises receive, peer advertises only receive: no path ids from the peer', () => {
    const decoder = session(caps(RECEIVE), caps(RECEIVE));
    const plain = update(decoder, v4Block(PEER, V4_WITHOUT_IDS));
    expect(plain.nlri).toEqual([nlri('10.128.1.0/29'), nlri('10.128.1.16/32')]);
    expect(plain.addPathFallbacks).toBe(0);
    expect(update(session(caps(RECEIVE), caps(RECEIVE)), v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
  });

  it('peer sends, router receives: path ids in Adj-RIB-In, none in Adj-RIB-Out', () => {
    const decoder = session(caps(RECEIVE), caps(SEND));
    const adjIn = update(decoder, v4Block(PEER, V4_WITH_IDS));
    expect(adjIn.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    expect(adjIn.addPathFallbacks).toBe(0);
    const adjInPost = update(decoder, v4Block(PEER_POST, V4_WITH_IDS));
    expect(adjInPost.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    const adjOut = update(decoder, v4Block(PEER_OUT, V4_WITHOUT_IDS));
    expect(adjOut.nlri).toEqual([nlri('10.128.1.0/29'), nlri('10.128.1.16/32')]);
    expect(adjOut.addPathFallbacks).toBe(0);
    // The tie-breaker shows which layout each direction expects.
    const fresh = session(caps(RECEIVE), caps(SEND));
    expect(update(fresh, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
    expect(update(fresh, v4Block(PEER_OUT, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
  });

  it('router sends, peer receives: path ids in Adj-RIB-Out (O flag), none in Adj-RIB-In', () => {
    const decoder = session(caps(SEND), caps(RECEIVE));
    const adjOut = update(decoder, v4Block(PEER_OUT, V4_WITH_IDS));
    expect(adjOut.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    expect(adjOut.addPathFallbacks).toBe(0);
    const adjOutPost = update(decoder, v4Block(PEER_OUT_POST, V4_WITH_IDS));
    expect(adjOutPost.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    const adjIn = update(decoder, v4Block(PEER, V4_WITHOUT_IDS));
    expect(adjIn.nlri).toEqual([nlri('10.128.1.0/29'), nlri('10.128.1.16/32')]);
    expect(adjIn.addPathFallbacks).toBe(0);
    const fresh = session(caps(SEND), caps(RECEIVE));
    expect(update(fresh, v4Block(PEER_OUT, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
    expect(update(fresh, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
  });

  it('per family: IPv4 path ids from the peer, IPv6 none', () => {
    const decoder = session(caps(RECEIVE, RECEIVE), caps(SEND, RECEIVE));
    const result = update(decoder, v6Block(PEER, '30 20010db80001'));
    expect(result.announced).toEqual([nlri('2001:db8:1::/48')]);
    expect(result.addPathFallbacks).toBe(0);
    expect(update(decoder, v4Block(PEER, V4_WITH_IDS)).addPathFallbacks).toBe(0);
  });
});

describe('FRR 8.4: negotiated, but the bytes carry no path ids', () => {
  it('a single 10.128.1.0/29 is decoded without a path id, not as 0.0.0.0/0', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const result = update(decoder, v4Block(PEER, FRR_SINGLE));
    expect(result.nlri).toEqual([nlri('10.128.1.0/29')]);
    expect(result.announced).toEqual([nlri('10.128.1.0/29')]);
    expect(result.addPathFallbacks).toBe(1);
  });

  it('2001:db8:100:1::/64 in MP_REACH_NLRI is decoded without a path id', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const result = update(decoder, v6Block(PEER, FRR_V6_SINGLE));
    expect(result.announced).toEqual([nlri('2001:db8:100:1::/64')]);
    expect(result.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHop: '2001:db8::11', nlri: [nlri('2001:db8:100:1::/64')] });
    expect(result.addPathFallbacks).toBe(1);
  });

  it('IPv4 and IPv6 blocks in one UPDATE count one fallback each', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const frame = encodeRouteMonitoring(PEER, rawUpdate([ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x80, 14, `0002 01 10 ${NH6} 00 ${FRR_V6_SINGLE}`)], hex(V4_WITHOUT_IDS)));
    const result = update(decoder, frame);
    expect(result.announced).toEqual([nlri('10.128.1.0/29'), nlri('10.128.1.16/32'), nlri('2001:db8:100:1::/64')]);
    expect(result.addPathFallbacks).toBe(2);
  });

  it('a withdrawal in the same layout', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const result = update(decoder, encodeRouteMonitoring(PEER, rawUpdate([], Buffer.alloc(0), hex(FRR_SINGLE))));
    expect(result.withdrawn).toEqual([nlri('10.128.1.0/29')]);
    expect(result.addPathFallbacks).toBe(1);
  });

  it('the frr-addpath capture: no path ids, no 0.0.0.0/0 from the appliance, every fallback on it', () => {
    const decoder = new BmpSessionDecoder();
    const framer = new BmpFramer();
    const defaultRoutePeers = new Set<string>();
    const seen: Nlri[] = [];
    let fallbacks = 0;
    const fallbackPeers = new Set<string>();
    const appliance: string[] = [];
    let addPathPeerUp: unknown;
    framer.push(readCapture('frr-addpath/both'), (frame) => {
      const message = expectOk(decoder.decode(frame.bytes));
      if (message.type === 'peer-up' && message.peer.address === '127.0.1.55') addPathPeerUp = message.negotiated;
      if (message.type !== 'route-monitoring') return;
      for (const entry of [...message.update.announced, ...message.update.withdrawn]) {
        seen.push(entry);
        if (entry.prefix === '0.0.0.0/0' || entry.prefix === '::/0') defaultRoutePeers.add(message.peer.address);
      }
      fallbacks += message.update.addPathFallbacks;
      if (message.peer.address === '127.0.1.55') appliance.push(...message.update.announced.map((entry) => entry.prefix));
      if (message.update.addPathFallbacks > 0) fallbackPeers.add(message.peer.address);
    });
    expect(framer.finish()).toBeNull();
    expect(addPathPeerUp).toEqual({ fourOctetAs: true, extendedMessages: true, addPathFromPeer: ['1/1', '2/1'], addPathToPeer: [] });
    // The core routers' genuine default routes (in the baseline capture too) are the only ones.
    expect([...defaultRoutePeers]).toEqual(['127.0.0.20', '::1']);
    expect(seen.filter((entry) => entry.pathId !== undefined)).toEqual([]);
    expect(fallbacks).toBe(12);
    expect([...fallbackPeers]).toEqual(['127.0.1.55']);
    // Pre- and post-policy copies of each announcement, all without path ids.
    expect(appliance).toEqual([
      ...['10.128.55.0/29', '10.128.55.0/29', '10.128.55.16/32', '10.128.55.16/32'],
      ...Array<string>(4).fill('2001:db8:100:55::/64'),
      ...['10.128.55.0/29', '10.128.55.0/29', '10.128.55.16/32', '10.128.55.16/32'],
    ]);
  });
});

describe('peers without a Peer Up (GoBGP Loc-RIB, a collector that joined late)', () => {
  it('bytes that carry path ids are decoded with them', () => {
    const decoder = new BmpSessionDecoder();
    const result = update(decoder, v4Block(PEER, V4_WITH_IDS));
    expect(result.nlri).toEqual([nlri('10.128.1.0/29', 1), nlri('10.128.1.16/32', 2)]);
    // Counted against the RFC default (no ADD-PATH), the only expectation there is without a Peer Up.
    expect(result.addPathFallbacks).toBe(1);
  });

  it('a Loc-RIB peer (type 3) with path ids in MP_REACH_NLRI', () => {
    const locRib = header({ peerType: 3, address: '0.0.0.0', as: 65000, bgpId: '100.64.0.1' });
    const result = update(new BmpSessionDecoder(), v6Block(locRib, '00000001 40 20010db801000001   00000002 40 20010db801000001'));
    expect(result.announced).toEqual([nlri('2001:db8:100:1::/64', 1), nlri('2001:db8:100:1::/64', 2)]);
  });

  it('plain bytes are decoded without path ids and without a fallback', () => {
    const result = update(new BmpSessionDecoder(), v4Block(PEER, V4_WITHOUT_IDS));
    expect(result.nlri).toEqual([nlri('10.128.1.0/29'), nlri('10.128.1.16/32')]);
    expect(result.addPathFallbacks).toBe(0);
  });
});

describe('per-peer memory of what the bytes showed', () => {
  it('after the bytes showed no path ids, an ambiguous block follows that finding', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    expect(update(decoder, v4Block(PEER, FRR_SINGLE)).addPathFallbacks).toBe(1);
    const next = update(decoder, v4Block(PEER, AMBIGUOUS));
    expect(next.nlri).toEqual(AMBIGUOUS_WITHOUT);
    expect(next.addPathFallbacks).toBe(1);
  });

  it('without a Peer Up, after the bytes showed path ids, an ambiguous block is read with them', () => {
    const decoder = new BmpSessionDecoder();
    update(decoder, v4Block(PEER, V4_WITH_IDS));
    expect(update(decoder, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
  });

  it('the memory is per peer', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    const other = header({ address: '192.0.2.12', bgpId: '192.0.2.12' });
    decodePeerUp(peerUpFrame(other, caps(BOTH), caps(BOTH)), decoder);
    update(decoder, v4Block(PEER, FRR_SINGLE));
    expect(update(decoder, v4Block(other, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
    expect(update(decoder, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
  });

  it('the memory is per family: an IPv4 finding does not decide IPv6', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    update(decoder, v4Block(PEER, FRR_SINGLE));
    // A tie for IPv6 too: without path ids 2001:d08::/32 and ::/0, with path ids ::/8 with path id 0x2020010d.
    const v6 = update(decoder, v6Block(PEER, '20 20010d08 00'));
    expect(v6.announced).toEqual([nlri('::/8', 0x2020010d)]);
    expect(update(session(caps(), caps()), v6Block(PEER, '20 20010d08 00')).announced).toEqual([nlri('2001:d08::/32'), nlri('::/0')]);
  });

  it('the memory is per direction: an Adj-RIB-In finding does not decide Adj-RIB-Out', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    update(decoder, v4Block(PEER, FRR_SINGLE));
    expect(update(decoder, v4Block(PEER_OUT, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
  });

  it('pre- and post-policy share the finding (one session per peer)', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    update(decoder, v4Block(PEER, FRR_SINGLE));
    expect(update(decoder, v4Block(PEER_POST, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
  });

  it('Peer Down forgets the negotiation and the finding', () => {
    const decoder = session(caps(BOTH), caps(BOTH));
    update(decoder, v4Block(PEER, FRR_SINGLE));
    decodeAs(encodePeerDown(PEER, 4), 'peer-down', decoder);
    const after = update(decoder, v4Block(PEER, AMBIGUOUS));
    expect(after.nlri).toEqual(AMBIGUOUS_WITHOUT);
    expect(after.addPathFallbacks).toBe(0);
  });

  it('a new Peer Up replaces the context (FRR sends no Peer Down for dynamic neighbours)', () => {
    const decoder = session(caps(), caps());
    expect(update(decoder, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITHOUT);
    decodePeerUp(peerUpFrame(PEER, caps(BOTH), caps(BOTH)), decoder);
    expect(update(decoder, v4Block(PEER, AMBIGUOUS)).nlri).toEqual(AMBIGUOUS_WITH);
  });
});

describe('Loc-RIB (RFC 9069 §5.2): the capability alone means ADD-PATH is used', () => {
  // "In the case of ADD-PATH, the capability intent of advertise, receive or both can be ignored since the
  // presence of the capability indicates enough that add-paths will be used for IPv6."
  const locRib = header({ peerType: 3, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' });

  it.each([
    { name: 'advertise (send) in the fabricated OPENs', mode: SEND },
    { name: 'receive in the fabricated OPENs', mode: RECEIVE },
  ])('$name', ({ mode }) => {
    const decoder = new BmpSessionDecoder();
    const up = decodePeerUp(peerUpFrame(locRib, caps(mode), caps(mode)), decoder);
    expect(up.negotiated.addPathFromPeer).toEqual(['1/1']);
    const result = update(decoder, v4Block(locRib, AMBIGUOUS));
    expect(result.nlri).toEqual(AMBIGUOUS_WITH);
    expect(result.addPathFallbacks).toBe(0);
  });
});

describe('encoder round trip', () => {
  it('path ids written by encodeUpdate come back when negotiated', () => {
    const decoder = session(caps(BOTH, BOTH), caps(BOTH, BOTH));
    const result = decodeUpdateMessage(
      {
        addPath: true,
        attributes: [...MANDATORY, { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::11', nlri: [{ prefix: '2001:db8:9::/48', pathId: 10 }] }],
        nlri: [{ prefix: '198.51.100.0/24', pathId: 9 }],
      },
      PEER,
      decoder,
    );
    expect(result.announced).toEqual([nlri('198.51.100.0/24', 9), nlri('2001:db8:9::/48', 10)]);
    expect(result.addPathFallbacks).toBe(0);
  });
});
