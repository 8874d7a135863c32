/**
 * Opens the history back-end the configuration names, for reading (`bmpwatch history`, `bmpwatch prefixes`):
 * InfluxDB when storage.influx is enabled, else the embedded SQLite file, opened read-only so a running
 * collector keeps writing undisturbed.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { HistoryBackend } from './history.js';
import { databasePath, openDatabase } from './sqlite/database.js';
import { SqliteHistoryStore } from './sqlite/history-store.js';

export type InfluxBackendFactory = (config: NonNullable<Config['storage']['influx']>) => Promise<HistoryBackend>;

export async function openHistoryBackend(config: Config, influx?: InfluxBackendFactory): Promise<HistoryBackend> {
  const influxConfig = config.storage.influx;
  if (influxConfig?.enabled) {
    if (!influx) throw new Error('InfluxDB history is not available in this build');
    return influx(influxConfig);
  }
  const path = databasePath(config.storage.dataDir);
  if (!existsSync(path)) {
    throw new Error(`no history store at ${path}: has 'bmpwatch serve' run with this configuration (storage.dataDir)?`);
  }
  return new SqliteHistoryStore(openDatabase(path, { readonly: true }));
}
