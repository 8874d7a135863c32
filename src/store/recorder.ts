/**
 * The history recorder: an event consumer that turns collector events into history events and hands them to a
 * history sink (SQLite or InfluxDB) in batches.
 *
 * It never blocks ingestion: `consume` only appends to a bounded buffer; a timer (or a full batch) flushes it.
 * When the sink cannot keep up and the buffer is full, the newest events are dropped and counted (the metric
 * `bmpwatch_history_events_dropped_total` and a rate-limited log line), never silently.
 */
import type { EventConsumer } from '../app.js';
import { addressInCidr, parseCidr } from '../config/cidr.js';
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

/**
 * Is a peer an appliance: inside an appliance group's session ranges, or a configured appliance? Called for every
 * route event, so ranges are parsed once and the answer is remembered per peer (the RIB shares one PeerRef object
 * per peer session, so the lookup allocates nothing).
 */
export function appliancePeerMatcher(config: Config): (peer: PeerRef) => boolean {
  const ranges = config.applianceGroups.flatMap((group) => group.sessionRanges).flatMap((text) => {
    const cidr = parseCidr(text);
    return typeof cidr === 'string' ? [] : [cidr];
  });
  const addresses = new Set((config.appliances ?? []).flatMap((appliance) => appliance.addresses ?? []));
  const bgpIds = new Set((config.appliances ?? []).flatMap((appliance) => (appliance.bgpId ? [appliance.bgpId] : [])));
  const answers = new WeakMap<PeerRef, boolean>();
  return (peer) => {
    let answer = answers.get(peer);
    if (answer === undefined) {
      answer = addresses.has(peer.address) || bgpIds.has(peer.bgpId) || ranges.some((cidr) => addressInCidr(peer.address, cidr));
      answers.set(peer, answer);
    }
    return answer;
  };
}

export function historyMappingOptions(config: Config): HistoryMappingOptions {
  return { routeEvents: config.storage.history.routeEvents, isAppliancePeer: appliancePeerMatcher(config) };
}

const DROP_LOG_INTERVAL_MS = 10_000;
/** Events per synchronous write: a few milliseconds of SQLite work. */
const WRITE_SLICE = 500;

export class HistoryRecorder implements EventConsumer {
  readonly name = 'history';
  private pending: HistoryEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDropLog = 0;
  private flushScheduled = false;
  private writing: HistoryEvent[] = [];
  private writeOffset = 0;
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
    if (this.buffered() >= this.options.maxBufferedEvents) {
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

  /**
   * Writes what is buffered, WRITE_SLICE events per turn of the event loop: the SQLite sink writes synchronously,
   * and one 5,000-row transaction would hold up ingestion (and alert delivery) for tens of milliseconds.
   */
  flush(): void {
    if (this.buffered() === 0 || this.flushScheduled) return;
    this.writeSlice();
    if (this.buffered() > 0) this.scheduleSlice();
  }

  /** Events waiting: being written plus newly recorded. */
  private buffered(): number {
    return this.pending.length + this.writing.length - this.writeOffset;
  }

  /** Writes everything buffered now (shutdown). */
  private flushAll(): void {
    while (this.buffered() > 0) this.writeSlice();
  }

  private scheduleSlice(): void {
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.buffered() === 0) return;
      this.writeSlice();
      if (this.buffered() > 0) this.scheduleSlice();
    });
  }

  private writeSlice(): void {
    if (this.writeOffset >= this.writing.length) {
      // Take what was recorded so far; new events go to a fresh array (no copying of a large buffer per slice).
      this.writing = this.pending;
      this.pending = [];
      this.writeOffset = 0;
    }
    const batch = this.writing.slice(this.writeOffset, this.writeOffset + WRITE_SLICE);
    this.writeOffset += batch.length;
    if (this.writeOffset >= this.writing.length) {
      this.writing = [];
      this.writeOffset = 0;
    }
    try {
      this.sink.append(batch);
      this.counters.written += batch.length;
    } catch (error) {
      this.counters.failed += batch.length;
      this.logger.error({ event: 'history-write-failed', sink: this.sink.name, events: batch.length, err: error }, 'could not write history events');
    }
  }

  stats(): RecorderStats {
    return { ...this.counters, buffered: this.buffered() };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flushAll();
    await this.sink.close();
  }
}
