import { describe, expect, it } from 'vitest';
import { detectCaptureFormat, extractTcpStreams } from '../../../src/capture/index.js';
import { formatIpv6, readCapture } from '../../../src/capture/pcap-file.js';
import {
  ACK,
  FIN,
  SYN,
  ethernet,
  ipv4Packet,
  ipv6Bytes,
  ipv6Packet,
  loopback,
  pcapFile,
  pcapngFile,
  sll,
  sll2,
  tcpIp,
  tcpSegmentBytes,
  text,
  type Ipv6Extension,
  type PacketRecord,
  type TcpSpec,
} from './build-capture.js';

const T0 = 1_700_000_000.25;

interface Endpoints {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

const V4: Endpoints = { src: '192.0.2.1', dst: '192.0.2.2', srcPort: 40000, dstPort: 11019 };
const V6: Endpoints = { src: '2001:db8::1', dst: '2001:db8:0:0:1::2', srcPort: 40001, dstPort: 11019 };

/**
 * A short connection as IP packets: SYN, SYN-ACK, ACK, the payload chunks, FIN. The router (ends.src) sends
 * chunks; the collector only acknowledges.
 */
function conversation(ends: Endpoints, chunks: readonly string[], isn = 1000, extensions: readonly Ipv6Extension[] = []): Buffer[] {
  const reverse = { src: ends.dst, dst: ends.src, srcPort: ends.dstPort, dstPort: ends.srcPort };
  const peerIsn = 5000;
  const out: TcpSpec[] = [
    { ...ends, seq: isn, flags: SYN },
    { ...reverse, seq: peerIsn, ack: isn + 1, flags: SYN | ACK },
    { ...ends, seq: isn + 1, ack: peerIsn + 1 },
  ];
  let seq = isn + 1;
  for (const chunk of chunks) {
    out.push({ ...ends, seq, ack: peerIsn + 1, payload: chunk });
    seq += chunk.length;
    out.push({ ...reverse, seq: peerIsn + 1, ack: seq });
  }
  out.push({ ...ends, seq, ack: peerIsn + 1, flags: FIN | ACK });
  return out.map((spec) => tcpIp(spec, extensions));
}

function records(frames: readonly Uint8Array[], start = T0): PacketRecord[] {
  return frames.map((data, i) => ({ time: start + i * 0.001, data }));
}

describe('detectCaptureFormat', () => {
  it.each([
    [[0xd4, 0xc3, 0xb2, 0xa1], 'pcap'],
    [[0xa1, 0xb2, 0xc3, 0xd4], 'pcap'],
    [[0x4d, 0x3c, 0xb2, 0xa1], 'pcap'],
    [[0xa1, 0xb2, 0x3c, 0x4d], 'pcap'],
    [[0x0a, 0x0d, 0x0d, 0x0a], 'pcapng'],
    [[0x0a, 0x0d, 0x0d, 0x0b], null],
    [[0x42, 0x4d, 0x50, 0x03], null],
    [[0xd4, 0xc3, 0xb2], null],
    [[], null],
  ] as const)('%j → %s', (head, expected) => {
    expect(detectCaptureFormat(Uint8Array.from(head))).toBe(expected);
  });
});

describe('classic pcap', () => {
  const frames = conversation(V4, ['hello ', 'world']).map((ip) => ethernet(ip));

  it.each([
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ])('littleEndian=%s nanoseconds=%s', (littleEndian, nanoseconds) => {
    const file = pcapFile({ linkType: 1, littleEndian, nanoseconds }, records(frames, 1_700_000_000.123456));
    const result = extractTcpStreams(file);
    expect(result.format).toBe('pcap');
    expect(result.errors).toEqual([]);
    expect(result.streams).toHaveLength(1);
    const [stream] = result.streams;
    expect(stream.bytes.toString()).toBe('hello world');
    expect(stream).toMatchObject({ ...V4, id: '192.0.2.1:40000->192.0.2.2:11019#1', packets: 5, gapBytes: 0 });
    expect(stream.firstPacketTime).toBeCloseTo(1_700_000_000.123456, 6);
  });

  it('reads nanosecond timestamps at full resolution', () => {
    const file = pcapFile({ linkType: 1, nanoseconds: true }, [{ time: 1_700_000_000, data: frames[0] }]);
    // Patch the fraction field directly: 999,999,999 ns cannot be written exactly through a double.
    file.writeUInt32LE(999_999_999, 24 + 4);
    const [packet] = readCapture(file).packets;
    expect(packet.time - 1_700_000_000).toBeCloseTo(0.999999999, 6);
  });

  it('ignores FCS bits in the upper half of the link-type field', () => {
    const file = pcapFile({ linkType: 0x10000000 | 1 }, records(frames));
    expect(extractTcpStreams(file).streams[0].bytes.toString()).toBe('hello world');
  });
});

describe('pcapng', () => {
  const a = conversation(V4, ['abc', 'def']);
  const b = conversation({ ...V4, srcPort: 40002 }, ['XYZ']);

  it.each([true, false])('littleEndian=%s: two interfaces with different link types and resolutions', (littleEndian) => {
    const file = pcapngFile([
      { kind: 'shb', littleEndian },
      { kind: 'idb', linkType: 1 }, // Ethernet, default microseconds
      { kind: 'raw', type: 0x00000004, body: Uint8Array.from([0, 0, 0, 0]) }, // Name Resolution Block: skipped
      { kind: 'idb', linkType: 276, tsresol: 9 }, // SLL2, nanoseconds
      ...a.slice(0, 3).map((ip, i) => ({ kind: 'epb' as const, iface: 0, time: T0 + i, data: ethernet(ip) })),
      ...b.map((ip, i) => ({ kind: 'epb' as const, iface: 1, time: T0 + 10 + i * 0.000000125, data: sll2(ip) })),
      { kind: 'raw', type: 0x00000005, body: new Uint8Array(12) }, // Interface Statistics Block: skipped
      { kind: 'raw', type: 0x0bad0bad, body: text('custom block body') }, // unknown: skipped by its length
      ...a.slice(3).map((ip, i) => ({ kind: 'epb' as const, iface: 0, time: T0 + 20 + i, data: ethernet(ip) })),
    ]);
    const result = extractTcpStreams(file);
    expect(result.format).toBe('pcapng');
    expect(result.errors).toEqual([]);
    expect(result.streams.map((s) => [s.id, s.bytes.toString(), s.gapBytes])).toEqual([
      ['192.0.2.1:40000->192.0.2.2:11019#1', 'abcdef', 0],
      ['192.0.2.1:40002->192.0.2.2:11019#1', 'XYZ', 0],
    ]);
    expect(result.streams[0].firstPacketTime).toBeCloseTo(T0, 6);
    expect(result.streams[1].firstPacketTime).toBeCloseTo(T0 + 10, 6);
  });

  it('honours if_tsresol as a power of two and if_tsoffset', () => {
    const file = pcapngFile([
      { kind: 'shb', littleEndian: true },
      { kind: 'idb', linkType: 101, tsresol: 0x80 | 20, tsoffset: 1_600_000_000 },
      { kind: 'epb', iface: 0, time: 100.5, data: a[0] },
    ]);
    expect(readCapture(file).packets[0].time).toBeCloseTo(1_600_000_100.5, 6);
  });

  it('reads Simple Packet Blocks (interface 0, snap length applied) and obsolete Packet Blocks', () => {
    const frames = a.map((ip) => ethernet(ip));
    const file = pcapngFile([
      { kind: 'shb', littleEndian: false },
      { kind: 'idb', linkType: 1 },
      { kind: 'opb', iface: 0, time: T0, data: frames[0] },
      ...frames.slice(1).map((data) => ({ kind: 'spb' as const, data })),
    ]);
    const result = extractTcpStreams(file);
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('abcdef');
    // SPBs have no timestamp of their own: they inherit the previous packet's.
    expect(readCapture(file).packets.every((p) => p.time === T0)).toBe(true);
  });

  it('starts afresh at each Section Header Block, which may switch byte order', () => {
    const file = pcapngFile([
      { kind: 'shb', littleEndian: true },
      { kind: 'idb', linkType: 1 },
      ...a.slice(0, 4).map((ip) => ({ kind: 'epb' as const, iface: 0, time: T0, data: ethernet(ip) })),
      { kind: 'shb', littleEndian: false },
      { kind: 'idb', linkType: 113 }, // interface 0 of the new section is SLL, not Ethernet
      ...a.slice(4).map((ip) => ({ kind: 'epb' as const, iface: 0, time: T0 + 1, data: sll(ip) })),
    ]);
    const result = extractTcpStreams(file);
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('abcdef');
  });
});

describe('link layers', () => {
  const ip4 = conversation(V4, ['link ', 'layer']);
  const ip6 = conversation(V6, ['link ', 'layer']);
  const cases: ReadonlyArray<[string, number, readonly Buffer[]]> = [
    ['Ethernet', 1, ip4.map((ip) => ethernet(ip))],
    ['Ethernet + 802.1Q', 1, ip4.map((ip) => ethernet(ip, [{ tpid: 0x8100, vid: 42 }]))],
    ['Ethernet + QinQ', 1, ip6.map((ip) => ethernet(ip, [{ tpid: 0x88a8, vid: 7 }, { tpid: 0x8100, vid: 42 }]))],
    ['Linux SLL', 113, ip4.map((ip) => sll(ip))],
    ['Linux SLL, IPv6', 113, ip6.map((ip) => sll(ip))],
    ['Linux SLL2', 276, ip4.map((ip) => sll2(ip))],
    ['raw IP (101)', 101, ip4],
    ['raw IP (101), IPv6', 101, ip6],
    ['raw IP (12)', 12, ip4],
    ['raw IP (14)', 14, ip6],
    ['IPv4 (228)', 228, ip4],
    ['IPv6 (229)', 229, ip6],
    ['BSD null, little-endian AF_INET', 0, ip4.map((ip) => loopback(ip, 2, true))],
    ['BSD null, big-endian AF_INET', 0, ip4.map((ip) => loopback(ip, 2, false))],
    ['BSD null, Darwin AF_INET6', 0, ip6.map((ip) => loopback(ip, 30, true))],
    ['BSD null, FreeBSD AF_INET6', 0, ip6.map((ip) => loopback(ip, 28, true))],
    ['OpenBSD loop, AF_INET', 108, ip4.map((ip) => loopback(ip, 2, false))],
    ['OpenBSD loop, AF_INET6', 108, ip6.map((ip) => loopback(ip, 24, false))],
  ];

  it.each(cases)('%s', (_name, linkType, frames) => {
    const result = extractTcpStreams(pcapFile({ linkType }, records(frames)));
    expect(result.errors).toEqual([]);
    expect(result.streams).toHaveLength(1);
    expect(result.streams[0].bytes.toString()).toBe('link layer');
  });

  it('reports an unsupported link type once, not once per packet', () => {
    const result = extractTcpStreams(pcapFile({ linkType: 147 }, records(ip4)));
    expect(result.streams).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ layer: 'capture', code: 'bad-capture', offset: 24 + 16 });
    expect(result.errors[0].detail).toMatch(/unsupported link type 147/);
  });

  it('skips non-IP frames (ARP) and non-TCP packets (UDP) without errors', () => {
    const arp = ethernet(new Uint8Array(28), [], 0x0806);
    const udp = ethernet(ipv4Packet(V4.src, V4.dst, new Uint8Array(16), { protocol: 17 }));
    const frames = [arp, udp, ...ip4.map((ip) => ethernet(ip)), udp];
    const result = extractTcpStreams(pcapFile({ linkType: 1 }, records(frames)));
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('link layer');
  });
});

describe('IPv4', () => {
  const segment = (seq: number, payload: string, flags?: number): Buffer => tcpSegmentBytes({ ...V4, seq, payload, flags });

  it('honours IHL (IP options), the TCP data offset (TCP options) and ignores Ethernet padding', () => {
    const syn = tcpIp({ ...V4, seq: 99, flags: SYN, options: [2, 4, 0x05, 0xb4, 1, 1, 4, 2] });
    const data = tcpSegmentBytes({ ...V4, seq: 100, payload: 'x', options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] });
    const withOptions = ipv4Packet(V4.src, V4.dst, data, { options: [0x94, 0x04, 0, 0] }); // Router Alert
    const padded = Buffer.concat([ethernet(withOptions), Buffer.alloc(20, 0xee)]); // trailer beyond IP total length
    const result = extractTcpStreams(pcapFile({ linkType: 1 }, records([ethernet(syn), padded])));
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('x');
  });

  it('treats total length 0 (segmentation offload) as "the rest of the capture"', () => {
    const frames = [
      ipv4Packet(V4.src, V4.dst, segment(1, 'first'), {}),
      ipv4Packet(V4.src, V4.dst, segment(6, 'second'), { totalLength: 0 }),
    ];
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records(frames)));
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('firstsecond');
  });

  it('ignores non-first fragments but reads the TCP header of a first fragment', () => {
    const frames = [
      ipv4Packet(V4.src, V4.dst, segment(1, 'abc'), {}),
      // A later fragment whose bytes happen to look like a TCP header must not be read as one.
      ipv4Packet(V4.src, V4.dst, segment(4, 'NOT TCP'), { fragmentOffset: 185 }),
      ipv4Packet(V4.src, V4.dst, segment(4, 'def'), { moreFragments: true }),
    ];
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records(frames)));
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('abcdef');
  });

  it('reports a header length below 20 and a total length below the header', () => {
    const good = ipv4Packet(V4.src, V4.dst, segment(1, 'ok'));
    const badIhl = Buffer.from(good);
    badIhl[0] = 0x44;
    const badTotal = Buffer.from(good);
    badTotal.writeUInt16BE(10, 2);
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records([badIhl, badTotal, good])));
    expect(result.errors.map((e) => e.code)).toEqual(['bad-capture', 'bad-capture']);
    expect(result.errors[0].offset).toBe(24 + 16);
    expect(result.streams[0].bytes.toString()).toBe('ok');
  });
});

describe('IPv6', () => {
  it('walks hop-by-hop, routing, destination-options and AH headers', () => {
    const extensions: Ipv6Extension[] = [{ type: 0 }, { type: 43, extraUnits: 1 }, { type: 51 }, { type: 60 }];
    const frames = conversation(V6, ['over ', 'extensions'], 77, extensions).map((ip) => ethernet(ip));
    const result = extractTcpStreams(pcapFile({ linkType: 1 }, records(frames)));
    expect(result.errors).toEqual([]);
    const [stream] = result.streams;
    expect(stream.bytes.toString()).toBe('over extensions');
    expect(stream.src).toBe('2001:db8::1');
    expect(stream.dst).toBe('2001:db8::1:0:0:2');
    expect(stream.id).toBe('[2001:db8::1]:40001->[2001:db8::1:0:0:2]:11019#1');
  });

  it('reads a first fragment and skips later fragments', () => {
    const seg = (seq: number, payload: string): Buffer => tcpSegmentBytes({ ...V6, seq, payload });
    const frames = [
      ipv6Packet(V6.src, V6.dst, seg(1, 'one')),
      ipv6Packet(V6.src, V6.dst, seg(4, 'two'), [{ type: 44, fragmentOffset: 0 }]),
      ipv6Packet(V6.src, V6.dst, seg(7, 'bogus'), [{ type: 0 }, { type: 44, fragmentOffset: 100 }]),
    ];
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records(frames)));
    expect(result.errors).toEqual([]);
    expect(result.streams[0].bytes.toString()).toBe('onetwo');
  });

  it('skips packets whose chain ends in something other than TCP', () => {
    const udp = ipv6Packet(V6.src, V6.dst, new Uint8Array(8), [{ type: 60 }], 17);
    const noNext = ipv6Packet(V6.src, V6.dst, new Uint8Array(0), [], 59);
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records([udp, noNext])));
    expect(result).toMatchObject({ streams: [], errors: [] });
  });

  it('reports an extension header cut short by the capture', () => {
    const packet = ipv6Packet(V6.src, V6.dst, new Uint8Array(8), [{ type: 0, extraUnits: 4 }]);
    const result = extractTcpStreams(pcapFile({ linkType: 101 }, records([packet.subarray(0, 56)])));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: 'truncated', offset: 24 + 16 + 40 });
    expect(result.errors[0].detail).toMatch(/need 40 bytes, have 16/);
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  it.each([
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a lone zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // on a tie, the first run wins
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
    ['0:0:0:0:0:ffff:c000:201', '::ffff:192.0.2.1'], // IPv4-mapped keeps the dotted quad
  ])('%s → %s', (input, expected) => {
    expect(formatIpv6(Uint8Array.from(ipv6Bytes(input.toLowerCase())), 0)).toBe(expected);
  });
});

describe('TCP over a short snap length', () => {
  it('reports the cut payload and counts the missing bytes as a gap', () => {
    const frames = conversation(V4, ['0123456789', 'abcdefghij', 'KLMNOPQRST']).map((ip) => ethernet(ip));
    const recs = records(frames);
    // Cut the second data segment (record index 5) to 4 payload bytes, as tcpdump -s would.
    const headerBytes = 14 + 20 + 20;
    recs[5] = { ...recs[5], data: recs[5].data.subarray(0, headerBytes + 4), origLen: recs[5].data.length };
    const result = extractTcpStreams(pcapFile({ linkType: 1, snapLen: headerBytes + 4 }, recs));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ layer: 'capture', code: 'truncated' });
    expect(result.errors[0].detail).toBe('packet 6 TCP payload: need 10 bytes, have 4');
    expect(result.streams[0].bytes.toString()).toBe('0123456789abcdKLMNOPQRST');
    expect(result.streams[0].gapBytes).toBe(6);
  });

  it('reports a TCP header cut by the capture', () => {
    const frame = ethernet(tcpIp({ ...V4, seq: 1, payload: 'x' }));
    const result = extractTcpStreams(pcapFile({ linkType: 1 }, [{ time: T0, data: frame.subarray(0, 14 + 20 + 10), origLen: frame.length }]));
    expect(result.errors).toEqual([
      { layer: 'capture', code: 'truncated', offset: 24 + 16 + 34, detail: 'packet 1 TCP header: need 20 bytes, have 10' },
    ]);
  });
});
