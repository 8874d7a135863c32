import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateStream, type GenerateStreamOptions } from '../../../scripts/generate-stream.js';

function run(options: GenerateStreamOptions): { data: Buffer; summary: ReturnType<typeof generateStream>; chunks: number } {
  const chunks: Buffer[] = [];
  const summary = generateStream(options, (c) => chunks.push(c));
  return { data: Buffer.concat(chunks), summary, chunks: chunks.length };
}

interface Frame {
  readonly type: number;
  readonly body: Buffer; // after the 6-byte common header
}

/** Walk RFC 7854 §4.1 common headers; fails the test on anything that doesn't add up exactly. */
function frames(data: Buffer): Frame[] {
  const out: Frame[] = [];
  let pos = 0;
  while (pos < data.length) {
    expect(data.length - pos).toBeGreaterThanOrEqual(6);
    expect(data[pos]).toBe(3);
    const len = data.readUInt32BE(pos + 1);
    expect(len).toBeGreaterThanOrEqual(6);
    expect(pos + len).toBeLessThanOrEqual(data.length);
    out.push({ type: data[pos + 5], body: data.subarray(pos + 6, pos + len) });
    pos += len;
  }
  expect(pos).toBe(data.length);
  return out;
}

/** Count prefixes in a run of NLRI (RFC 4271 §4.3, RFC 7911 §3), requiring it to end exactly on the boundary. */
function countNlri(b: Buffer, addPath: boolean): number {
  let pos = 0;
  let n = 0;
  while (pos < b.length) {
    if (addPath) {
      expect(b.readUInt32BE(pos)).toBeGreaterThan(0);
      pos += 4;
    }
    const bits = b[pos];
    pos += 1 + ((bits + 7) >> 3);
    n++;
  }
  expect(pos).toBe(b.length);
  return n;
}

/** Does an OPEN (RFC 4271 §4.2) advertise ADD-PATH (RFC 7911 capability 69)? */
function openHasAddPath(open: Buffer): boolean {
  const optEnd = 29 + open[28];
  for (let p = 29; p < optEnd; p += 2 + open[p + 1]) {
    if (open[p] === 2 && open[p + 2] === 69) return true;
  }
  return false;
}

/** NLRI in an UPDATE: withdrawn + NLRI field + MP_REACH/MP_UNREACH (RFC 4760). */
function updateNlriCount(u: Buffer, addPath: boolean): number {
  expect(u.subarray(0, 16).equals(Buffer.alloc(16, 0xff))).toBe(true);
  expect(u.readUInt16BE(16)).toBe(u.length);
  expect(u[18]).toBe(2);
  expect(u.length).toBeLessThanOrEqual(4096);
  const wlen = u.readUInt16BE(19);
  let n = countNlri(u.subarray(21, 21 + wlen), addPath);
  const alen = u.readUInt16BE(21 + wlen);
  const attrsStart = 23 + wlen;
  let p = attrsStart;
  while (p < attrsStart + alen) {
    const flags = u[p];
    const code = u[p + 1];
    const ext = (flags & 0x10) !== 0;
    const vlen = ext ? u.readUInt16BE(p + 2) : u[p + 2];
    const v = u.subarray(p + (ext ? 4 : 3), p + (ext ? 4 : 3) + vlen);
    if (code === 14) n += countNlri(v.subarray(5 + v[3]), addPath);
    if (code === 15) n += countNlri(v.subarray(3), addPath);
    p += (ext ? 4 : 3) + vlen;
  }
  expect(p).toBe(attrsStart + alen);
  return n + countNlri(u.subarray(attrsStart + alen), addPath);
}

describe('generateStream', () => {
  const options = { peers: 12, prefixesPerPeer: 300, churn: 3000, seed: 42 };

  it('is deterministic for a seed and differs across seeds', () => {
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const a = run(options);
    const b = run(options);
    expect(sha(a.data)).toBe(sha(b.data));
    expect(a.summary).toEqual(b.summary);
    expect(sha(run({ ...options, seed: 43 }).data)).not.toBe(sha(a.data));
  });

  it('writes well-formed BMP frames that add up to the summary', () => {
    const { data, summary, chunks } = run(options);
    const all = frames(data);
    expect(summary.bytes).toBe(data.length);
    expect(summary.messages).toBe(all.length);
    expect(chunks).toBe(all.length);
    expect(all[0].type).toBe(4);
    expect(all[all.length - 1].type).toBe(5);

    const byType = new Map<number, number>();
    for (const f of all) byType.set(f.type, (byType.get(f.type) ?? 0) + 1);
    const downs = byType.get(2) ?? 0;
    expect(downs).toBeGreaterThan(0);
    expect(byType.get(3)).toBe(options.peers + downs); // every Peer Down gets its re-Peer-Up
    expect(byType.get(1)).toBeGreaterThan(0);

    // Peer key = 16-byte address in the per-peer header (RFC 7854 §4.2, offset 10).
    const addPathPeers = new Set<string>();
    const v6Peers = new Set<string>();
    const statTypes = new Set<number>();
    let prefixes = 0;
    let maxNlri = 0;
    let postPolicy = 0;
    for (const f of all) {
      const key = f.body.subarray(10, 26).toString('hex');
      if (f.type === 3) {
        const sentLen = f.body.readUInt16BE(42 + 20 + 16);
        const sent = f.body.subarray(62, 62 + sentLen);
        const received = f.body.subarray(62 + sentLen, 62 + sentLen + f.body.readUInt16BE(62 + sentLen + 16));
        expect(sent[18]).toBe(1);
        expect(received[18]).toBe(1);
        if (openHasAddPath(sent) && openHasAddPath(received)) addPathPeers.add(key);
        if (f.body[1] & 0x80) v6Peers.add(key);
      } else if (f.type === 0) {
        const n = updateNlriCount(f.body.subarray(42), addPathPeers.has(key));
        prefixes += n;
        maxNlri = Math.max(maxNlri, n);
        if (f.body[1] & 0x40) postPolicy++;
      } else if (f.type === 1) {
        const count = f.body.readUInt32BE(42);
        let p = 46;
        for (let i = 0; i < count; i++) {
          statTypes.add(f.body.readUInt16BE(p));
          p += 4 + f.body.readUInt16BE(p + 2);
        }
        expect(p).toBe(f.body.length);
      }
    }
    expect(prefixes).toBe(summary.prefixes);
    expect(addPathPeers.size).toBeGreaterThan(0);
    expect(v6Peers.size).toBeGreaterThan(0);
    expect(maxNlri).toBeGreaterThan(100); // initial tables are packed
    expect(postPolicy).toBeGreaterThan(0);
    expect([...statTypes].sort((x, y) => x - y)).toEqual([0, 1, 7, 8, 9, 10]);
  });

  it('handles degenerate sizes', () => {
    const empty = run({ peers: 0, prefixesPerPeer: 0, churn: 0, seed: 1 });
    expect(frames(empty.data).map((f) => f.type)).toEqual([4, 5]);
    const noPrefixes = run({ peers: 3, prefixesPerPeer: 0, churn: 100, seed: 1 });
    expect(frames(noPrefixes.data).length).toBe(noPrefixes.summary.messages);
    expect(noPrefixes.summary.prefixes).toBe(0);
    expect(() => run({ peers: -1 })).toThrow(RangeError);
  });
});
