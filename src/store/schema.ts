/**
 * The InfluxDB measurement schema, in one place: every measurement, tag and field bmpwatch writes, with units.
 * The point builders (./influx/points.ts), the InfluxDB history queries and the Grafana dashboards all take their
 * names from here; nothing else spells them.
 *
 * Tags are indexed and every distinct combination is a series held in InfluxDB's memory, so a value is a tag only
 * when queries filter or group by it AND it has few values: routers, peers (appliances: hundreds to thousands),
 * tables, families, event types, statistic names, rules, severities. Prefixes, next hops, AS paths and free text
 * are fields: a tag per prefix would grow the series index without bound.
 */

export const MEASUREMENTS = {
  /** One point per connected route server per metrics interval. */
  router: 'bmp_router',
  /** One point per peer (appliance session) per route server per metrics interval. */
  peer: 'bmp_peer',
  /** Prefix counts per peer, table and family per metrics interval. */
  peerPrefixes: 'bmp_peer_prefixes',
  /** BMP Statistics Reports as the route server sent them: one point per statistic. */
  statistics: 'bmp_statistics',
  /** History events: sessions, routes, alert transitions (see src/store/history-event.ts). */
  events: 'bmp_events',
  /** The collector's own health per metrics interval. */
  collector: 'bmpwatch_collector',
} as const;

export const TAGS = {
  /** Route server name (config name, Initiation sysName, else address). */
  router: 'router',
  /** Peer (appliance session) address. */
  peer: 'peer',
  peerAs: 'peer_as',
  peerBgpId: 'peer_bgp_id',
  /** global, rd-instance, local-instance, loc-rib. */
  peerType: 'peer_type',
  /** adj-rib-in-pre, adj-rib-in-post, loc-rib, adj-rib-out-pre, adj-rib-out-post. */
  table: 'table',
  /** ipv4, ipv6. */
  family: 'family',
  /** Statistic name (RFC 7854 / IANA BMP statistics types), e.g. rejected-prefixes. */
  stat: 'stat',
  /** "afi/safi" of a per-AFI/SAFI statistic, else absent. */
  afiSafi: 'afi_safi',
  /** History event type (HISTORY_EVENT_TYPES). */
  type: 'type',
  /** Alert rule and severity (alert events only). */
  rule: 'rule',
  severity: 'severity',
  /** The bmpwatch instance that wrote the point (storage.influx.instance; scale-out). */
  instance: 'instance',
} as const;

export const FIELDS = {
  router: {
    /** 1 while the BMP session is connected. Integer. */
    up: 'up',
    uptimeSeconds: 'uptime_s',
    /** Cumulative since the BMP session started: use non_negative_difference(). Integer. */
    messages: 'messages',
    bytes: 'bytes',
    decodeErrors: 'decode_errors',
    peers: 'peers',
    peersUp: 'peers_up',
    routes: 'routes',
    address: 'address',
  },
  peer: {
    /** 1 while the BGP session is up. Integer. */
    up: 'up',
    uptimeSeconds: 'uptime_s',
    /** Session resets seen since the BMP session started (cumulative). Integer. */
    resets: 'resets',
    /** Route events in this metrics interval (counts, not cumulative): use sum(). Integer. */
    announcements: 'announcements',
    withdrawals: 'withdrawals',
    changes: 'changes',
    /** The route-flap rule's highest figure of merit among the appliance's prefixes, decayed to now. Float. */
    flapMerit: 'flap_merit',
  },
  peerPrefixes: {
    /** Routes held in that table and family. Integer. */
    prefixes: 'prefixes',
  },
  statistics: {
    /** The statistic's value (counter or gauge as the route server sent it). Float. */
    value: 'value',
  },
  events: {
    /** Always present (InfluxQL needs a field to count). String. */
    routerAddress: 'router_address',
    prefix: 'prefix',
    pathId: 'path_id',
    nextHop: 'next_hop',
    asPath: 'as_path',
    /** Boolean: part of an initial table dump. */
    sync: 'sync',
    detail: 'detail',
    /** Milliseconds. Integer. */
    durationMs: 'duration_ms',
    fingerprint: 'fingerprint',
  },
  collector: {
    rssBytes: 'rss_bytes',
    heapUsedBytes: 'heap_used_bytes',
    routers: 'routers',
    routes: 'routes',
    attributeSets: 'attribute_sets',
    /** Cumulative since start. Integer. */
    events: 'events',
    historyDropped: 'history_dropped',
    influxDropped: 'influx_dropped',
    influxBuffered: 'influx_buffered',
    pausedSockets: 'paused_sockets',
    eventLoopLagMs: 'event_loop_lag_ms',
  },
} as const;

/** Units of the numeric fields, for the README and the dashboards. */
export const UNITS: Readonly<Record<string, string>> = {
  uptime_s: 's',
  bytes: 'bytes',
  rss_bytes: 'bytes',
  heap_used_bytes: 'bytes',
  duration_ms: 'ms',
  event_loop_lag_ms: 'ms',
};
