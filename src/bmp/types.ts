/**
 * Decoded BMP messages (RFC 7854, RFC 8671 Adj-RIB-Out, RFC 9069 Loc-RIB): one discriminated union on `type`.
 * These values feed the collector, the RIB and `bmpwatch decode`; they are plain JSON-safe data.
 */
import type { BgpMessage, BgpNotification, BgpOpen, BgpUpdate } from '../bgp/types.js';

export type PeerTypeName = 'global' | 'rd-instance' | 'local-instance' | 'loc-rib' | 'unknown';

/** Which RIB a Route Monitoring message describes, from the peer type and the L and O flags. */
export type RibTable = 'adj-rib-in-pre' | 'adj-rib-in-post' | 'adj-rib-out-pre' | 'adj-rib-out-post' | 'loc-rib';

export interface PerPeerHeader {
  readonly peerType: number;
  readonly peerTypeName: PeerTypeName;
  readonly flags: number;
  /** V flag: the peer address is IPv6 (not meaningful for Loc-RIB). */
  readonly ipv6: boolean;
  /** L flag: post-policy (RFC 7854 §4.2). */
  readonly postPolicy: boolean;
  /** A flag: AS_PATH uses legacy 2-octet ASNs. */
  readonly legacyAsPath: boolean;
  /** O flag: Adj-RIB-Out (RFC 8671). */
  readonly adjRibOut: boolean;
  /** F flag: Loc-RIB is filtered (RFC 9069 §4.2, peer type 3 only). */
  readonly filtered: boolean;
  readonly table: RibTable;
  /** Route distinguisher as text ("65000:100", "192.0.2.1:7", or hex for unknown types); "0:0" when zero. */
  readonly distinguisher: string;
  readonly address: string;
  readonly as: number;
  readonly bgpId: string;
  /** True for the all-zero peer header FRR uses for the route server's own routes. */
  readonly isLocal: boolean;
}

/**
 * Fields every per-peer message has. `peer` is shared between all messages with the same header (one frozen
 * object per peer and table), so consumers can key on it cheaply; the timestamp varies per message.
 */
export interface PeerMessageHead {
  readonly peer: PerPeerHeader;
  /** BMP timestamp (seconds, fractional). Information only: exporters send 0 or skewed values. */
  readonly timestamp: number;
}

export interface InformationTlv {
  readonly type: number;
  readonly name: string;
  /** UTF-8 text for string TLVs, hex otherwise. */
  readonly value: string;
}

export interface RouteMonitoringMessage extends PeerMessageHead {
  readonly type: 'route-monitoring';
  readonly update: BgpUpdate;
}

export interface Statistic {
  readonly type: number;
  readonly name: string;
  /** Counter or gauge value. 64-bit gauges beyond 2^53 lose precision (no real RIB gets there). */
  readonly value: number;
  readonly kind: 'counter' | 'gauge' | 'unknown';
  readonly afi?: number;
  readonly safi?: number;
  /** Raw value for types whose length we cannot interpret. */
  readonly hex?: string;
}

export interface StatisticsReportMessage extends PeerMessageHead {
  readonly type: 'statistics-report';
  readonly stats: Statistic[];
}

export interface PeerDownMessage extends PeerMessageHead {
  readonly type: 'peer-down';
  readonly reason: number;
  readonly reasonName: string;
  readonly notification?: BgpNotification;
  /** Reason 2: the FSM event that closed the session (RFC 4271 §8.1). */
  readonly fsmEventCode?: number;
  /** Reason 6 (RFC 9069): information TLVs. */
  readonly information?: InformationTlv[];
  /** Payload we could not interpret (e.g. a malformed NOTIFICATION), kept for evidence. */
  readonly dataHex?: string;
}

export interface PeerUpMessage extends PeerMessageHead {
  readonly type: 'peer-up';
  readonly localAddress: string;
  readonly localPort: number;
  readonly remotePort: number;
  readonly sentOpen: BgpOpen;
  readonly receivedOpen: BgpOpen;
  readonly information: InformationTlv[];
  /** VRF/Table name TLV (type 3, RFC 9069). */
  readonly tableName?: string;
  /** What the two OPENs negotiated: the decoder uses it for this peer's UPDATEs. */
  readonly negotiated: {
    readonly fourOctetAs: boolean;
    readonly extendedMessages: boolean;
    readonly addPathFromPeer: string[];
    readonly addPathToPeer: string[];
  };
}

export interface InitiationMessage {
  readonly type: 'initiation';
  readonly information: InformationTlv[];
  readonly sysName?: string;
  readonly sysDescr?: string;
}

export interface TerminationMessage {
  readonly type: 'termination';
  readonly information: InformationTlv[];
  readonly reason?: number;
  readonly reasonName?: string;
}

export type RouteMirroringItem =
  | { readonly type: 'bgp-message'; readonly message: BgpMessage }
  | { readonly type: 'bgp-message-error'; readonly detail: string; readonly hex: string }
  | { readonly type: 'information'; readonly code: number; readonly name: string }
  | { readonly type: 'unknown'; readonly tlvType: number; readonly hex: string };

export interface RouteMirroringMessage extends PeerMessageHead {
  readonly type: 'route-mirroring';
  readonly items: RouteMirroringItem[];
}

/** A message type we do not know: skipped by its length, as RFC 7854 §4.1 allows. */
export interface UnknownBmpMessage {
  readonly type: 'unknown';
  readonly messageType: number;
  readonly length: number;
}

export type BmpMessage =
  | RouteMonitoringMessage
  | StatisticsReportMessage
  | PeerDownMessage
  | PeerUpMessage
  | InitiationMessage
  | TerminationMessage
  | RouteMirroringMessage
  | UnknownBmpMessage;

export type BmpMessageType = BmpMessage['type'];
