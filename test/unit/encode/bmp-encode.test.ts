// Expected bytes below are laid out by hand from RFC 7854 §4, one field per hex group.
import { describe, expect, it } from 'vitest';
import { encodeEndOfRib, encodeKeepalive, encodeNotification, encodeOpen } from '../../../src/encode/bgp-encode.js';
import {
  encodeCommonHeader,
  encodeInitiation,
  encodePeerDown,
  encodePeerUp,
  encodePerPeerHeader,
  encodeRouteMirroring,
  encodeRouteMonitoring,
  encodeStatsReport,
  encodeTermination,
  fsmEventCode,
  stat32,
  stat64,
  statAfiSafi64,
  tlv,
  type PeerHeader,
} from '../../../src/encode/bmp-encode.js';

const hex = (s: string): string => s.replace(/\s+/g, '').toLowerCase();

const PEER_V4: PeerHeader = {
  peerType: 0,
  flags: 0x40,
  address: '192.0.2.1',
  as: 65001,
  bgpId: '192.0.2.1',
  timestampSec: 1700000000,
  timestampUsec: 123456,
};
//                type flags distinguisher     address (v4 right-aligned)                AS       BGP ID   seconds  micros
const PEER_V4_HEX = '00 40 0000000000000000 000000000000000000000000c0000201 0000fde9 c0000201 6553f100 0001e240';

describe('common header (RFC 7854 §4.1)', () => {
  it('version 3, 4-byte length, type', () => {
    expect(encodeCommonHeader(4, 6).toString('hex')).toBe('030000000604');
    expect(encodeCommonHeader(0, 0x01020304).toString('hex')).toBe('030102030400');
  });
});

describe('per-peer header (RFC 7854 §4.2)', () => {
  it('IPv4 peer: address in the last 4 of 16 bytes', () => {
    const h = encodePerPeerHeader(PEER_V4);
    expect(h.length).toBe(42);
    expect(h.toString('hex')).toBe(hex(PEER_V4_HEX));
  });

  it('IPv6 peer with a route distinguisher given as bigint or bytes', () => {
    const peer: PeerHeader = {
      peerType: 1,
      flags: 0x80,
      distinguisher: 0x0000fde900000064n,
      address: '2001:db8::2',
      as: 4200000001,
      bgpId: '10.0.0.2',
      timestampSec: 0,
      timestampUsec: 0,
    };
    const expected = hex('01 80 0000fde900000064 20010db8000000000000000000000002 fa56ea01 0a000002 00000000 00000000');
    expect(encodePerPeerHeader(peer).toString('hex')).toBe(expected);
    expect(encodePerPeerHeader({ ...peer, distinguisher: Buffer.from('0000fde900000064', 'hex') }).toString('hex')).toBe(expected);
  });

  it('Loc-RIB style all-zero peer (RFC 9069 §4.1) and bad inputs', () => {
    const h = encodePerPeerHeader({ peerType: 3, flags: 0, address: '0.0.0.0', as: 0, bgpId: '0.0.0.0', timestampSec: 0, timestampUsec: 0 });
    expect(h.toString('hex')).toBe('03' + '00'.repeat(41));
    expect(() => encodePerPeerHeader({ ...PEER_V4, distinguisher: Buffer.alloc(7) })).toThrow(RangeError);
    expect(() => encodePerPeerHeader({ ...PEER_V4, as: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('messages (RFC 7854 §4.3-§4.10)', () => {
  it('Route Monitoring: per-peer header then the UPDATE', () => {
    const eor = encodeEndOfRib(1, 1);
    expect(encodeRouteMonitoring(PEER_V4, eor).toString('hex')).toBe(hex(`03 00000047 00 ${PEER_V4_HEX} ${eor.toString('hex')}`));
  });

  it('Stats Report: count then (type, length, value) TLVs', () => {
    const m = encodeStatsReport(PEER_V4, [stat32(0, 5), stat64(7, 1000n), statAfiSafi64(9, 2, 1, 42n)]);
    expect(m.toString('hex')).toBe(
      hex(`03 00000057 01 ${PEER_V4_HEX}
        00000003
        0000 0004 00000005
        0007 0008 00000000000003e8
        0009 000b 0002 01 000000000000002a`),
    );
  });

  it('Peer Down: reason then data', () => {
    const notif = encodeNotification({ code: 6, subcode: 2 });
    expect(encodePeerDown(PEER_V4, 1, notif).toString('hex')).toBe(hex(`03 00000046 02 ${PEER_V4_HEX} 01 ${notif.toString('hex')}`));
    expect(encodePeerDown(PEER_V4, 2, fsmEventCode(18)).toString('hex')).toBe(hex(`03 00000033 02 ${PEER_V4_HEX} 02 0012`));
    expect(encodePeerDown(PEER_V4, 4).toString('hex')).toBe(hex(`03 00000031 02 ${PEER_V4_HEX} 04`));
    // RFC 9069 §4.4: reason 6 followed by TLVs
    expect(encodePeerDown(PEER_V4, 6, tlv(3, 'vrf1')).toString('hex')).toBe(hex(`03 00000039 02 ${PEER_V4_HEX} 06 0003 0004 76726631`));
  });

  it('Peer Up: local address, ports, both OPENs, information TLVs', () => {
    const sent = encodeOpen({ myAs: 64496, holdTime: 90, bgpId: '192.0.2.254', capabilities: [] });
    const received = encodeOpen({ myAs: 65001, holdTime: 180, bgpId: '192.0.2.1', capabilities: [] });
    const m = encodePeerUp(PEER_V4, { localAddress: '192.0.2.254', localPort: 179, remotePort: 54321, sentOpen: sent, receivedOpen: received, tlvs: [{ type: 0, value: Buffer.from('hi') }] });
    expect(m.toString('hex')).toBe(
      hex(`03 00000084 03 ${PEER_V4_HEX}
        000000000000000000000000c00002fe 00b3 d431
        ${sent.toString('hex')} ${received.toString('hex')}
        0000 0002 6869`),
    );
    const v6 = encodePeerUp({ ...PEER_V4, flags: 0x80, address: '2001:db8::2' }, { localAddress: '2001:db8::1', localPort: 179, remotePort: 1, sentOpen: sent, receivedOpen: received });
    expect(v6.subarray(6 + 42, 6 + 42 + 16).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(v6.length).toBe(6 + 42 + 20 + 29 + 29);
  });

  it('Initiation and Termination: TLVs only', () => {
    expect(encodeInitiation([tlv(1, 'FRR'), tlv(2, 'rs1')]).toString('hex')).toBe(hex('03 00000014 04  0001 0003 465252  0002 0003 727331'));
    expect(encodeTermination([tlv(0, ''), tlv(1, Buffer.from([0, 1]))]).toString('hex')).toBe(hex('03 00000010 05  0000 0000  0001 0002 0001'));
  });

  it('Route Mirroring: per-peer header then TLVs', () => {
    const ka = encodeKeepalive();
    const m = encodeRouteMirroring(PEER_V4, [{ type: 0, value: ka }, { type: 1, value: Buffer.from([0, 1]) }]);
    expect(m.toString('hex')).toBe(hex(`03 0000004d 06 ${PEER_V4_HEX} 0000 0013 ${ka.toString('hex')} 0001 0002 0001`));
  });

  it('TLVs: UTF-8 strings, pre-encoded buffers pass through untouched', () => {
    expect(tlv(0, 'é').toString('hex')).toBe('00000002c3a9');
    const malformed = Buffer.from('0000ffff41', 'hex'); // claims 65535 bytes, has 1
    expect(encodeInitiation([malformed]).toString('hex')).toBe(hex('03 0000000b 04 0000ffff41'));
    expect(() => tlv(0, Buffer.alloc(0x10000))).toThrow(RangeError);
  });
});
