import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectCaptureFormat, extractTcpStreams } from '../../../src/capture/index.js';
import { readCapture } from '../../../src/capture/pcap-file.js';
import { pcapFile, pcapngFile, type PcapngBlock } from './build-capture.js';

/** The real loopback captures: each pcap must yield exactly the router → collector byte stream in the .bmp file. */
const FIXTURES = [
  ['frr-baseline', 'both'],
  ['frr-addpath', 'both'],
  ['frr-late-collector', 'both'],
  ['gobgp-addpath', 'all'],
] as const;

interface Meta {
  exporter: string;
  exporter_port: number;
  listen: string;
  opened: number;
  closed: number;
  bytes: number;
}

function fixture(folder: string, name: string): { pcap: Buffer; bmp: Buffer; meta: Meta } {
  const base = fileURLToPath(new URL(`../../fixtures/${folder}/${name}`, import.meta.url));
  return {
    pcap: readFileSync(`${base}.pcap`),
    bmp: readFileSync(`${base}.bmp`),
    meta: JSON.parse(readFileSync(`${base}.bmp.meta.json`, 'utf8')) as Meta,
  };
}

function listenPort(meta: Meta): number {
  return Number(meta.listen.slice(meta.listen.lastIndexOf(':') + 1));
}

describe.each(FIXTURES)('fixture %s', (folder, name) => {
  const { pcap, bmp, meta } = fixture(folder, name);

  it('is detected as classic pcap', () => {
    expect(detectCaptureFormat(pcap.subarray(0, 4))).toBe('pcap');
  });

  it('reassembles the router → collector stream byte for byte, without gaps or errors', () => {
    const result = extractTcpStreams(pcap);
    expect(result.format).toBe('pcap');
    expect(result.errors).toEqual([]);
    const stream = result.streams.find((s) => s.src === meta.exporter && s.srcPort === meta.exporter_port);
    expect(stream).toBeDefined();
    if (stream === undefined) return;
    expect(stream.bytes.length).toBe(meta.bytes);
    expect(stream.bytes.equals(bmp)).toBe(true);
    expect(stream.gapBytes).toBe(0);
    expect(stream.dstPort).toBe(listenPort(meta));
    expect(stream.id).toBe(`${meta.exporter}:${meta.exporter_port}->${meta.listen}#1`);
    // tcpdump saw the SYN a moment before the harness's accept() returned.
    expect(Math.abs(stream.firstPacketTime - meta.opened)).toBeLessThan(1);
  });

  it('omits the collector → router direction, which carries only ACKs', () => {
    const result = extractTcpStreams(pcap);
    expect(result.streams).toHaveLength(1);
  });

  it('gives the same stream when re-encoded as big-endian nanosecond pcap and as pcapng', () => {
    const { packets } = readCapture(pcap);
    const original = extractTcpStreams(pcap).streams[0];
    const records = packets.map((p) => ({ time: p.time, data: p.data }));
    const nanoBe = pcapFile({ linkType: 1, littleEndian: false, nanoseconds: true }, records);
    const blocks: PcapngBlock[] = [
      { kind: 'shb', littleEndian: false },
      { kind: 'idb', linkType: 1, tsresol: 9 },
      ...records.map((r): PcapngBlock => ({ kind: 'epb', iface: 0, time: r.time, data: r.data })),
    ];
    for (const file of [nanoBe, pcapngFile(blocks)]) {
      const result = extractTcpStreams(file);
      expect(result.errors).toEqual([]);
      expect(result.streams).toHaveLength(1);
      expect(result.streams[0].bytes.equals(bmp)).toBe(true);
      expect(result.streams[0].firstPacketTime).toBeCloseTo(original.firstPacketTime, 5);
    }
  });
});

it('frr-late-collector: the refused connection attempts before the collector listened produce no streams', () => {
  const { pcap, meta } = fixture('frr-late-collector', 'both');
  const { packets } = readCapture(pcap);
  // The capture starts with SYN → RST pairs from other source ports; only the last connection carries data.
  expect(packets.length).toBeGreaterThan(10);
  const result = extractTcpStreams(pcap);
  expect(result.streams.map((s) => s.srcPort)).toEqual([meta.exporter_port]);
});
