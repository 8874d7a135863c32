/**
 * The collector's typed event stream: what rules, stores and metrics consume. One union on `type`.
 * Every event carries the router, the arrival time (`time`, ms since the epoch: used for ordering and windows)
 * and, where the BMP message had one, the BMP timestamp (`bmpTimestamp`, seconds: information only, since
 * exporters send 0 or skewed values).
 */
import type { Capability, BgpNotification } from '../bgp/types.js';
import type { PerPeerHeader, RibTable, Statistic } from '../bmp/types.js';
import type { DecodeError } from '../wire/decode-error.js';
import type { RouteAttributes } from './route-attributes.js';

export interface RouterRef {
  /** Unique per BMP connection: "address:port". */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** Name from the config, else the Initiation sysName, else the address. */
  readonly name: string;
}

/** A peer as events name it: identity without per-table flags. */
export interface PeerRef {
  readonly key: string;
  readonly address: string;
  readonly as: number;
  readonly bgpId: string;
  readonly peerType: number;
  readonly peerTypeName: PerPeerHeader['peerTypeName'];
  readonly distinguisher: string;
  /** The route server's own routes (all-zero peer header, or Loc-RIB). */
  readonly isLocal: boolean;
}

interface EventBase {
  readonly router: RouterRef;
  readonly time: number;
}

export type WithdrawCause = 'withdraw' | 'peer-down' | 'peer-reset' | 'router-down' | 'treat-as-withdraw';
export type RouterDownReason = 'termination' | 'closed' | 'framing-error' | 'limit' | 'shutdown' | 'socket-error';

export interface RouterUpEvent extends EventBase {
  readonly type: 'router-up';
}
export interface RouterInitiationEvent extends EventBase {
  readonly type: 'router-initiation';
  readonly sysName?: string;
  readonly sysDescr?: string;
}
export interface RouterDownEvent extends EventBase {
  readonly type: 'router-down';
  readonly reason: RouterDownReason;
  readonly detail: string;
  readonly peers: number;
  readonly routes: number;
}
export interface PeerUpEvent extends EventBase {
  readonly type: 'peer-up';
  readonly peer: PeerRef;
  readonly bmpTimestamp: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remotePort: number;
  readonly sentCapabilities: readonly Capability[];
  readonly receivedCapabilities: readonly Capability[];
  readonly holdTime: number;
  readonly tableName?: string;
  /** True when the peer was already up: FRR signals a dynamic neighbour's new session only this way. */
  readonly reset: boolean;
}
export interface PeerDownEvent extends EventBase {
  readonly type: 'peer-down';
  readonly peer: PeerRef;
  readonly bmpTimestamp: number;
  /** BMP reason 1-6; 0 when implied (a Peer Up for a peer already up). */
  readonly reason: number;
  readonly reasonName: string;
  readonly notification?: BgpNotification;
  readonly fsmEventCode?: number;
  /** False for a Peer Down of a peer never seen up (FRR sends those for configured peers at session start). */
  readonly wasUp: boolean;
  readonly implied: boolean;
  readonly routesRemoved: number;
  /** Milliseconds the session was up, when known. */
  readonly upDurationMs?: number;
}
interface RouteEventBase extends EventBase {
  readonly peer: PeerRef;
  readonly table: RibTable;
  readonly prefix: string;
  readonly pathId?: number;
  readonly bmpTimestamp: number;
  /** Part of the initial table dump after Peer Up (or after the router connected): not a real change. */
  readonly initialSync: boolean;
}
export interface RouteAnnouncedEvent extends RouteEventBase {
  readonly type: 'route-announced';
  readonly attributes: RouteAttributes;
}
export interface RouteChangedEvent extends RouteEventBase {
  readonly type: 'route-changed';
  readonly attributes: RouteAttributes;
  readonly previous: RouteAttributes;
}
export interface RouteWithdrawnEvent extends RouteEventBase {
  readonly type: 'route-withdrawn';
  readonly previous: RouteAttributes;
  readonly cause: WithdrawCause;
}
export interface EndOfRibEvent extends EventBase {
  readonly type: 'end-of-rib';
  readonly peer: PeerRef;
  readonly table: RibTable;
  readonly afi: number;
  readonly safi: number;
}
export interface StatisticsEvent extends EventBase {
  readonly type: 'statistics';
  readonly peer: PeerRef;
  readonly bmpTimestamp: number;
  readonly stats: readonly Statistic[];
}
export interface DecodeErrorEvent extends EventBase {
  readonly type: 'decode-error';
  readonly error: DecodeError;
  /** Stream offset of the message the error is in (error.offset is relative to that message). */
  readonly streamOffset: number;
}
export interface UpdateWarningEvent extends EventBase {
  readonly type: 'update-warning';
  readonly peer: PeerRef;
  readonly table: RibTable;
  readonly detail: string;
  readonly action: string;
}

export type CollectorEvent =
  | RouterUpEvent
  | RouterInitiationEvent
  | RouterDownEvent
  | PeerUpEvent
  | PeerDownEvent
  | RouteAnnouncedEvent
  | RouteChangedEvent
  | RouteWithdrawnEvent
  | EndOfRibEvent
  | StatisticsEvent
  | DecodeErrorEvent
  | UpdateWarningEvent;

export type CollectorEventType = CollectorEvent['type'];
export type EventSink = (event: CollectorEvent) => void;
