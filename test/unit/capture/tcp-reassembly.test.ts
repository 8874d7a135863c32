import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractTcpStreams } from '../../../src/capture/index.js';
import { TcpReassembler, reassembleTcp, type TcpSegment } from '../../../src/capture/tcp-reassembly.js';
import { ACK, FIN, PSH, RST, SYN, ethernet, pcapFile, tcpIp } from './build-capture.js';

const ROUTER = { src: '10.0.0.1', srcPort: 50000, dst: '10.0.0.2', dstPort: 11019 };
const COLLECTOR = { src: ROUTER.dst, srcPort: ROUTER.dstPort, dst: ROUTER.src, dstPort: ROUTER.srcPort };

let clock = 1_000;

/** A router → collector segment; seq is the raw 32-bit sequence number. */
function seg(seq: number, payload = '', flags = payload.length > 0 ? ACK | PSH : ACK, ends = ROUTER): TcpSegment {
  return { ...ends, seq: seq >>> 0, ack: 0, flags, payload: Buffer.from(payload, 'latin1'), time: clock++ };
}

/** A collector → router ACK. */
function ackFromCollector(ack: number, flags = ACK): TcpSegment {
  return { ...COLLECTOR, seq: 9000, ack: ack >>> 0, flags, payload: new Uint8Array(), time: clock++ };
}

function one(segments: TcpSegment[]): { text: string; gapBytes: number; packets: number; id: string } {
  const streams = reassembleTcp(segments);
  expect(streams).toHaveLength(1);
  const [s] = streams;
  return { text: s.bytes.toString('latin1'), gapBytes: s.gapBytes, packets: s.packets, id: s.id };
}

describe('ordering', () => {
  it('starts the payload at ISN + 1', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(104, 'def')])).toMatchObject({ text: 'abcdef', gapBytes: 0, packets: 3 });
  });

  it('slots out-of-order segments into place', () => {
    expect(one([seg(100, '', SYN), seg(107, 'ghi'), seg(101, 'abc'), seg(104, 'def')])).toMatchObject({ text: 'abcdefghi', gapBytes: 0 });
  });

  it('keeps one copy of retransmitted segments', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(104, 'def'), seg(101, 'abc'), seg(104, 'def')])).toMatchObject({
      text: 'abcdef',
      gapBytes: 0,
      packets: 5,
    });
  });

  it('keeps the first copy of overlapping bytes', () => {
    // A later segment re-sends the tail of an earlier one with different bytes, then extends it.
    expect(one([seg(100, '', SYN), seg(101, 'abcd'), seg(103, 'XXefg')]).text).toBe('abcdefg');
    // A late, larger segment spans two earlier ones and the hole between them: only the hole is taken from it.
    expect(one([seg(0, '', SYN), seg(3, 'cd'), seg(7, 'gh'), seg(1, 'AB__EF__IJ')]).text).toBe('ABcdEFghIJ');
  });

  it('follows the sequence number across the 2^32 wrap', () => {
    const isn = 0xfffffffa;
    const result = one([seg(isn, '', SYN), seg(isn + 1, 'abcd'), seg(isn + 9, 'ijkl'), seg(isn + 5, 'efgh')]);
    expect(result).toMatchObject({ text: 'abcdefghijkl', gapBytes: 0 });
  });

  it('follows the wrap when the capture joined mid-stream (no SYN)', () => {
    expect(one([seg(0xfffffffe, 'ab'), seg(2, 'ef'), seg(0, 'cd')])).toMatchObject({ text: 'abcdef', gapBytes: 0 });
  });

  it('without a SYN, starts at the earliest byte seen, even if it arrives late', () => {
    expect(one([seg(5000, 'cd'), seg(4998, 'ab'), seg(5002, 'ef')])).toMatchObject({ text: 'abcdef', gapBytes: 0 });
  });

  it('adopts a SYN that the capture delivered after the first data', () => {
    expect(one([seg(201, 'abc'), seg(200, '', SYN), seg(204, 'def')])).toMatchObject({ text: 'abcdef', gapBytes: 0, id: '10.0.0.1:50000->10.0.0.2:11019#1' });
  });

  it('treats a retransmitted SYN as the same connection', () => {
    expect(one([seg(100, '', SYN), seg(100, '', SYN), seg(101, 'abc')])).toMatchObject({ text: 'abc', packets: 3 });
  });

  it('ignores the payload of a RST (diagnostic text, not stream data)', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(104, 'connection reset', RST | ACK)])).toMatchObject({ text: 'abc', gapBytes: 0 });
  });

  it('ignores a stray segment far outside any possible TCP window instead of inventing a huge gap', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(101 + 2 ** 31 - 10, 'zz'), seg(104, 'def')])).toMatchObject({ text: 'abcdef', gapBytes: 0 });
  });
});

describe('gaps', () => {
  it('counts a hole in the middle and concatenates what exists', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(107, 'ghi')])).toMatchObject({ text: 'abcghi', gapBytes: 3 });
  });

  it('counts missing bytes right after the SYN', () => {
    expect(one([seg(100, '', SYN), seg(105, 'efg')])).toMatchObject({ text: 'efg', gapBytes: 4 });
  });

  it('counts missing bytes before a FIN', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(110, '', FIN | ACK)])).toMatchObject({ text: 'abc', gapBytes: 6 });
  });

  it('counts bytes the collector acknowledged but the capture never saw', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), ackFromCollector(104), ackFromCollector(120)])).toMatchObject({ text: 'abc', gapBytes: 16 });
  });

  it('does not count the acknowledgement of the FIN itself', () => {
    expect(one([seg(100, '', SYN), seg(101, 'abc'), seg(104, '', FIN | ACK), ackFromCollector(105)])).toMatchObject({ gapBytes: 0 });
  });
});

describe('connections and streams', () => {
  it('starts a new stream when the router reconnects on the same 4-tuple after FIN', () => {
    const streams = reassembleTcp([
      seg(100, '', SYN),
      seg(101, 'first'),
      seg(106, '', FIN | ACK),
      seg(7_000_000, '', SYN),
      seg(7_000_001, 'second'),
    ]);
    expect(streams.map((s) => [s.id, s.bytes.toString(), s.gapBytes])).toEqual([
      ['10.0.0.1:50000->10.0.0.2:11019#1', 'first', 0],
      ['10.0.0.1:50000->10.0.0.2:11019#2', 'second', 0],
    ]);
  });

  it('ignores a late ACK from the old connection after the router reconnected on the same 4-tuple', () => {
    const streams = reassembleTcp([
      seg(3_000_000, '', SYN),
      ackFromCollector(3_000_001, SYN | ACK),
      seg(3_000_001, 'first'),
      seg(3_000_006, '', FIN | ACK),
      seg(100, '', SYN),
      ackFromCollector(3_000_007), // belongs to connection #1; read against #2 it would claim ~3 MB missing
      { ...ackFromCollector(101, SYN | ACK), seq: 123 },
      seg(101, 'second'),
      ackFromCollector(107),
    ]);
    expect(streams.map((s) => [s.id.slice(-2), s.bytes.toString(), s.gapBytes])).toEqual([
      ['#1', 'first', 0],
      ['#2', 'second', 0],
    ]);
  });

  it('starts a new stream after a RST from the collector, even for a connection joined mid-stream', () => {
    const streams = reassembleTcp([seg(500, 'old'), ackFromCollector(503, RST | ACK), seg(400, '', SYN), seg(401, 'new')]);
    expect(streams.map((s) => s.bytes.toString())).toEqual(['old', 'new']);
  });

  it('starts a new stream for a SYN with a different ISN even if the close was not captured', () => {
    const streams = reassembleTcp([seg(100, '', SYN), seg(101, 'a'), seg(90_000, '', SYN), seg(90_001, 'b')]);
    expect(streams.map((s) => [s.id.slice(-2), s.bytes.toString()])).toEqual([
      ['#1', 'a'],
      ['#2', 'b'],
    ]);
  });

  it('omits directions without payload and orders streams by first packet', () => {
    const other = { ...ROUTER, srcPort: 50001 };
    const streams = reassembleTcp([
      seg(1, '', SYN, other), // second connection's first packet comes first
      seg(100, '', SYN),
      ackFromCollector(101, SYN | ACK),
      seg(101, 'A-data'),
      seg(2, 'B-data', ACK, other),
      ackFromCollector(107),
    ]);
    expect(streams.map((s) => [s.srcPort, s.bytes.toString()])).toEqual([
      [50001, 'B-data'],
      [50000, 'A-data'],
    ]);
  });

  it('reports addresses, ports, packet count and first packet time', () => {
    const reassembler = new TcpReassembler();
    reassembler.add({ ...seg(100, '', SYN), time: 12.5 });
    reassembler.add(seg(101, 'x'));
    reassembler.add(ackFromCollector(102));
    const [stream] = reassembler.finish();
    expect(stream).toMatchObject({ ...ROUTER, firstPacketTime: 12.5, packets: 2, gapBytes: 0 });
  });

  it('works end to end through a capture file: reconnect on the same 4-tuple', () => {
    const r = { src: '127.0.0.1', dst: '127.0.0.1', srcPort: 60806, dstPort: 11019 };
    const c = { src: r.dst, dst: r.src, srcPort: r.dstPort, dstPort: r.srcPort };
    const ips = [
      tcpIp({ ...r, seq: 10, flags: SYN }),
      tcpIp({ ...c, seq: 80, ack: 11, flags: SYN | ACK }),
      tcpIp({ ...r, seq: 11, ack: 81, payload: 'one' }),
      tcpIp({ ...r, seq: 14, ack: 81, flags: FIN | ACK }),
      tcpIp({ ...c, seq: 81, ack: 15, flags: FIN | ACK }),
      tcpIp({ ...r, seq: 3_000_000_000, flags: SYN }),
      tcpIp({ ...c, seq: 4_000_000_000, ack: 3_000_000_001, flags: SYN | ACK }),
      tcpIp({ ...r, seq: 3_000_000_001, ack: 4_000_000_001, payload: 'two' }),
    ];
    const file = pcapFile({ linkType: 1 }, ips.map((ip, i) => ({ time: 100 + i, data: ethernet(ip) })));
    const result = extractTcpStreams(file);
    expect(result.errors).toEqual([]);
    expect(result.streams.map((s) => [s.id, s.bytes.toString(), s.firstPacketTime])).toEqual([
      ['127.0.0.1:60806->127.0.0.1:11019#1', 'one', 100],
      ['127.0.0.1:60806->127.0.0.1:11019#2', 'two', 105],
    ]);
  });
});

describe('properties', () => {
  /** Split payload at sorted cut points into [offset, bytes] pieces. */
  function split(payload: Uint8Array, cuts: number[]): Array<[number, Uint8Array]> {
    const points = [...new Set([0, ...cuts.map((c) => c % (payload.length + 1)), payload.length])].sort((x, y) => x - y);
    const pieces: Array<[number, Uint8Array]> = [];
    for (let i = 1; i < points.length; i++) pieces.push([points[i - 1], payload.subarray(points[i - 1], points[i])]);
    return pieces;
  }

  const toSegment = (isn: number, offset: number, bytes: Uint8Array): TcpSegment => ({
    ...ROUTER,
    seq: (isn + 1 + offset) >>> 0,
    ack: 0,
    flags: ACK,
    payload: bytes,
    time: 0,
  });

  it('any split, order and duplication of the segments (SYN anywhere) gives back the payload', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.oneof(fc.constant(0xffffff00), fc.constant(0xffffffff), fc.nat({ max: 0xffffffff })),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.nat(),
        (payload, cuts, isn, duplicates, seed) => {
          const pieces = split(payload, cuts).map(([offset, bytes]) => toSegment(isn, offset, bytes));
          const syn: TcpSegment = { ...ROUTER, seq: isn, ack: 0, flags: SYN, payload: new Uint8Array(), time: 0 };
          const all = [syn, ...pieces, ...duplicates.map((d) => pieces[d % pieces.length])];
          const shuffled = shuffle(all, seed);
          const streams = reassembleTcp(shuffled);
          expect(streams).toHaveLength(1);
          expect(Buffer.from(payload).equals(streams[0].bytes)).toBe(true);
          expect(streams[0].gapBytes).toBe(0);
          expect(streams[0].packets).toBe(all.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches a byte-by-byte model: each byte comes from the first segment that carried it', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.record({ offset: fc.nat({ max: 200 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }), { minLength: 1, maxLength: 40 }),
        (isn, pieces) => {
          const model: Array<number | undefined> = [];
          for (const { offset, bytes } of pieces) bytes.forEach((b, i) => (model[offset + i] ??= b));
          const present = model.filter((b): b is number => b !== undefined);
          const end = model.length;
          const syn: TcpSegment = { ...ROUTER, seq: isn, ack: 0, flags: SYN, payload: new Uint8Array(), time: 0 };
          const streams = reassembleTcp([syn, ...pieces.map(({ offset, bytes }) => toSegment(isn, offset, bytes))]);
          expect([...streams[0].bytes]).toEqual(present);
          expect(streams[0].gapBytes).toBe(end - present.length);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('dropped segments are counted exactly as gap bytes (SYN and FIN captured)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 300 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.boolean(), { minLength: 31, maxLength: 31 }),
        (payload, cuts, isn, keep) => {
          const pieces = split(payload, cuts);
          const kept = pieces.filter((_, i) => keep[i]);
          fc.pre(kept.length > 0);
          const syn: TcpSegment = { ...ROUTER, seq: isn, ack: 0, flags: SYN, payload: new Uint8Array(), time: 0 };
          const fin: TcpSegment = { ...toSegment(isn, payload.length, new Uint8Array()), flags: FIN | ACK };
          const streams = reassembleTcp([syn, ...kept.map(([o, b]) => toSegment(isn, o, b)), fin]);
          const keptBytes = Buffer.concat(kept.map(([, b]) => b));
          expect(streams[0].bytes.equals(keptBytes)).toBe(true);
          expect(streams[0].gapBytes).toBe(payload.length - keptBytes.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Deterministic Fisher–Yates driven by a seed (fast-check shrinks the seed, not the permutation). */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
