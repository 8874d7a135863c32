/**
 * Composition root: config → collector (listener, sessions, RIB) → event sinks, plus the live API.
 *
 * Start order: 1. event sinks; 2. API (so health is visible as soon as routers may connect); 3. BMP listener.
 * Stop order: 1. BMP listener and sessions (routers' state is flushed, events still flow to the sinks);
 * 2. API; 3. event consumers, last added first (rules, then the history recorder, then the InfluxDB writer), so
 * each one's final output still reaches the next; 4. the embedded store's file.
 */
import { ApiServer } from './api/server.js';
import { BmpCollector, type CollectorSettings } from './collector/server.js';
import { addressInCidr } from './config/cidr.js';
import type { Config } from './config/schema.js';
import type { Logger } from './observability/logger.js';
import { CollectorMetrics } from './observability/metrics.js';
import { AttributeStore } from './rib/attribute-store.js';
import type { CollectorEvent, EventSink } from './rib/events.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { peerViews, toRouterView } from './api/views.js';
import type { AlertChange } from './alerts/types.js';
import { splitRouteKey } from './rib/router-rib.js';
import { RulesConsumer } from './rules/consumer.js';
import type { HistoryEvent } from './store/history-event.js';
import { InfluxReporter } from './store/influx/reporter.js';
import { SqliteAlertStateStore, SqliteDeliveryQueue } from './store/sqlite/alert-store.js';
import { InfluxWriter } from './store/influx/writer.js';
import { Storage } from './store/storage.js';
import type { Clock } from './util/clock.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface AppOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Command-line overrides of listen.bmp and listen.api. */
  readonly listen?: HostPort;
  readonly api?: HostPort;
  /** Open the embedded store and record history (default true; collector-only tests turn it off). */
  readonly storage?: boolean;
  /** Run the rules and alerts (default true). Alert state and webhook deliveries persist only with storage. */
  readonly rules?: boolean;
  /** Tests: the HTTP client webhooks use. */
  readonly fetch?: typeof fetch;
}

/** An alert transition as a history event (firing and escalation are "alert-firing"; hold-down steps are not kept). */
export function alertHistoryEvent(change: AlertChange, peer: { address: string; as: number; bgpId: string } | undefined): HistoryEvent | undefined {
  if (change.change === 'clearing' || change.change === 'unclearing') return undefined;
  return {
    time: change.time,
    type: change.change === 'resolved' ? 'alert-resolved' : 'alert-firing',
    router: change.router ?? '',
    routerAddress: '',
    ...(peer && { peer: peer.address, peerAs: peer.as, peerBgpId: peer.bgpId }),
    ...(change.prefix !== undefined && { prefix: change.prefix }),
    detail: change.reason === undefined ? change.summary : `${change.summary} (${change.reason})`,
    rule: change.rule,
    severity: change.severity,
    fingerprint: change.fingerprint,
  };
}

/** Consumers of the event stream (stores, rules, metrics). A throwing sink is logged and isolated. */
export interface EventConsumer {
  readonly name: string;
  consume(event: CollectorEvent): void;
  stop?(): Promise<void>;
}

const GAUGE_REFRESH_MS = 5_000;

export function toCollectorSettings(config: Config, listen: HostPort): CollectorSettings {
  const names = new Map((config.routers.names ?? []).map((entry) => [entry.address, entry.name]));
  const allowed = config.routers.allowedSources;
  return {
    host: listen.host,
    port: listen.port,
    maxConnections: config.limits.maxConnections,
    maxMessageBytes: config.limits.maxMessageBytes,
    maxRoutesPerRouter: config.limits.maxRoutesPerRouter,
    initialDumpTimeoutMs: config.limits.initialDumpTimeoutSeconds * 1000,
    maxDecodeErrorLogsPerMinute: config.limits.maxDecodeErrorLogsPerMinute,
    isAllowedSource: (address) => allowed.some((cidr) => addressInCidr(address, cidr)),
    routerName: (address) => names.get(address),
  };
}

export class App {
  readonly metrics = new CollectorMetrics();
  readonly attributes = new AttributeStore();
  readonly collector: BmpCollector;
  private readonly api: ApiServer;
  private readonly consumers: EventConsumer[] = [];
  private gaugeTimer: NodeJS.Timeout | undefined;
  private storageHandle: Storage | undefined;
  private rulesHandle: RulesConsumer | undefined;
  private config: Config;
  private readonly listen: HostPort;
  private readonly apiAddress: HostPort;

  constructor(private readonly options: AppOptions) {
    this.config = options.config;
    this.listen = options.listen ?? options.config.listen.bmp;
    this.apiAddress = options.api ?? options.config.listen.api;
    const emit: EventSink = (event) => this.dispatch(event);
    this.collector = new BmpCollector(toCollectorSettings(this.config, this.listen), {
      attributes: this.attributes,
      emit,
      logger: options.logger,
      metrics: this.metrics,
      clock: options.clock,
    });
    this.api = new ApiServer({
      routers: () => this.collector.routers(),
      metrics: this.metrics,
      logger: options.logger,
      clock: options.clock,
      startedAt: options.clock.now(),
      alerts: () => this.rulesHandle?.alerts,
    });
  }

  get currentConfig(): Config {
    return this.config;
  }

  addConsumer(consumer: EventConsumer): void {
    this.consumers.push(consumer);
  }

  /** The embedded store and history recorder, once started (undefined when storage is off). */
  get storage(): Storage | undefined {
    return this.storageHandle;
  }

  /** The rules, alerts and webhooks, once started (undefined when rules are off). */
  get rules(): RulesConsumer | undefined {
    return this.rulesHandle;
  }

  async start(): Promise<{ bmp: HostPort; api: HostPort }> {
    if (this.options.storage !== false) {
      const influx = this.startInflux();
      this.storageHandle = new Storage(this.config, { logger: this.options.logger, clock: this.options.clock, ...(influx && { influxSink: influx }) });
      // Added before the recorder so they stop after it (stop is LIFO): the recorder's last batch still reaches it.
      if (influx) this.addConsumer(influx);
      this.addConsumer(this.storageHandle.recorder);
    }
    if (this.options.rules !== false) this.startRules();
    const api = await this.api.start(this.apiAddress.host, this.apiAddress.port);
    const bmp = await this.collector.start();
    this.gaugeTimer = setInterval(() => this.refreshGauges(), GAUGE_REFRESH_MS);
    this.gaugeTimer.unref();
    return { bmp, api };
  }

  /** SIGHUP with a valid new config: limits, allow-list and names apply from now on; sessions stay up. */
  reload(config: Config): void {
    this.config = config;
    this.collector.updateSettings(toCollectorSettings(config, this.listen));
    this.storageHandle?.reload(config);
    this.rulesHandle?.reload(config);
    this.options.logger.info({ event: 'config-reloaded' }, 'configuration reloaded');
  }

  /** Rules see every event after the stores (so an alert's history event follows the event that caused it). */
  private startRules(): void {
    const storage = this.storageHandle;
    const rules: RulesConsumer = new RulesConsumer({
      config: this.config,
      clock: this.options.clock,
      logger: this.options.logger,
      ...(storage && { alertStore: new SqliteAlertStateStore(storage.db), deliveryQueue: new SqliteDeliveryQueue(storage.db, this.config.alerts.delivery.maxQueued) }),
      ...(this.options.fetch && { fetch: this.options.fetch }),
      onAlertChange: (change) => {
        const event = alertHistoryEvent(change, rules.alerts.alert(change.fingerprint)?.peer);
        if (event) storage?.recorder.record(event);
      },
      snapshot: () => this.routeSnapshot(),
    });
    rules.start();
    this.rulesHandle = rules;
    this.addConsumer(rules);
  }

  /** Every route held now, as initial-sync announcements (the rules re-index them after a reload). */
  private *routeSnapshot(): Generator<CollectorEvent> {
    const time = this.options.clock.now();
    for (const session of this.collector.routers()) {
      for (const peer of session.rib.peers()) {
        for (const [table, routes] of peer.tables) {
          for (const [key, entry] of routes) {
            const { prefix, pathId } = splitRouteKey(key);
            yield {
              type: 'route-announced',
              router: session.router,
              time,
              peer: peer.ref,
              table,
              prefix,
              ...(pathId === undefined ? {} : { pathId }),
              bmpTimestamp: 0,
              initialSync: true,
              attributes: entry.attributes,
            };
          }
        }
      }
    }
  }

  /** The InfluxDB reporter, when storage.influx is enabled: history sink, statistics and metrics snapshots. */
  private startInflux(): InfluxReporter | undefined {
    const influx = this.config.storage.influx;
    if (!influx?.enabled) return undefined;
    const writer = new InfluxWriter(
      {
        url: influx.url,
        database: influx.database,
        ...(influx.username === undefined ? {} : { username: influx.username, password: influx.password }),
        retentionPolicy: { name: influx.retentionPolicy.name, duration: influx.retentionPolicy.duration, replication: 1, default: true },
        precision: 'n',
        batchSize: influx.batchSize,
        flushIntervalMs: influx.flushIntervalMs,
        maxBufferedPoints: influx.maxBufferedPoints,
        retryBackoffMaxMs: influx.retryBackoffMaxMs,
      },
      { logger: this.options.logger.child({ component: 'influxdb' }), clock: this.options.clock, registry: this.metrics.registry },
    );
    const reporter = new InfluxReporter(writer, this.options.clock, influx.instance);
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    reporter.start(
      {
        routers: () => this.collector.routers().map((session) => toRouterView(session, this.options.clock.now())),
        peers: () => peerViews(this.collector.routers(), this.options.clock.now()),
        flapMerits: () => this.rulesHandle?.engine.gauges(this.options.clock.now()).get('route-flap') ?? new Map(),
        health: () => {
          const lagMs = lag.count > 0 ? lag.mean / 1e6 : 0;
          lag.reset();
          let routes = 0;
          let paused = 0;
          for (const session of this.collector.routers()) {
            routes += session.rib.routeCount;
            if (session.isPaused) paused++;
          }
          return {
            routers: this.collector.routers().length,
            routes,
            attributeSets: this.attributes.size,
            historyDropped: this.storageHandle?.recorder.stats().dropped ?? 0,
            pausedSockets: paused,
            eventLoopLagMs: lagMs,
          };
        },
      },
      influx.metricsIntervalSeconds * 1000,
    );
    return reporter;
  }

  async stop(): Promise<void> {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    await this.collector.stop();
    await this.api.stop();
    // Last added, first stopped: the rules' final alert changes still reach the recorder, whose last batch still
    // reaches the InfluxDB writer.
    for (const consumer of [...this.consumers].reverse()) await consumer.stop?.();
    this.storageHandle?.close();
  }

  refreshGauges(): void {
    let routes = 0;
    for (const session of this.collector.routers()) routes += session.rib.routeCount;
    this.metrics.routes.set(routes);
    this.metrics.attributeSets.set(this.attributes.size);
  }

  private dispatch(event: CollectorEvent): void {
    for (const consumer of this.consumers) {
      try {
        consumer.consume(event);
      } catch (error) {
        this.options.logger.error({ event: 'consumer-error', consumer: consumer.name, err: error }, 'event consumer failed; it stays isolated');
      }
    }
  }
}
