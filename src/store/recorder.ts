/**
 * The history recorder: an event consumer that turns collector events into history events and hands them to a
 * history sink (SQLite or InfluxDB) in batches.
 *
 * It never blocks ingestion: `consume` only appends to a bounded buffer; a timer (or a full batch) flushes it.
 * When the sink cannot keep up and the buffer is full, the newest events are dropped and counted (the metric
 * `bmpwatch_history_events_dropped_total` and a rate-limited log line), never silently.
 */
import type { EventConsumer } from '../app.js';
import { addressInCidr } from '../config/cidr.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorEvent, PeerRef } from '../rib/events.js';
import { toHistoryEvent, type HistoryEvent, type HistoryMappingOptions } from './history-event.js';

/** Where batches of history events go. `append` may throw; the recorder counts and logs it and drops the batch. */
export interface HistorySink {
  readonly name: string;
  append(events: readonly HistoryEvent[]): void;
  close(): Promise<void>;
}

export interface RecorderOptions {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxBufferedEvents: number;
}

export interface RecorderStats {
  recorded: number;
  written: number;
  dropped: number;
  failed: number;
  buffered: number;
}

/** Is a peer an appliance: inside an appliance group's session ranges, or a configured appliance? */
export function appliancePeerMatcher(config: Config): (peer: PeerRef) => boolean {
  const ranges = config.applianceGroups.flatMap((group) => group.sessionRanges);
  const addresses = new Set((config.appliances ?? []).flatMap((appliance) => appliance.addresses ?? []));
  const bgpIds = new Set((config.appliances ?? []).flatMap((appliance) => (appliance.bgpId ? [appliance.bgpId] : [])));
  return (peer) => addresses.has(peer.address) || bgpIds.has(peer.bgpId) || ranges.some((cidr) => addressInCidr(peer.address, cidr));
}

export function historyMappingOptions(config: Config): HistoryMappingOptions {
  return { routeEvents: config.storage.history.routeEvents, isAppliancePeer: appliancePeerMatcher(config) };
}

const DROP_LOG_INTERVAL_MS = 10_000;

export class HistoryRecorder implements EventConsumer {
  readonly name = 'history';
  private pending: HistoryEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDropLog = 0;
  private readonly counters: RecorderStats = { recorded: 0, written: 0, dropped: 0, failed: 0, buffered: 0 };

  constructor(
    private readonly sink: HistorySink,
    private mapping: HistoryMappingOptions,
    private readonly options: RecorderOptions,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  setMapping(mapping: HistoryMappingOptions): void {
    this.mapping = mapping;
  }

  consume(event: CollectorEvent): void {
    const record = toHistoryEvent(event, this.mapping);
    if (record) this.record(record);
  }

  /** Records an event that does not come from the collector (alert transitions). */
  record(record: HistoryEvent): void {
    if (this.pending.length >= this.options.maxBufferedEvents) {
      this.counters.dropped++;
      const now = record.time;
      if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
        this.lastDropLog = now;
        this.logger.warn({ event: 'history-dropped', sink: this.sink.name, dropped: this.counters.dropped }, 'history buffer full; dropping events');
      }
      return;
    }
    this.counters.recorded++;
    this.pending.push(record);
    if (this.pending.length >= this.options.batchSize) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.sink.append(batch);
      this.counters.written += batch.length;
    } catch (error) {
      this.counters.failed += batch.length;
      this.logger.error({ event: 'history-write-failed', sink: this.sink.name, events: batch.length, err: error }, 'could not write history events');
    }
  }

  stats(): RecorderStats {
    return { ...this.counters, buffered: this.pending.length };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    await this.sink.close();
  }
}
