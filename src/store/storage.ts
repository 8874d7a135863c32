/**
 * Storage wiring for `bmpwatch serve`: the embedded SQLite file (always: alert state and the webhook queue live
 * there) and the history recorder, writing to InfluxDB when it is enabled and to the embedded store otherwise.
 * Retention of the embedded history is enforced here, a slice at a time.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../util/clock.js';
import { HistoryRecorder, historyMappingOptions, type HistorySink } from './recorder.js';
import { databasePath, openDatabase, type SqliteDatabase } from './sqlite/database.js';
import { SqliteHistoryStore } from './sqlite/history-store.js';

const PRUNE_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface StorageDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The InfluxDB history sink, when InfluxDB is enabled (built by the caller so this module stays small). */
  readonly influxSink?: HistorySink;
}

export class Storage {
  readonly db: SqliteDatabase;
  readonly embedded: SqliteHistoryStore;
  readonly recorder: HistoryRecorder;
  private pruneTimer: NodeJS.Timeout | undefined;
  private retentionDays: number;

  constructor(config: Config, private readonly deps: StorageDeps) {
    this.db = openDatabase(databasePath(config.storage.dataDir));
    this.embedded = new SqliteHistoryStore(this.db);
    this.retentionDays = config.storage.retentionDays;
    const history = config.storage.history;
    this.recorder = new HistoryRecorder(
      deps.influxSink ?? this.embedded,
      historyMappingOptions(config),
      { flushIntervalMs: history.flushIntervalMs, batchSize: history.batchSize, maxBufferedEvents: history.maxBufferedEvents },
      deps.logger,
    );
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  reload(config: Config): void {
    this.recorder.setMapping(historyMappingOptions(config));
    this.retentionDays = config.storage.retentionDays;
  }

  /** Deletes expired embedded history, one bounded slice per call (the next call continues). */
  prune(): number {
    try {
      return this.embedded.prune(this.deps.clock.now() - this.retentionDays * DAY_MS);
    } catch (error) {
      this.deps.logger.error({ event: 'prune-failed', err: error }, 'could not delete expired history');
      return 0;
    }
  }

  /** Closes the file. The recorder is an event consumer, stopped (flushed) with the others before this. */
  close(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    if (this.db.open) this.db.close();
  }
}
