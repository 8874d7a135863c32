/**
 * One BMP frame → BmpMessage (RFC 7854 §4). Frames come from framer.ts, so the common header is already known to
 * be sane and the frame holds exactly one message; every decoder below reads only inside [0, frame.length).
 *
 * Two entry points: `scan` decodes and checks a frame without building values for Route Monitoring (the bulk of
 * a stream): the result is a reused BmpScan whose UpdateScan holds numbers, byte ranges and a prefix index;
 * `decode` is `scan` plus materializing JSON-safe values. Other message types are rare and always materialized.
 *
 * BmpSessionDecoder is per BMP connection: it remembers what each peer's Peer Up negotiated (4-octet AS,
 * ADD-PATH per family and direction) because the layout of that peer's UPDATEs depends on it. It is pure state:
 * no I/O, no clock, no logging; errors come back as values with offsets relative to the frame.
 */
import { BMP_MSG } from './constants.js';
import { BMP_COMMON_HEADER_BYTES } from './framer.js';
import { BGP_HEADER_BYTES } from '../bgp/message.js';
import { decodePeerDown } from './peer-down.js';
import { decodePeerUp } from './peer-up.js';
import { checkPerPeerHeader, decodePeerIdentity, PEER_IDENTITY_BYTES, PER_PEER_HEADER_BYTES, readPeerTimestamp } from './per-peer-header.js';
import { decodeRouteMirroringItems } from './route-mirroring.js';
import { decodeStatistics } from './statistics-report.js';
import { decodeInitiation, decodeTermination } from './initiation-termination.js';
import type { BmpMessage, PeerMessageHead, PerPeerHeader } from './types.js';
import { BGP_TYPE } from '../bgp/message.js';
import { defaultSessionContext, type SessionContext } from '../bgp/session-context.js';
import { materializeUpdate, type UpdateDecodeOptions } from '../bgp/update.js';
import { fillUpdateScan, observedAddPathChanges, scanUpdate, UpdateScan } from '../bgp/update-scan.js';
import { directionalKey, familyKey } from '../bgp/session-context.js';
import {
  FAST_FAMILIES,
  FAST_INPUT_BYTES,
  fastScanModule,
  OPT_EXPECTED_SHIFT,
  OPT_FOUR_OCTET_AS,
  OPT_KNOWN_SHIFT,
  OPT_PREVIOUS_SHIFT,
  OPT_TO_PEER,
  REC_FRAME,
  REC_LENGTH,
  REC_PEER,
  REC_PREFIX_COUNT,
  REC_SIZE,
  STOP_DEFER,
  STOP_FULL,
  STOP_PARTIAL,
  type FastScanModule,
} from './fast-scan.js';
import { decodeError, truncated, type DecodeError } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

/** Identity of a peer within one BMP session (RFC 7854 §4.2: type, distinguisher and address). */
export function peerKeyOf(peer: PerPeerHeader): string {
  return `${peer.peerType}|${peer.distinguisher}|${peer.address}`;
}

/**
 * Distinct per-peer headers remembered per session. Real routers have at most a few thousand peers x tables; the
 * cap only stops a hostile stream of ever-new headers from growing memory (past it, entries are rebuilt).
 */
const MAX_CACHED_PEER_HEADERS = 65_536;

/** What `scan` found: a Route Monitoring message described by the scan, another message decoded, or an error. */
export const SCAN_ROUTE_MONITORING = 0;
export const SCAN_MESSAGE = 1;
export const SCAN_ERROR = 2;

/** Result of BmpSessionDecoder.scan; one per decoder, overwritten by the next scan. */
export class BmpScan {
  kind = SCAN_ERROR;
  /** Route Monitoring: the peer (shared object per peer and table), the timestamp, and the UPDATE. */
  peer: PerPeerHeader | undefined = undefined;
  timestamp = 0;
  readonly update = new UpdateScan();
  /** SCAN_MESSAGE: the decoded message. */
  message: BmpMessage | undefined = undefined;
  /** SCAN_ERROR: what was wrong. */
  error: DecodeError | undefined = undefined;
}

interface PeerEntry {
  readonly peer: PerPeerHeader;
  readonly key: string;
  /** The peer's decode options as of `version` (BmpSessionDecoder.sessionsVersion). */
  options: UpdateDecodeOptions | undefined;
  version: number;
}

/** Big-endian 32-bit word as a signed int (no bounds checks: callers checked the length). */
function readWord(buf: Buffer, at: number): number {
  return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
}

/** Front cache of per-peer headers: direct-mapped by a hash of the identity bytes, so a hit allocates nothing. */
const PEER_SLOTS = 1024;
/** PEER_IDENTITY_BYTES (34) as 8 words and a half word. */
const PEER_SLOT_WORDS = 9;

/**
 * Peers (per table: each peer address x RIB) the fast path's table holds before it is cleared and refilled. Its
 * 4,096 slots (192 KiB) are probed linearly, so it stays at most half full; a route server with more peers x tables
 * than this refills it now and then, which costs a TypeScript lookup per peer, not correctness.
 */
const MAX_FAST_PEERS = 2048;

export interface BmpSessionDecoderOptions {
  /** Scan runs of frames in WebAssembly (fast-scan.ts); default true unless BMPWATCH_DECODER=typescript. */
  readonly fastPath?: boolean;
}

/** Visits each message of BmpSessionDecoder.scanFrames: the scan (valid until the next one) and the frame. */
export type ScanVisitor = (scan: BmpScan, frameStart: number, frameLength: number) => void;

const tableFinalizer = new FinalizationRegistry<{ fast: FastScanModule; table: number }>(({ fast, table }) => fast.releaseTable(table));

export class BmpSessionDecoder {
  private readonly sessions = new Map<string, SessionContext>();
  /** Bumped whenever `sessions` changes, so cached session lookups know they are stale. */
  private sessionsVersion = 0;
  /** Decoded per-peer headers by their identity bytes: one shared object per peer and table. */
  private readonly peerHeaders = new Map<string, PeerEntry>();
  private readonly slotWords = new Int32Array(PEER_SLOTS * PEER_SLOT_WORDS);
  private readonly slotEntries: (PeerEntry | undefined)[] = new Array<PeerEntry | undefined>(PEER_SLOTS);
  private readonly result = new BmpScan();
  private readonly fast: FastScanModule | null;
  /** This decoder's peer table in the fast path's memory, and the peers its slots name. */
  private fastTable = -1;
  private readonly fastPeers: PeerEntry[] = [];
  /** What the table copies was taken at these versions of the sessions and of the remembered layouts. */
  private fastVersion = -1;
  private observedVersion = observedAddPathChanges;
  /** decode() through scanFrames: the value of its one message. */
  private kept: Result<BmpMessage> | undefined;
  private readonly keepValue: ScanVisitor = (scan) => {
    this.kept = this.valueOf(scan);
  };
  /** Messages scanned and prefixes indexed by scanFrames (both paths), for the bench and the tests. */
  readonly scanned = { messages: 0, fastMessages: 0, prefixes: 0, errors: 0 };

  constructor(options: BmpSessionDecoderOptions = {}) {
    this.fast = options.fastPath === false ? null : fastScanModule();
  }

  /** This decoder's peer table in the fast path's memory, allocated on first use. */
  private tableIn(fast: FastScanModule): number {
    if (this.fastTable < 0) {
      this.fastTable = fast.allocateTable();
      // A decoder nobody disposed of gives its table back when it is collected.
      tableFinalizer.register(this, { fast, table: this.fastTable }, this);
    }
    return this.fastTable;
  }

  /** Give the fast path's peer table back (the decoder still works: it takes a new one if used again). */
  dispose(): void {
    if (this.fast === null || this.fastTable < 0) return;
    tableFinalizer.unregister(this);
    this.fast.releaseTable(this.fastTable);
    this.fastTable = -1;
    this.fastPeers.length = 0;
    this.fastVersion = -1;
  }

  /** True when scanFrames uses the WebAssembly fast path. */
  get fastPath(): boolean {
    return this.fast !== null;
  }

  /** Number of peers whose negotiated capabilities are known. */
  get knownPeers(): number {
    return this.sessions.size;
  }

  decode(frame: Buffer): Result<BmpMessage> {
    // A whole frame as the framer gives it goes through scanFrames (and so the fast path); anything else, such as
    // a test's hand-cut buffer whose header disagrees with its length, straight to `scan`.
    if (this.fast === null || frame.length < BMP_COMMON_HEADER_BYTES || frame.readUInt32BE(1) !== frame.length || frame[0] !== 3) return this.valueOf(this.scan(frame));
    this.scanFrames(frame, 0, frame.length, this.keepValue);
    return this.kept as Result<BmpMessage>;
  }

  /** The message a scan describes, as JSON-safe values (Route Monitoring materialized from its UpdateScan). */
  valueOf(scan: BmpScan): Result<BmpMessage> {
    if (scan.kind === SCAN_MESSAGE) return ok(scan.message as BmpMessage);
    if (scan.kind === SCAN_ERROR) return err(scan.error as DecodeError);
    const peer = scan.peer as PerPeerHeader;
    return ok({ type: 'route-monitoring', peer, timestamp: scan.timestamp, update: materializeUpdate(scan.update) });
  }

  /** Decode and check one frame; Route Monitoring is left in scan form (see BmpScan). */
  scan(frame: Buffer): BmpScan {
    const result = this.result;
    if (frame.length < BMP_COMMON_HEADER_BYTES) return this.failed(truncated('bmp', 0, 'common header', BMP_COMMON_HEADER_BYTES, frame.length));
    const type = frame[5];
    const end = frame.length;
    const body = BMP_COMMON_HEADER_BYTES;
    switch (type) {
      case BMP_MSG.ROUTE_MONITORING:
        return this.scanRouteMonitoring(frame, body, end, result);
      case BMP_MSG.INITIATION:
        return this.settled(decodeInitiation(frame, body, end));
      case BMP_MSG.TERMINATION:
        return this.settled(decodeTermination(frame, body, end));
      case BMP_MSG.STATISTICS_REPORT:
      case BMP_MSG.PEER_DOWN:
      case BMP_MSG.PEER_UP:
      case BMP_MSG.ROUTE_MIRRORING:
        return this.settled(this.decodePeerMessage(frame, type, body, end));
      default:
        // RFC 7854 §4.1: unknown message types are ignored, skipped by their length.
        return this.settled(ok({ type: 'unknown', messageType: type, length: end }));
    }
  }

  /**
   * Scan the whole BMP frames in data[start, end) (their common headers checked by the framer, as BmpFramer.pushRuns
   * gives them), calling `visit` for each message in order. The fast path scans Route Monitoring of known peers in
   * WebAssembly, a run at a time; every other message, and every one it does not accept, goes through `scan`.
   * Without a visitor nothing is built in JavaScript for the accepted messages: their records stay in the module.
   */
  scanFrames(data: Buffer, start: number, end: number, visit?: ScanVisitor): void {
    const fast = this.fast;
    // The module's input and records are shared: a visitor that decodes another stream goes through TypeScript.
    if (fast === null || fast.busy || fast.broken) {
      this.scanAllInTypeScript(data, start, end, visit);
      return;
    }
    fast.busy = true;
    try {
      this.scanFast(fast, data, start, end, visit);
    } finally {
      fast.busy = false;
    }
  }

  private scanFast(fast: FastScanModule, data: Buffer, start: number, end: number, visit: ScanVisitor | undefined): void {
    const { exports, inputAt } = fast;
    const table = this.tableIn(fast);
    this.syncFastTable(fast);
    let pos = start;
    while (pos < end) {
      const available = Math.min(end - pos, FAST_INPUT_BYTES);
      fast.u8.set(data.subarray(pos, pos + available), inputAt);
      let from = 0;
      for (;;) {
        let count: number;
        try {
          count = exports.scan_frames(table, from, available);
        } catch {
          // A trap cannot happen by construction (every access is bounds-checked). Should one happen, the process
          // stops using the module and this run goes on in TypeScript from the first message not yet visited.
          fast.broken = true;
          this.scanAllInTypeScript(data, pos + from, end, visit);
          return;
        }
        if (count > 0) this.acceptRecords(fast, count, data, pos, visit);
        // A visitor may dispose of the decoder (its connection closed): stop there.
        if (this.fastTable !== table) return;
        const reason = fast.stopReason;
        const at = fast.stopPos;
        if (reason === STOP_FULL && count > 0) {
          from = at;
          continue;
        }
        // STOP_FULL with nothing written cannot happen (an accepted frame always fits in empty buffers); should it,
        // the frame goes to TypeScript like a deferred one rather than being retried for ever.
        if (reason === STOP_DEFER || reason === STOP_FULL) {
          if (reason === STOP_DEFER && fast.stopSlot >= 0) {
            this.addFastPeer(fast, data, pos + at, at);
            from = at;
            continue;
          }
          const length = data.readUInt32BE(pos + at + 1);
          this.scanInTypeScript(data, pos + at, length, visit);
          if (this.fastTable !== table) return;
          this.syncFastTable(fast);
          from = at + length;
          if (from < available) continue;
        } else if (reason === STOP_PARTIAL && at === 0) {
          // One frame larger than the module's input: TypeScript decodes it.
          const length = data.readUInt32BE(pos + 1);
          this.scanInTypeScript(data, pos, length, visit);
          if (this.fastTable !== table) return;
          this.syncFastTable(fast);
          from = length;
        } else {
          from = at;
        }
        break;
      }
      pos += from;
    }
  }

  private scanAllInTypeScript(data: Buffer, start: number, end: number, visit: ScanVisitor | undefined): void {
    for (let pos = start; pos < end; ) {
      const length = data.readUInt32BE(pos + 1);
      this.scanInTypeScript(data, pos, length, visit);
      pos += length;
    }
  }

  private scanInTypeScript(data: Buffer, frameStart: number, length: number, visit: ScanVisitor | undefined): void {
    const scan = this.scan(data.subarray(frameStart, frameStart + length));
    this.scanned.messages++;
    if (scan.kind === SCAN_ERROR) this.scanned.errors++;
    else if (scan.kind === SCAN_ROUTE_MONITORING) {
      const update = scan.update;
      this.scanned.prefixes += update.nlri.count + update.mpReachNlri.count + update.withdrawnRoutes.count + update.mpUnreachNlri.count;
    }
    visit?.(scan, frameStart, length);
  }

  /**
   * The module missed the peer of the Route Monitoring frame at data[frameStart] (input[inputAt]), whose headers it
   * found sound: give it the peer and what its session negotiated and showed, looked up as `scan` would at this
   * point (which may create the default session of a peer seen without Peer Up).
   */
  private addFastPeer(fast: FastScanModule, data: Buffer, frameStart: number, inputAt: number): void {
    const entry = this.peerEntry(data, frameStart + BMP_COMMON_HEADER_BYTES);
    const options = this.updateOptions(entry);
    this.syncFastTable(fast);
    const { session } = options;
    const toPeer = options.direction === 'to-peer';
    const negotiated = toPeer ? session.addPathToPeer : session.addPathFromPeer;
    let bits = (options.fourOctetAs ? OPT_FOUR_OCTET_AS : 0) | (toPeer ? OPT_TO_PEER : 0);
    for (let bit = 0; bit < FAST_FAMILIES.length; bit++) {
      const [afi, safi] = FAST_FAMILIES[bit];
      if (negotiated.has(familyKey(afi, safi))) bits |= 1 << (OPT_EXPECTED_SHIFT + bit);
      const previous = session.observedAddPath.get(directionalKey(options.direction, afi, safi));
      if (previous !== undefined) bits |= (1 << (OPT_KNOWN_SHIFT + bit)) | (previous ? 1 << (OPT_PREVIOUS_SHIFT + bit) : 0);
    }
    // The slot is looked up now: looking up the options may have cleared the table (a new default session).
    const identityAt = inputAt + BMP_COMMON_HEADER_BYTES;
    fast.exports.register_peer(this.fastTable, fast.exports.slot_of(this.fastTable, identityAt), identityAt, this.fastPeers.length, bits);
    this.fastPeers.push(entry);
  }

  /** Clear the table when what it copies may have changed (also after `scan` calls outside scanFrames). */
  private syncFastTable(fast: FastScanModule): void {
    if (this.fastVersion === this.sessionsVersion && this.observedVersion === observedAddPathChanges && this.fastPeers.length < MAX_FAST_PEERS) return;
    fast.exports.clear_table(this.fastTable);
    this.fastPeers.length = 0;
    this.fastVersion = this.sessionsVersion;
    this.observedVersion = observedAddPathChanges;
  }

  /** Count the records the module wrote and, with a visitor, hand each message to it as a filled BmpScan. */
  private acceptRecords(fast: FastScanModule, count: number, data: Buffer, base: number, visit: ScanVisitor | undefined): void {
    const i32 = fast.i32;
    let at = fast.recordsAt >> 2;
    this.scanned.messages += count;
    this.scanned.fastMessages += count;
    if (visit === undefined) {
      for (let k = 0; k < count; k++) {
        this.scanned.prefixes += i32[at + REC_PREFIX_COUNT];
        at += i32[at + REC_SIZE];
      }
      return;
    }
    const u32 = fast.u32;
    const prefixesAt = fast.prefixesAt >> 2;
    const result = this.result;
    for (let k = 0; k < count; k++) {
      const frameStart = base + i32[at + REC_FRAME];
      const length = i32[at + REC_LENGTH];
      const entry = this.fastPeers[i32[at + REC_PEER]];
      const frame = data.subarray(frameStart, frameStart + length);
      fillUpdateScan(result.update, frame, !entry.peer.legacyAsPath, i32, u32, at, prefixesAt);
      this.scanned.prefixes += result.update.prefixes.count;
      result.kind = SCAN_ROUTE_MONITORING;
      result.peer = entry.peer;
      result.timestamp = (readWord(frame, 40) >>> 0) + (readWord(frame, 44) >>> 0) / 1e6;
      result.message = undefined;
      result.error = undefined;
      visit(result, frameStart, length);
      if (this.fastPeers.length === 0) return; // disposed by the visitor
      at += i32[at + REC_SIZE];
    }
  }

  private failed(error: DecodeError): BmpScan {
    const result = this.result;
    result.kind = SCAN_ERROR;
    result.error = error;
    result.message = undefined;
    return result;
  }

  private settled(decoded: Result<BmpMessage>): BmpScan {
    if (!decoded.ok) return this.failed(decoded.error);
    const result = this.result;
    result.kind = SCAN_MESSAGE;
    result.message = decoded.value;
    result.error = undefined;
    return result;
  }

  /** RFC 7854 §4.6: a Route Monitoring message carries exactly one BGP UPDATE PDU after the per-peer header. */
  private scanRouteMonitoring(frame: Buffer, start: number, end: number, result: BmpScan): BmpScan {
    const bad = checkPerPeerHeader(frame, start, end);
    if (bad) return this.failed(bad);
    const entry = this.peerEntry(frame, start);
    const bgp = start + PER_PEER_HEADER_BYTES;
    if (end - bgp < BGP_HEADER_BYTES) return this.failed(truncated('bgp', bgp, 'BGP header', BGP_HEADER_BYTES, end - bgp));
    if ((readWord(frame, bgp) & readWord(frame, bgp + 4) & readWord(frame, bgp + 8) & readWord(frame, bgp + 12)) !== -1) {
      let at = bgp;
      while (frame[at] === 0xff) at++;
      return this.failed(decodeError('bgp', 'bad-marker', at, 'BGP marker is not all ones'));
    }
    const length = (frame[bgp + 16] << 8) | frame[bgp + 17];
    if (length < BGP_HEADER_BYTES) return this.failed(decodeError('bgp', 'bad-bgp-length', bgp + 16, `BGP length ${length} is below the 19-byte header`));
    if (length > end - bgp) return this.failed(truncated('bgp', bgp + 16, 'BGP message', length, end - bgp));
    const bgpType = frame[bgp + 18];
    if (bgpType !== BGP_TYPE.UPDATE) {
      return this.failed(decodeError('bmp', 'bad-message', bgp + 18, `route monitoring carries BGP type ${bgpType}, not UPDATE`));
    }
    const updateEnd = bgp + length;
    if (updateEnd !== end) return this.failed(decodeError('bmp', 'length-mismatch', updateEnd, `${end - updateEnd} bytes follow the BGP UPDATE`));
    const options = this.updateOptions(entry);
    const problem = scanUpdate(frame, bgp + BGP_HEADER_BYTES, updateEnd, options, result.update);
    if (problem) return this.failed(problem);
    result.kind = SCAN_ROUTE_MONITORING;
    result.peer = entry.peer;
    result.timestamp = (readWord(frame, start + 34) >>> 0) + (readWord(frame, start + 38) >>> 0) / 1e6;
    result.message = undefined;
    result.error = undefined;
    return result;
  }

  private decodePeerMessage(frame: Buffer, type: number, start: number, end: number): Result<BmpMessage> {
    const bad = checkPerPeerHeader(frame, start, end);
    if (bad) return err(bad);
    const entry = this.peerEntry(frame, start);
    const { peer, key } = entry;
    const head: PeerMessageHead = { peer, timestamp: readPeerTimestamp(frame, start) };
    const body = start + PER_PEER_HEADER_BYTES;
    switch (type) {
      case BMP_MSG.STATISTICS_REPORT: {
        const stats = decodeStatistics(frame, body, end);
        return Array.isArray(stats) ? ok({ type: 'statistics-report', ...head, stats }) : err(stats);
      }
      case BMP_MSG.PEER_DOWN: {
        const down = decodePeerDown(frame, body, end, head);
        if (down.ok && this.sessions.delete(key)) this.sessionsVersion++;
        return down;
      }
      case BMP_MSG.PEER_UP: {
        const up = decodePeerUp(frame, body, end, head);
        if (!up.ok) return up;
        // A Peer Up for a peer already up replaces its context: FRR sends no Peer Down for dynamic neighbours.
        this.sessions.set(key, up.value.session);
        this.sessionsVersion++;
        return ok(up.value.message);
      }
      default: {
        const items = decodeRouteMirroringItems(frame, body, end, this.updateOptions(entry));
        return Array.isArray(items) ? ok({ type: 'route-mirroring', ...head, items }) : err(items);
      }
    }
  }

  /** The shared per-peer header for the identity bytes at `start`: the front cache, else the map, else decoded. */
  private peerEntry(frame: Buffer, start: number): PeerEntry {
    // The 34 identity bytes as 8 words and a half word: compared word by word, the slot picked by their hash.
    const w0 = readWord(frame, start);
    const w1 = readWord(frame, start + 4);
    const w2 = readWord(frame, start + 8);
    const w3 = readWord(frame, start + 12);
    const w4 = readWord(frame, start + 16);
    const w5 = readWord(frame, start + 20);
    const w6 = readWord(frame, start + 24);
    const w7 = readWord(frame, start + 28);
    const w8 = (frame[start + 32] << 8) | frame[start + 33];
    let hash = Math.imul(w0 ^ w1 ^ w2, 0x9e3779b1);
    hash = Math.imul(hash ^ w3 ^ w4, 0x85ebca6b);
    hash = Math.imul(hash ^ w5 ^ w6, 0xc2b2ae35);
    hash = Math.imul(hash ^ w7 ^ w8, 0x27d4eb2f);
    hash ^= hash >>> 15;
    const slot = (hash >>> 22) & (PEER_SLOTS - 1);
    const words = this.slotWords;
    const base = slot * PEER_SLOT_WORDS;
    const cached = this.slotEntries[slot];
    if (
      cached !== undefined &&
      words[base] === w0 &&
      words[base + 1] === w1 &&
      words[base + 2] === w2 &&
      words[base + 3] === w3 &&
      words[base + 4] === w4 &&
      words[base + 5] === w5 &&
      words[base + 6] === w6 &&
      words[base + 7] === w7 &&
      words[base + 8] === w8
    ) {
      return cached;
    }
    const bytesKey = frame.toString('latin1', start, start + PEER_IDENTITY_BYTES);
    let entry = this.peerHeaders.get(bytesKey);
    if (entry === undefined) {
      if (this.peerHeaders.size >= MAX_CACHED_PEER_HEADERS) this.peerHeaders.clear();
      const peer = decodePeerIdentity(frame, start);
      entry = { peer, key: peerKeyOf(peer), options: undefined, version: -1 };
      this.peerHeaders.set(bytesKey, entry);
    }
    words[base] = w0;
    words[base + 1] = w1;
    words[base + 2] = w2;
    words[base + 3] = w3;
    words[base + 4] = w4;
    words[base + 5] = w5;
    words[base + 6] = w6;
    words[base + 7] = w7;
    words[base + 8] = w8;
    this.slotEntries[slot] = entry;
    return entry;
  }

  private updateOptions(entry: PeerEntry): UpdateDecodeOptions {
    if (entry.version === this.sessionsVersion && entry.options !== undefined) return entry.options;
    let session = this.sessions.get(entry.key);
    if (!session) {
      // GoBGP's Loc-RIB and peers whose Peer Up we missed: decode by the RFC defaults and the bytes.
      session = defaultSessionContext();
      if (this.sessions.size < MAX_CACHED_PEER_HEADERS) {
        this.sessions.set(entry.key, session);
        this.sessionsVersion++;
      }
    }
    const { peer } = entry;
    entry.options = { session, direction: peer.adjRibOut ? 'to-peer' : 'from-peer', fourOctetAs: !peer.legacyAsPath };
    entry.version = this.sessionsVersion;
    return entry.options;
  }
}
