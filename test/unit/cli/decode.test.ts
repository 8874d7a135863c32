/**
 * `bmpwatch decode` (runDecode) end to end on the real FRR capture: raw BMP file, the pcap of the same session,
 * stdin, and damaged streams. stdout is NDJSON (one object per message, decode errors in line), stderr carries
 * error lines and the summary; the exit code is 1 when anything failed to decode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import { BmpFramer } from '../../../src/bmp/framer.js';
import { runDecode, type DecodeCommandOptions } from '../../../src/cli/decode.js';
import { fixturePath, readFixture } from '../../helpers/fixtures.js';

/** Collects everything written to it. */
class Sink extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

type Line = Record<string, unknown>;

interface Run {
  readonly code: number;
  readonly lines: Line[];
  readonly stdout: string;
  readonly stderr: string;
}

async function run(file: string, options: DecodeCommandOptions = {}, stdinChunks: readonly Buffer[] = []): Promise<Run> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runDecode(file, { progress: false, ...options }, { stdout, stderr, stdin: Readable.from(stdinChunks) });
  const text = stdout.text;
  const lines = text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Line);
  return { code, lines, stdout: text, stderr: stderr.text };
}

const chunksOf = (data: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

const BMP_FILE = fixturePath('frr-baseline/both.bmp');
const PCAP_FILE = fixturePath('frr-baseline/both.pcap');
const BMP = readFixture('frr-baseline/both.bmp');
const STREAM_ID = '127.0.0.1:60806->127.0.0.1:11019#1';

/** The capture's frames (offset, bytes), cut by the framer. */
const FRAMES: { offset: number; bytes: Buffer }[] = [];
const framer = new BmpFramer();
if (framer.push(BMP, (frame) => FRAMES.push({ offset: frame.streamOffset, bytes: Buffer.from(frame.bytes) })) ?? framer.finish()) throw new Error('the fixture does not frame');

/** What each NDJSON line must be: the decoder's value for that frame, as JSON, with its stream offset and no attribute-set key. */
function expectedLines(frames: readonly { offset: number; bytes: Buffer }[], shift = 0): Line[] {
  const decoder = new BmpSessionDecoder();
  return frames.map(({ offset, bytes }) => {
    const result = decoder.decode(bytes);
    if (!result.ok) throw new Error(`fixture frame at ${offset} does not decode`);
    const value = JSON.parse(JSON.stringify(result.value, (key: string, v: unknown) => (key === 'attributesKey' ? undefined : v))) as Line;
    return { offset: offset + shift, ...value };
  });
}

const BASELINE_SUMMARY = {
  bytes: 11390,
  messages: 88,
  byType: { initiation: 1, 'peer-down': 4, 'route-monitoring': 68, 'peer-up': 5, 'statistics-report': 10 },
  announced: 64,
  withdrawn: 4,
  endOfRib: 0,
  treatAsWithdraw: 0,
  addPathFallbacks: 0,
  asWidthFallbacks: 0,
  errors: 0,
  errorsByCode: {},
  skippedBytes: 0,
  streams: 1,
};

describe('runDecode on the frr-baseline capture', () => {
  it('raw .bmp file: one line per message, exit code 0, the summary on stderr', async () => {
    const result = await run(BMP_FILE);
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(88);
    expect(result.lines).toEqual(expectedLines(FRAMES));
    expect(result.lines[0]).toEqual({
      offset: 0,
      type: 'initiation',
      information: [
        { type: 1, name: 'sysDescr', value: 'FRRouting 8.4.4' },
        { type: 2, name: 'sysName', value: 'bmp-harness-rs' },
      ],
      sysName: 'bmp-harness-rs',
      sysDescr: 'FRRouting 8.4.4',
    });
    expect(result.stdout).not.toContain('attributesKey');
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stderr).toBe(`${JSON.stringify({ summary: BASELINE_SUMMARY })}\n`);
  });

  it('a statistics line with FRR private type 65531', async () => {
    const { lines } = await run(BMP_FILE);
    const stats = lines.filter((line) => line.type === 'statistics-report');
    expect(stats).toHaveLength(10);
    // FRR's order on the wire, kept.
    expect(stats.map((line) => (line.stats as { type: number }[]).map((s) => s.type))).toEqual(Array(10).fill([0, 4, 5, 3, 2, 11, 65531]));
    const privateStats = stats.map((line) => (line.stats as { type: number; name: string; kind: string }[])[6]);
    expect(privateStats.map(({ name, kind }) => ({ name, kind }))).toEqual(Array(10).fill({ name: 'type 65531', kind: 'counter' }));
  });

  it('the .pcap of the same capture: the same messages, each line carrying its TCP stream', async () => {
    const fromBmp = await run(BMP_FILE);
    const fromPcap = await run(PCAP_FILE);
    expect(fromPcap.code).toBe(0);
    expect(fromPcap.lines).toHaveLength(88);
    for (const [i, line] of fromPcap.lines.entries()) {
      const { stream, ...rest } = line;
      expect(stream).toBe(STREAM_ID);
      expect(rest).toEqual(fromBmp.lines[i]);
    }
    expect(Object.keys(fromPcap.lines[0]).slice(0, 3)).toEqual(['stream', 'offset', 'type']);
    expect(fromPcap.stderr).toBe(`${JSON.stringify({ summary: BASELINE_SUMMARY })}\n`);
  });

  it('the .pcap filtered by the BMP port, and by a port nothing uses', async () => {
    const matching = await run(PCAP_FILE, { port: 11019 });
    expect(matching.lines).toHaveLength(88);
    const other = await run(PCAP_FILE, { port: 9 });
    expect(other.code).toBe(0);
    expect(other.lines).toEqual([]);
    expect(other.stderr).toBe(`${JSON.stringify({ summary: { ...BASELINE_SUMMARY, bytes: 0, messages: 0, byType: {}, announced: 0, withdrawn: 0, streams: 0 } })}\n`);
  });

  it('stdin ("-"): the same output as the file, whatever the chunking', async () => {
    const fromFile = await run(BMP_FILE);
    for (const size of [1, 1000, BMP.length]) {
      const fromStdin = await run('-', {}, chunksOf(BMP, size));
      expect(fromStdin.code).toBe(0);
      expect(fromStdin.stdout).toBe(fromFile.stdout);
      expect(fromStdin.stderr).toBe(fromFile.stderr);
    }
  });

  it('stdin with a pcap is recognised as a capture', async () => {
    const fromStdin = await run('-', {}, chunksOf(readFixture('frr-baseline/both.pcap'), 4096));
    const fromFile = await run(PCAP_FILE);
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });

  it('empty stdin: nothing decoded, exit code 0', async () => {
    const result = await run('-', {}, []);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([]);
    expect(result.stderr).toBe(`${JSON.stringify({ summary: { ...BASELINE_SUMMARY, bytes: 0, messages: 0, byType: {}, announced: 0, withdrawn: 0 } })}\n`);
  });
});

describe('runDecode on a damaged stream', () => {
  const CUT_AT = 40; // garbage goes in front of the 41st message, in the middle of the stream
  const GARBAGE = Buffer.alloc(37, 0xee);
  const TRUNCATE = 10;
  const insertAt = FRAMES[CUT_AT].offset;
  const damaged = Buffer.concat([BMP.subarray(0, insertAt), GARBAGE, BMP.subarray(insertAt, BMP.length - TRUNCATE)]);
  const last = FRAMES[FRAMES.length - 1];
  const lastOffset = last.offset + GARBAGE.length;

  const errorLines: Line[] = [
    { offset: insertAt, type: 'decode-error', layer: 'framing', code: 'bad-version', detail: 'BMP version 238, expected 3' },
    {
      offset: lastOffset,
      type: 'decode-error',
      layer: 'framing',
      code: 'truncated',
      detail: `stream ended inside a message: need ${last.bytes.length} bytes, have ${last.bytes.length - TRUNCATE}`,
    },
  ];
  const decoded = expectedLines(FRAMES.slice(0, -1));
  const expected = [
    ...decoded.slice(0, CUT_AT),
    errorLines[0],
    ...decoded.slice(CUT_AT).map((line) => ({ ...line, offset: (line.offset as number) + GARBAGE.length })),
    errorLines[1],
  ];
  const summary = {
    ...BASELINE_SUMMARY,
    bytes: BMP.length + GARBAGE.length - TRUNCATE,
    messages: 87,
    byType: { ...BASELINE_SUMMARY.byType, 'peer-down': 3 }, // the lost last message is a Peer Down
    errors: 2,
    errorsByCode: { 'framing/bad-version': 1, 'framing/truncated': 1 },
    skippedBytes: GARBAGE.length,
  };
  const stderr = [
    `bmpwatch decode: framing error bad-version at offset ${insertAt}: BMP version 238, expected 3`,
    `bmpwatch decode: framing error truncated at offset ${lastOffset}: stream ended inside a message: need ${last.bytes.length} bytes, have ${last.bytes.length - TRUNCATE}`,
    JSON.stringify({ summary }),
    '',
  ].join('\n');

  it('garbage in the middle and a truncated end: decode-error objects with their offsets, resynchronised, exit code 1', async () => {
    const result = await run('-', {}, chunksOf(damaged, 777));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual(expected);
    expect(result.stderr).toBe(stderr);
  });

  it('the same from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-decode-'));
    try {
      const file = join(dir, 'damaged.bmp');
      writeFileSync(file, damaged);
      const result = await run(file);
      expect(result.code).toBe(1);
      expect(result.lines).toEqual(expected);
      expect(result.stderr).toBe(stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a well-framed message with a broken BGP marker: a decode-error at the byte, the rest decoded', async () => {
    const index = FRAMES.findIndex((frame) => frame.bytes[5] === 0); // first Route Monitoring
    const broken = Buffer.from(BMP);
    const markerByte = FRAMES[index].offset + 48 + 5;
    broken[markerByte] = 0x00;
    const result = await run('-', {}, [broken]);
    expect(result.code).toBe(1);
    const all = expectedLines(FRAMES);
    expect(result.lines).toEqual([
      ...all.slice(0, index),
      { offset: markerByte, type: 'decode-error', layer: 'bgp', code: 'bad-marker', detail: 'BGP marker is not all ones' },
      ...all.slice(index + 1),
    ]);
    expect(result.stderr.split('\n')[0]).toBe(`bmpwatch decode: bgp error bad-marker at offset ${markerByte}: BGP marker is not all ones`);
    const summaryLine = JSON.parse(result.stderr.trimEnd().split('\n')[1]) as { summary: { messages: number; errors: number; errorsByCode: Record<string, number> } };
    expect(summaryLine.summary.messages).toBe(87);
    expect(summaryLine.summary.errors).toBe(1);
    expect(summaryLine.summary.errorsByCode).toEqual({ 'bgp/bad-marker': 1 });
  });

  it('only a truncated end', async () => {
    const result = await run('-', {}, [BMP.subarray(0, BMP.length - 1)]);
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toEqual({
      offset: last.offset,
      type: 'decode-error',
      layer: 'framing',
      code: 'truncated',
      detail: `stream ended inside a message: need ${last.bytes.length} bytes, have ${last.bytes.length - 1}`,
    });
    expect(result.lines).toHaveLength(88);
  });
});

describe('runDecode --check', () => {
  it('prints nothing on stdout and the same summary as a full decode, exit 0, on the capture', async () => {
    const result = await run(BMP_FILE, { check: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${JSON.stringify({ summary: BASELINE_SUMMARY })}\n`);
  });

  it('on the pcap of the same session, the same summary as a full decode of it', async () => {
    const full = await run(PCAP_FILE);
    const checked = await run(PCAP_FILE, { check: true });
    expect(checked.code).toBe(full.code);
    expect(checked.stdout).toBe('');
    expect(checked.stderr).toBe(full.stderr);
  });

  it('damaged streams: the same error lines, summary and exit code as a full decode, and no NDJSON', async () => {
    // Garbage in front of a frame, a bad marker, a bad prefix length in one UPDATE, and a truncated end.
    const damaged = Buffer.from(BMP);
    const monitoring = FRAMES.filter((frame) => frame.bytes[5] === 0);
    damaged[monitoring[3].offset + 48 + 2] = 0x00; // BGP marker byte
    const lastByteOfUpdate = monitoring[7].offset + monitoring[7].bytes.length - 1;
    damaged[lastByteOfUpdate - 4] = 0xff; // inside the NLRI or attributes of another UPDATE
    const input = Buffer.concat([damaged.subarray(0, FRAMES[20].offset), Buffer.alloc(11, 0x07), damaged.subarray(FRAMES[20].offset, damaged.length - 3)]);
    const full = await run('-', {}, chunksOf(input, 1000));
    const checked = await run('-', { check: true }, chunksOf(input, 1000));
    expect(full.code).toBe(1);
    expect(JSON.parse(full.stderr.trimEnd().split('\n').pop() as string).summary.errors).toBeGreaterThanOrEqual(3);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe('');
    expect(checked.stderr).toBe(full.stderr);
  });
});
