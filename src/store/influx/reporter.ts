/**
 * Everything bmpwatch sends to InfluxDB, through one InfluxWriter:
 * - history events (as the history sink, so `bmpwatch history` can read them back),
 * - BMP Statistics Reports as they arrive,
 * - a metrics snapshot every interval: routers, peers (with their route events in the interval), prefix counts,
 *   and the collector's own health.
 */
import type { IPoint } from 'influx';
import type { EventConsumer } from '../../app.js';
import type { PeerView, RouterView } from '../../api/views.js';
import type { CollectorEvent } from '../../rib/events.js';
import type { Clock } from '../../util/clock.js';
import type { HistoryEvent } from '../history-event.js';
import type { HistorySink } from '../recorder.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../schema.js';
import { eventPoint, NanoClock, peerActivityKey, snapshotPoints, statisticsPoints, type PeerActivity } from './points.js';
import type { InfluxWriter } from './writer.js';

export interface CollectorHealth {
  readonly routers: number;
  readonly routes: number;
  readonly attributeSets: number;
  readonly historyDropped: number;
  readonly pausedSockets: number;
  readonly eventLoopLagMs: number;
}

export interface ReporterSources {
  readonly routers: () => readonly RouterView[];
  readonly peers: () => readonly PeerView[];
  readonly health: () => CollectorHealth;
  /** The route-flap rule's figure of merit by appliance session address, when rules run. */
  readonly flapMerits?: () => ReadonlyMap<string, number>;
}

export class InfluxReporter implements EventConsumer, HistorySink {
  readonly name = 'influxdb';
  private readonly nano = new NanoClock();
  private activity = new Map<string, PeerActivity>();
  private events = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly writer: InfluxWriter,
    private readonly clock: Clock,
    private readonly instance: string | undefined,
  ) {}

  /** Starts the writer and the snapshot timer. */
  start(sources: ReporterSources, intervalMs: number): void {
    this.writer.start();
    this.timer = setInterval(() => this.snapshot(sources), intervalMs);
    this.timer.unref();
  }

  // HistorySink: history events, already mapped and batched by the recorder.
  append(events: readonly HistoryEvent[]): void {
    const points: IPoint[] = [];
    for (const event of events) points.push(eventPoint(event, this.nano.stamp(event.time), this.instance));
    this.writer.write(points);
  }

  // EventConsumer: statistics and per-peer activity counts.
  consume(event: CollectorEvent): void {
    this.events++;
    switch (event.type) {
      case 'statistics':
        this.writer.write(statisticsPoints(event, this.nano.stamp(event.time), this.instance));
        break;
      case 'route-announced':
      case 'route-changed':
      case 'route-withdrawn': {
        if (event.initialSync) break;
        const key = peerActivityKey(event.router.id, event.peer.address);
        let counts = this.activity.get(key);
        if (!counts) {
          counts = { announcements: 0, withdrawals: 0, changes: 0 };
          this.activity.set(key, counts);
        }
        if (event.type === 'route-announced') counts.announcements++;
        else if (event.type === 'route-changed') counts.changes++;
        else counts.withdrawals++;
        break;
      }
      default:
        break;
    }
  }

  /** Writes one metrics snapshot now (also called by the timer). */
  snapshot(sources: ReporterSources): void {
    const now = this.clock.now();
    const stamp = this.nano.stamp(now);
    const activity = this.activity;
    this.activity = new Map();
    const points = snapshotPoints(sources.routers(), sources.peers(), activity, stamp, this.instance, sources.flapMerits?.());
    const health = sources.health();
    const memory = process.memoryUsage();
    const writer = this.writer.stats();
    const c = FIELDS.collector;
    points.push({
      measurement: MEASUREMENTS.collector,
      tags: this.instance ? { [TAGS.instance]: this.instance } : {},
      fields: {
        [c.rssBytes]: BigInt(memory.rss),
        [c.heapUsedBytes]: BigInt(memory.heapUsed),
        [c.routers]: BigInt(health.routers),
        [c.routes]: BigInt(health.routes),
        [c.attributeSets]: BigInt(health.attributeSets),
        [c.events]: BigInt(this.events),
        [c.historyDropped]: BigInt(health.historyDropped),
        [c.influxDropped]: BigInt(writer.dropped),
        [c.influxBuffered]: BigInt(writer.buffered),
        [c.pausedSockets]: BigInt(health.pausedSockets),
        [c.eventLoopLagMs]: health.eventLoopLagMs,
      },
      timestamp: stamp,
    });
    this.writer.write(points);
  }

  /** Stops the snapshots and flushes the writer; once, whether called as the history sink or as a consumer. */
  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closing ??= this.writer.stop().then(() => undefined);
    return this.closing;
  }

  async stop(): Promise<void> {
    await this.close();
  }
}
