/**
 * One BMP frame → BmpMessage (RFC 7854 §4). Frames come from framer.ts, so the common header is already known to
 * be sane and the frame holds exactly one message; every decoder below reads only inside [0, frame.length).
 *
 * BmpSessionDecoder is per BMP connection: it remembers what each peer's Peer Up negotiated (4-octet AS,
 * ADD-PATH per family and direction) because the layout of that peer's UPDATEs depends on it. It is pure state:
 * no I/O, no clock, no logging; errors come back as values with offsets relative to the frame.
 */
import { BMP_MSG } from './constants.js';
import { BMP_COMMON_HEADER_BYTES } from './framer.js';
import { decodePeerDown } from './peer-down.js';
import { decodePeerUp } from './peer-up.js';
import { checkPerPeerHeader, decodePeerIdentity, PEER_IDENTITY_BYTES, PER_PEER_HEADER_BYTES, readPeerTimestamp } from './per-peer-header.js';
import { decodeRouteMirroringItems } from './route-mirroring.js';
import { decodeStatistics } from './statistics-report.js';
import { decodeInitiation, decodeTermination } from './initiation-termination.js';
import type { BmpMessage, PeerMessageHead, PerPeerHeader } from './types.js';
import { BGP_TYPE, decodeBgpHeader } from '../bgp/message.js';
import { defaultSessionContext, type SessionContext } from '../bgp/session-context.js';
import { decodeUpdate, type UpdateDecodeOptions } from '../bgp/update.js';
import { decodeError, truncated } from '../wire/decode-error.js';
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

export class BmpSessionDecoder {
  private readonly sessions = new Map<string, SessionContext>();
  /** Decoded per-peer headers by their identity bytes: one shared object per peer and table. */
  private readonly peerHeaders = new Map<string, { readonly peer: PerPeerHeader; readonly key: string }>();

  /** Number of peers whose negotiated capabilities are known. */
  get knownPeers(): number {
    return this.sessions.size;
  }

  decode(frame: Buffer): Result<BmpMessage> {
    if (frame.length < BMP_COMMON_HEADER_BYTES) return err(truncated('bmp', 0, 'common header', BMP_COMMON_HEADER_BYTES, frame.length));
    const type = frame[5];
    const end = frame.length;
    const body = BMP_COMMON_HEADER_BYTES;
    switch (type) {
      case BMP_MSG.INITIATION:
        return decodeInitiation(frame, body, end);
      case BMP_MSG.TERMINATION:
        return decodeTermination(frame, body, end);
      case BMP_MSG.ROUTE_MONITORING:
      case BMP_MSG.STATISTICS_REPORT:
      case BMP_MSG.PEER_DOWN:
      case BMP_MSG.PEER_UP:
      case BMP_MSG.ROUTE_MIRRORING:
        return this.decodePeerMessage(frame, type, body, end);
      default:
        // RFC 7854 §4.1: unknown message types are ignored, skipped by their length.
        return ok({ type: 'unknown', messageType: type, length: end });
    }
  }

  private decodePeerMessage(frame: Buffer, type: number, start: number, end: number): Result<BmpMessage> {
    const bad = checkPerPeerHeader(frame, start, end);
    if (bad) return err(bad);
    const { peer, key } = this.peerHeader(frame, start);
    const head: PeerMessageHead = { peer, timestamp: readPeerTimestamp(frame, start) };
    const body = start + PER_PEER_HEADER_BYTES;
    switch (type) {
      case BMP_MSG.ROUTE_MONITORING:
        return this.decodeRouteMonitoring(frame, body, end, head, key);
      case BMP_MSG.STATISTICS_REPORT: {
        const stats = decodeStatistics(frame, body, end);
        return Array.isArray(stats) ? ok({ type: 'statistics-report', ...head, stats }) : err(stats);
      }
      case BMP_MSG.PEER_DOWN: {
        const down = decodePeerDown(frame, body, end, head);
        if (down.ok) this.sessions.delete(key);
        return down;
      }
      case BMP_MSG.PEER_UP: {
        const up = decodePeerUp(frame, body, end, head);
        if (!up.ok) return up;
        // A Peer Up for a peer already up replaces its context: FRR sends no Peer Down for dynamic neighbours.
        this.sessions.set(key, up.value.session);
        return ok(up.value.message);
      }
      default: {
        const items = decodeRouteMirroringItems(frame, body, end, this.updateOptions(peer, key));
        return Array.isArray(items) ? ok({ type: 'route-mirroring', ...head, items }) : err(items);
      }
    }
  }

  private peerHeader(frame: Buffer, start: number): { readonly peer: PerPeerHeader; readonly key: string } {
    const bytesKey = frame.toString('latin1', start, start + PEER_IDENTITY_BYTES);
    let entry = this.peerHeaders.get(bytesKey);
    if (entry === undefined) {
      if (this.peerHeaders.size >= MAX_CACHED_PEER_HEADERS) this.peerHeaders.clear();
      const peer = decodePeerIdentity(frame, start);
      entry = { peer, key: peerKeyOf(peer) };
      this.peerHeaders.set(bytesKey, entry);
    }
    return entry;
  }

  /** RFC 7854 §4.6: a Route Monitoring message carries exactly one BGP UPDATE PDU after the per-peer header. */
  private decodeRouteMonitoring(frame: Buffer, start: number, end: number, head: PeerMessageHead, key: string): Result<BmpMessage> {
    const header = decodeBgpHeader(frame, start, end);
    if (!header.ok) return header;
    if (header.value.type !== BGP_TYPE.UPDATE) {
      return err(decodeError('bmp', 'bad-message', start + 18, `route monitoring carries BGP type ${header.value.type}, not UPDATE`));
    }
    const updateEnd = start + header.value.length;
    if (updateEnd !== end) {
      return err(decodeError('bmp', 'length-mismatch', updateEnd, `${end - updateEnd} bytes follow the BGP UPDATE`));
    }
    const update = decodeUpdate(frame, start + 19, updateEnd, this.updateOptions(head.peer, key));
    return update.ok ? ok({ type: 'route-monitoring', ...head, update: update.value }) : update;
  }

  private updateOptions(peer: PerPeerHeader, key: string): UpdateDecodeOptions {
    let session = this.sessions.get(key);
    if (!session) {
      // GoBGP's Loc-RIB and peers whose Peer Up we missed: decode by the RFC defaults and the bytes.
      session = defaultSessionContext();
      if (this.sessions.size < MAX_CACHED_PEER_HEADERS) this.sessions.set(key, session);
    }
    return { session, direction: peer.adjRibOut ? 'to-peer' : 'from-peer', fourOctetAs: !peer.legacyAsPath };
  }
}
