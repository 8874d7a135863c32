/** IANA "BGP Monitoring Protocol (BMP) Parameters" tables, with the names operators see in output. */

export const BMP_MSG = {
  ROUTE_MONITORING: 0,
  STATISTICS_REPORT: 1,
  PEER_DOWN: 2,
  PEER_UP: 3,
  INITIATION: 4,
  TERMINATION: 5,
  ROUTE_MIRRORING: 6,
} as const;

export const PEER_TYPE_NAMES = ['global', 'rd-instance', 'local-instance', 'loc-rib'] as const;
export const PEER_TYPE_LOC_RIB = 3;

/** Per-peer header flags (RFC 7854 §4.2, RFC 8671 §4, RFC 9069 §4.2). */
export const PEER_FLAG = { V: 0x80, L: 0x40, A: 0x20, O: 0x10, F_LOC_RIB: 0x80 } as const;

export const PEER_DOWN_REASONS: Record<number, string> = {
  1: 'local system closed, NOTIFICATION follows',
  2: 'local system closed, FSM event follows',
  3: 'remote system closed, NOTIFICATION follows',
  4: 'remote system closed, no data',
  5: 'peer de-configured',
  6: 'local system closed, TLV data follows',
};

export const INITIATION_TLV_NAMES: Record<number, string> = { 0: 'string', 1: 'sysDescr', 2: 'sysName' };
export const TERMINATION_TLV_NAMES: Record<number, string> = { 0: 'string', 1: 'reason' };
export const PEER_UP_TLV_NAMES: Record<number, string> = { 0: 'string', 3: 'vrf-table-name' };

export const TERMINATION_REASONS: Record<number, string> = {
  0: 'session administratively closed',
  1: 'unspecified reason',
  2: 'out of resources',
  3: 'redundant connection',
  4: 'session permanently administratively closed',
};

export const ROUTE_MIRRORING_INFO: Record<number, string> = { 0: 'errored PDU', 1: 'messages lost' };

/** Statistics types (RFC 7854 §4.8, RFC 8671 §5, RFC 9972). Values are decoded by their length. */
export const STAT_NAMES: Record<number, string> = {
  0: 'prefixes rejected by inbound policy',
  1: 'duplicate prefix advertisements',
  2: 'duplicate withdraws',
  3: 'updates invalidated by CLUSTER_LIST loop',
  4: 'updates invalidated by AS_PATH loop',
  5: 'updates invalidated by ORIGINATOR_ID',
  6: 'updates invalidated by AS_CONFED loop',
  7: 'routes in Adj-RIBs-In',
  8: 'routes in Loc-RIB',
  9: 'routes in per-AFI/SAFI Adj-RIB-In',
  10: 'routes in per-AFI/SAFI Loc-RIB',
  11: 'updates subjected to treat-as-withdraw',
  12: 'prefixes subjected to treat-as-withdraw',
  13: 'duplicate update messages received',
  14: 'routes in pre-policy Adj-RIB-Out',
  15: 'routes in post-policy Adj-RIB-Out',
  16: 'routes in per-AFI/SAFI pre-policy Adj-RIB-Out',
  17: 'routes in per-AFI/SAFI post-policy Adj-RIB-Out',
  18: 'routes in pre-policy Adj-RIB-In',
  19: 'routes in per-AFI/SAFI pre-policy Adj-RIB-In',
  20: 'routes in post-policy Adj-RIB-In',
  21: 'routes in per-AFI/SAFI post-policy Adj-RIB-In',
};
