/**
 * The collector's own metrics, exposed in Prometheus text format at /metrics. Names follow Prometheus
 * conventions (_total for counters, units in names). Labels are bounded: `router` is the address of an allow-listed
 * route server (not its connection's address:port, which changes on every reconnect), error codes come from a
 * closed set.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly connectionsAccepted = new Counter({ name: 'bmpwatch_connections_accepted_total', help: 'BMP connections accepted', registers: [this.registry] });
  readonly connectionsRefused = new Counter({
    name: 'bmpwatch_connections_refused_total',
    help: 'BMP connections refused, by reason (source not allowed, connection limit)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: 'bmpwatch_connections_closed_total',
    help: 'BMP connections closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly messages = new Counter({ name: 'bmpwatch_messages_total', help: 'BMP messages decoded, by type', labelNames: ['router', 'type'] as const, registers: [this.registry] });
  readonly bytes = new Counter({ name: 'bmpwatch_bytes_total', help: 'BMP bytes received', labelNames: ['router'] as const, registers: [this.registry] });
  readonly decodeErrors = new Counter({
    name: 'bmpwatch_decode_errors_total',
    help: 'Malformed BMP/BGP messages, by layer and code',
    labelNames: ['router', 'layer', 'code'] as const,
    registers: [this.registry],
  });
  readonly addPathFallbacks = new Counter({
    name: 'bmpwatch_addpath_fallbacks_total',
    help: 'NLRI blocks whose path-id layout contradicted the negotiated ADD-PATH capability',
    labelNames: ['router'] as const,
    registers: [this.registry],
  });
  readonly updateWarnings = new Counter({ name: 'bmpwatch_update_warnings_total', help: 'RFC 7606 attribute warnings', labelNames: ['router', 'action'] as const, registers: [this.registry] });
  readonly routes = new Gauge({ name: 'bmpwatch_routes', help: 'Routes held, all routers and tables', registers: [this.registry] });
  readonly attributeSets = new Gauge({ name: 'bmpwatch_attribute_sets', help: 'Distinct attribute sets held (shared by routes)', registers: [this.registry] });
  readonly routers = new Gauge({ name: 'bmpwatch_routers_connected', help: 'BMP sessions currently connected', registers: [this.registry] });
  readonly pausedSockets = new Gauge({ name: 'bmpwatch_paused_sockets', help: 'Router sockets paused by back-pressure', registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'bmpwatch_event_queue_depth', help: 'Events waiting in asynchronous sinks', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bmpwatch_process_' });
  }
}
