/**
 * The decoder's scan (BmpSessionDecoder.scan, bgp/update-scan.ts): what it records without building values must
 * say the same as the values decode() builds from it, on real captures, on a generated stream and on hand-built
 * UPDATEs; and a reused scan must carry nothing over from the previous message.
 */
import { describe, expect, it } from 'vitest';
import { BmpScan, BmpSessionDecoder, SCAN_ERROR, SCAN_MESSAGE, SCAN_ROUTE_MONITORING } from '../../../src/bmp/decode.js';
import { BmpFramer } from '../../../src/bmp/framer.js';
import { ATTR } from '../../../src/bgp/attributes/codes.js';
import { nlriAt } from '../../../src/bgp/nlri.js';
import type { UpdateScan } from '../../../src/bgp/update-scan.js';
import type { BgpUpdate, Nlri } from '../../../src/bgp/types.js';
import { encodeUpdate } from '../../../src/encode/bgp-encode.js';
import { encodeRouteMonitoring } from '../../../src/encode/bmp-encode.js';
import { generateStream } from '../../../scripts/generate-stream.js';
import { CAPTURES, readCapture } from '../../helpers/fixtures.js';
import { expectOk, MANDATORY, PEER_V4, peerUpFrame, rawAttribute, rawUpdate, hex, DEFAULT_CAPABILITIES } from './support.js';

function framesOf(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const framer = new BmpFramer();
  if (framer.push(stream, (frame) => frames.push(Buffer.from(frame.bytes))) ?? framer.finish()) throw new Error('stream does not frame');
  return frames;
}

/** Prefix texts of a scan section, read from the compact index. */
function sectionPrefixes(scan: UpdateScan, section: UpdateScan['nlri']): string[] {
  const out: string[] = [];
  for (let i = section.first; i < section.first + section.count; i++) {
    const text = nlriAt(scan.buf, scan.prefixes.offsets[i], section.ipv6).prefix;
    out.push(section.pathIds ? `${text}#${scan.prefixes.pathIds[i]}` : text);
  }
  return out;
}

const texts = (list: readonly Nlri[]): string[] => list.map((n) => (n.pathId === undefined ? n.prefix : `${n.prefix}#${n.pathId}`));

/** Everything the scan says, compared with the values materialized from the same scan by decode(). */
function expectScanAgrees(scan: UpdateScan, update: BgpUpdate): void {
  expect(scan.announcedCount).toBe(update.announced.length);
  expect(scan.withdrawnCount).toBe(update.withdrawn.length);
  expect(scan.treatAsWithdraw).toBe(update.treatAsWithdraw);
  expect(sectionPrefixes(scan, scan.withdrawnRoutes)).toEqual(texts(update.withdrawnRoutes));
  expect(sectionPrefixes(scan, scan.nlri)).toEqual(texts(update.nlri));
  expect(sectionPrefixes(scan, scan.mpReachNlri)).toEqual(texts(update.attributes.mpReach?.nlri ?? []));
  expect(sectionPrefixes(scan, scan.mpUnreachNlri)).toEqual(texts(update.attributes.mpUnreach?.withdrawn ?? []));
  const { attributes } = update;
  expect(scan.valid(ATTR.MULTI_EXIT_DISC) ? scan.med : undefined).toBe(attributes.med);
  expect(scan.valid(ATTR.LOCAL_PREF) ? scan.localPref : undefined).toBe(attributes.localPref);
  expect(scan.valid(ATTR.ORIGIN) ? ['igp', 'egp', 'incomplete'][scan.origin] : undefined).toBe(attributes.origin);
  expect(scan.endOfRibAfi === 0 ? undefined : { afi: scan.endOfRibAfi, safi: scan.endOfRibSafi }).toEqual(update.endOfRib);
  expect(scan.warnings).toEqual(update.warnings);
  expect(scan.addPathFallbacks).toBe(update.addPathFallbacks);
  expect(scan.asWidthFallbacks).toBe(update.asWidthFallbacks);
}

/** Scan and decode every frame with two decoders fed alike; return how many Route Monitoring frames were compared. */
function compareStream(frames: readonly Buffer[]): number {
  const scanner = new BmpSessionDecoder();
  const decoder = new BmpSessionDecoder();
  let compared = 0;
  for (const frame of frames) {
    const scan = scanner.scan(frame);
    const result = decoder.decode(frame);
    if (scan.kind === SCAN_ERROR) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(scan.error).toEqual(result.error);
      continue;
    }
    const message = expectOk(result);
    if (scan.kind === SCAN_MESSAGE) {
      expect(scan.message).toEqual(message);
      continue;
    }
    expect(scan.kind).toBe(SCAN_ROUTE_MONITORING);
    if (message.type !== 'route-monitoring') throw new Error(`scan said route monitoring, decode said ${message.type}`);
    expect(scan.peer).toEqual(message.peer);
    expect(scan.timestamp).toBe(message.timestamp);
    expectScanAgrees(scan.update, message.update);
    compared++;
  }
  return compared;
}

describe('scan against decode', () => {
  it.each(CAPTURES)('$name: every message says the same in scan form and as values', ({ file }) => {
    expect(compareStream(framesOf(readCapture(file)))).toBeGreaterThan(10);
  });

  it('a generated stream with ADD-PATH, 2-octet AS peers, IPv6 and flaps', () => {
    const chunks: Buffer[] = [];
    generateStream({ peers: 14, prefixesPerPeer: 300, churn: 3000, seed: 3 }, (chunk) => chunks.push(chunk));
    expect(compareStream(framesOf(Buffer.concat(chunks)))).toBeGreaterThan(3000);
  });
});

describe('scan reuse', () => {
  const full = encodeRouteMonitoring(
    PEER_V4,
    encodeUpdate({
      attributes: [
        ...MANDATORY,
        { type: 'med', value: 7 },
        { type: 'local-pref', value: 300 },
        { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [{ prefix: '2001:db8:1::/48' }] },
        { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
      ],
      withdrawn: [{ prefix: '10.9.0.0/16' }],
      nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '10.0.1.0/24' }],
    }),
  );
  const bare = encodeRouteMonitoring(PEER_V4, encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.1.0.0/24' }] }));

  it('a message without MED, LOCAL_PREF or MP attributes shows none of the previous message', () => {
    const decoder = new BmpSessionDecoder();
    const first = decoder.scan(full);
    expect(first.kind).toBe(SCAN_ROUTE_MONITORING);
    expect(first.update.valid(ATTR.MULTI_EXIT_DISC)).toBe(true);
    expect([first.update.announcedCount, first.update.withdrawnCount]).toEqual([3, 2]);
    const second = decoder.scan(bare);
    expect(second).toBe(first); // the same reused object
    const scan = second.update;
    expect(scan.has(ATTR.MULTI_EXIT_DISC) || scan.has(ATTR.LOCAL_PREF) || scan.has(ATTR.MP_REACH_NLRI) || scan.has(ATTR.MP_UNREACH_NLRI)).toBe(false);
    expect([scan.withdrawnRoutes.count, scan.mpReachNlri.count, scan.mpUnreachNlri.count]).toEqual([0, 0, 0]);
    expect(sectionPrefixes(scan, scan.nlri)).toEqual(['10.1.0.0/24']);
    expect(scan.warnings).toEqual([]);
  });

  it('treat-as-withdraw: the announced prefixes count as withdrawn, and the next message starts clean', () => {
    const decoder = new BmpSessionDecoder();
    const bad = encodeRouteMonitoring(PEER_V4, rawUpdate([rawAttribute(0x40, 1, '07'), ...MANDATORY.slice(1).map((a) => encodeUpdateAttribute(a))], hex('18 0a0000')));
    const scan = decoder.scan(bad).update;
    expect(scan.treatAsWithdraw).toBe(true);
    expect([scan.announcedCount, scan.withdrawnCount]).toEqual([0, 1]);
    expect(decoder.scan(bare).update.treatAsWithdraw).toBe(false);
  });

  it('ADD-PATH negotiated: path ids are in the index', () => {
    const decoder = new BmpSessionDecoder();
    const addPath = [...DEFAULT_CAPABILITIES, { type: 'add-path' as const, entries: [{ afi: 1, safi: 1, sendReceive: 3 as const }] }];
    expect(decoder.scan(peerUpFrame(PEER_V4, addPath, addPath)).kind).toBe(SCAN_MESSAGE);
    const frame = encodeRouteMonitoring(PEER_V4, encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24', pathId: 5 }, { prefix: '10.0.0.0/24', pathId: 6 }], addPath: true }));
    const scan = decoder.scan(frame).update;
    expect(scan.nlri.pathIds).toBe(true);
    expect(sectionPrefixes(scan, scan.nlri)).toEqual(['10.0.0.0/24#5', '10.0.0.0/24#6']);
  });

  it('an error leaves kind SCAN_ERROR with the same error decode() returns', () => {
    const broken = Buffer.from(bare);
    broken[48 + 3] = 0; // BGP marker
    const scan: BmpScan = new BmpSessionDecoder().scan(broken);
    expect(scan.kind).toBe(SCAN_ERROR);
    const result = new BmpSessionDecoder().decode(broken);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(scan.error).toEqual(result.error);
    expect(scan.error?.offset).toBe(48 + 3);
  });
});

function encodeUpdateAttribute(attribute: (typeof MANDATORY)[number]): Buffer {
  // The attribute bytes alone: an UPDATE with just this attribute, cut after the two length fields.
  const update = encodeUpdate({ attributes: [attribute] });
  return update.subarray(19 + 4);
}
