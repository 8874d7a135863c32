import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractTcpStreams } from '../../../src/capture/index.js';
import { ACK, SYN, ethernet, pcapFile, pcapngFile, tcpIp, type PcapngBlock } from './build-capture.js';

const ENDS = { src: '127.0.0.1', dst: '127.0.0.1', srcPort: 60806, dstPort: 11019 };
const CHUNKS = ['alpha-', 'bravo-', 'charlie'];

/** SYN then three data segments, on Ethernet. */
function frames(): Buffer[] {
  const out = [ethernet(tcpIp({ ...ENDS, seq: 0, flags: SYN }))];
  let seq = 1;
  for (const chunk of CHUNKS) {
    out.push(ethernet(tcpIp({ ...ENDS, seq, ack: 1, flags: ACK, payload: chunk })));
    seq += chunk.length;
  }
  return out;
}

const PCAP = pcapFile({ linkType: 1 }, frames().map((data, i) => ({ time: 1000 + i, data })));
const PCAPNG_BLOCKS: PcapngBlock[] = [
  { kind: 'shb', littleEndian: true },
  { kind: 'idb', linkType: 1 },
  ...frames().map((data, i): PcapngBlock => ({ kind: 'epb', iface: 0, time: 1000 + i, data })),
];
const PCAPNG = pcapngFile(PCAPNG_BLOCKS);

/** Offsets of each pcap record header in PCAP. */
function recordOffsets(): number[] {
  const offsets: number[] = [];
  let at = 24;
  for (const f of frames()) {
    offsets.push(at);
    at += 16 + f.length;
  }
  return offsets;
}

describe('truncated and corrupt files', () => {
  it('an empty file is no capture, reported as truncated', () => {
    expect(extractTcpStreams(new Uint8Array())).toEqual({
      format: null,
      streams: [],
      errors: [{ layer: 'capture', code: 'truncated', offset: 0, detail: 'capture file magic: need 4 bytes, have 0' }],
    });
  });

  it('an unknown magic is reported as bad-capture', () => {
    const result = extractTcpStreams(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(result.format).toBeNull();
    expect(result.errors).toEqual([{ layer: 'capture', code: 'bad-capture', offset: 0, detail: 'unknown capture magic 0x47455420, expected pcap or pcapng' }]);
  });

  it('a pcap cut inside its file header', () => {
    const result = extractTcpStreams(PCAP.subarray(0, 10));
    expect(result.format).toBe('pcap');
    expect(result.errors).toEqual([{ layer: 'capture', code: 'truncated', offset: 0, detail: 'pcap file header: need 24 bytes, have 10' }]);
  });

  it('a pcap cut inside the last packet keeps everything before it', () => {
    const last = recordOffsets()[3];
    const result = extractTcpStreams(PCAP.subarray(0, PCAP.length - 5));
    expect(result.streams[0].bytes.toString()).toBe('alpha-bravo-');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ layer: 'capture', code: 'truncated', offset: last });
    expect(result.errors[0].detail).toMatch(/^pcap record 4 data: need \d+ bytes, have \d+$/);
  });

  it('a pcap cut inside a record header', () => {
    const last = recordOffsets()[3];
    const result = extractTcpStreams(PCAP.subarray(0, last + 7));
    expect(result.errors).toEqual([{ layer: 'capture', code: 'truncated', offset: last, detail: 'pcap record 4 header: need 16 bytes, have 7' }]);
    expect(result.streams[0].bytes.toString()).toBe('alpha-bravo-');
  });

  it('every possible cut of a pcap yields a prefix of the stream and at most one error', () => {
    for (let n = 0; n <= PCAP.length; n++) {
      const result = extractTcpStreams(PCAP.subarray(0, n));
      expect(result.errors.length).toBeLessThanOrEqual(1);
      const text = result.streams[0]?.bytes.toString() ?? '';
      expect('alpha-bravo-charlie'.startsWith(text)).toBe(true);
    }
  });

  it('every possible cut of a pcapng yields a prefix of the stream and at most one error', () => {
    for (let n = 0; n <= PCAPNG.length; n++) {
      const result = extractTcpStreams(PCAPNG.subarray(0, n));
      expect(result.errors.length).toBeLessThanOrEqual(1);
      const text = result.streams[0]?.bytes.toString() ?? '';
      expect('alpha-bravo-charlie'.startsWith(text)).toBe(true);
    }
  });

  it('a pcapng cut inside the last block reports the block as truncated', () => {
    const lastBlockStart = PCAPNG.length - PCAPNG.readUInt32LE(PCAPNG.length - 4);
    const result = extractTcpStreams(PCAPNG.subarray(0, PCAPNG.length - 4));
    expect(result.streams[0].bytes.toString()).toBe('alpha-bravo-');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: 'truncated', offset: lastBlockStart });
    expect(result.errors[0].detail).toMatch(/^pcapng block type 0x00000006: need \d+ bytes, have \d+$/);
  });

  it('a pcapng block length that is not a multiple of 4 stops the walk with bad-capture', () => {
    const file = Buffer.from(PCAPNG);
    const lastBlockStart = file.length - file.readUInt32LE(file.length - 4);
    file.writeUInt32LE(13, lastBlockStart + 4);
    const result = extractTcpStreams(file);
    expect(result.errors).toEqual([
      { layer: 'capture', code: 'bad-capture', offset: lastBlockStart + 4, detail: 'pcapng block length 13 is not a multiple of 4 of at least 12' },
    ]);
    expect(result.streams[0].bytes.toString()).toBe('alpha-bravo-');
  });

  it('a trailing block length that disagrees is bad-capture', () => {
    const file = Buffer.from(PCAPNG);
    file.writeUInt32LE(4, file.length - 4);
    const result = extractTcpStreams(file);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: 'bad-capture', offset: file.length - 4 });
    expect(result.errors[0].detail).toMatch(/trailing block length 4 differs/);
  });

  it('a bad byte-order magic in the Section Header Block is bad-capture', () => {
    const file = Buffer.from(PCAPNG);
    file.writeUInt32LE(0x12345678, 8);
    expect(extractTcpStreams(file)).toMatchObject({
      format: 'pcapng',
      streams: [],
      errors: [{ code: 'bad-capture', offset: 8, detail: 'pcapng byte-order magic 0x78563412, expected 0x1a2b3c4d' }],
    });
  });

  it('an unsupported pcapng major version is bad-capture', () => {
    const file = pcapngFile([{ kind: 'shb', littleEndian: true, major: 2 }, ...PCAPNG_BLOCKS.slice(1)]);
    expect(extractTcpStreams(file).errors).toEqual([{ layer: 'capture', code: 'bad-capture', offset: 12, detail: 'unsupported pcapng version 2.0' }]);
  });

  it('a packet naming an undefined interface is skipped; later packets still count', () => {
    const blocks = [...PCAPNG_BLOCKS];
    const bad = blocks[4]; // the 'bravo-' segment
    if (bad.kind === 'epb') blocks[4] = { ...bad, iface: 5 };
    const result = extractTcpStreams(pcapngFile(blocks));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].detail).toMatch(/names interface 5, but the section defines 1/);
    expect(result.streams[0].bytes.toString()).toBe('alpha-charlie');
    expect(result.streams[0].gapBytes).toBe('bravo-'.length);
  });

  it('a Simple Packet Block before any interface is bad-capture', () => {
    const file = pcapngFile([{ kind: 'shb', littleEndian: false }, { kind: 'spb', data: frames()[0] }]);
    expect(extractTcpStreams(file).errors[0]).toMatchObject({ code: 'bad-capture', offset: 28 + 8 });
  });

  it('an EPB whose captured length runs past its block is truncated', () => {
    const file = Buffer.from(PCAPNG);
    const lastBlockStart = file.length - file.readUInt32LE(file.length - 4);
    file.writeUInt32LE(5000, lastBlockStart + 8 + 12);
    const result = extractTcpStreams(file);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: 'truncated', offset: lastBlockStart + 8 + 20 });
    expect(result.errors[0].detail).toMatch(/Enhanced Packet Block packet data: need 5000 bytes, have \d+/);
    expect(result.streams[0].bytes.toString()).toBe('alpha-bravo-');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzzing: extractTcpStreams is total. Whatever the bytes, it returns well-formed values and never throws.

const FIXTURE_PCAPS = ['frr-baseline/both', 'frr-addpath/both', 'frr-late-collector/both', 'gobgp-addpath/all'].map((name) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/${name}.pcap`, import.meta.url))),
);

function checkWellFormed(file: Uint8Array): void {
  const result = extractTcpStreams(file);
  for (const error of result.errors) {
    expect(error.layer).toBe('capture');
    expect(['bad-capture', 'truncated']).toContain(error.code);
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(file.length);
    expect(error.detail.length).toBeGreaterThan(0);
  }
  for (const stream of result.streams) {
    expect(stream.bytes.length).toBeGreaterThan(0);
    expect(stream.bytes.length).toBeLessThanOrEqual(file.length);
    expect(Number.isSafeInteger(stream.gapBytes) && stream.gapBytes >= 0).toBe(true);
    expect(stream.packets).toBeGreaterThan(0);
  }
}

/** Random byte writes (and an optional cut) applied to a base file. */
const mutated = (bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      base: fc.constantFrom(...bases),
      writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ base, writes, cut }) => {
      const copy = Uint8Array.from(base);
      for (const [at, value] of writes) copy[at % copy.length] = value;
      return cut === undefined ? copy : copy.subarray(0, cut % (copy.length + 1));
    });

describe('fuzzing', () => {
  const runs = { numRuns: 2000 };

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => checkWellFormed(bytes)), runs);
  });

  it('random bytes behind a valid pcap header or pcapng section', () => {
    const heads = [PCAP.subarray(0, 24), PCAPNG.subarray(0, PCAPNG.indexOf(Buffer.from([6, 0, 0, 0]), 28))];
    fc.assert(
      fc.property(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 2000 }), (head, tail) => checkWellFormed(Buffer.concat([head, tail]))),
      runs,
    );
  });

  it('mutated synthetic pcap and pcapng files', () => {
    fc.assert(fc.property(mutated([PCAP, PCAPNG]), (file) => checkWellFormed(file)), runs);
  });

  it('mutated fixture pcaps', () => {
    fc.assert(fc.property(mutated(FIXTURE_PCAPS), (file) => checkWellFormed(file)), runs);
  }, 120_000);

  it('fixture pcaps converted to pcapng, mutated', () => {
    const converted = FIXTURE_PCAPS.slice(0, 2).map((pcap) => {
      const blocks: PcapngBlock[] = [{ kind: 'shb', littleEndian: false }, { kind: 'idb', linkType: 1, tsresol: 9 }];
      let at = 24;
      while (at + 16 <= pcap.length) {
        const len = pcap.readUInt32LE(at + 8);
        blocks.push({ kind: 'epb', iface: 0, time: pcap.readUInt32LE(at), data: pcap.subarray(at + 16, at + 16 + len) });
        at += 16 + len;
      }
      return pcapngFile(blocks);
    });
    fc.assert(fc.property(mutated(converted), (file) => checkWellFormed(file)), runs);
  }, 120_000);
});
