/**
 * Opens the history back-end the configuration names, for reading (`bmpwatch history`, `bmpwatch prefixes`):
 * InfluxDB when storage.influx is enabled, else the embedded SQLite file, opened read-only so a running
 * collector keeps writing undisturbed.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { HistoryBackend } from './history.js';
import { InfluxHistoryBackend, influxClient } from './influx/history-backend.js';
import { databasePath, openDatabase } from './sqlite/database.js';
import { SqliteHistoryStore } from './sqlite/history-store.js';

export type InfluxBackendFactory = (config: NonNullable<Config['storage']['influx']>) => Promise<HistoryBackend>;

/** Reads from InfluxDB, after checking it answers (so an unreachable server is one clear error). */
export const openInfluxHistory: InfluxBackendFactory = async (influx) => {
  const client = influxClient(influx);
  const hosts = await client.ping(5_000);
  const online = hosts.find((host) => host.online);
  if (!online) throw new Error(`InfluxDB at ${influx.url} is unreachable (storage.influx.url)`);
  return new InfluxHistoryBackend(client, influx.database);
};

export async function openHistoryBackend(config: Config, influx: InfluxBackendFactory = openInfluxHistory): Promise<HistoryBackend> {
  const influxConfig = config.storage.influx;
  if (influxConfig?.enabled) return influx(influxConfig);
  const path = databasePath(config.storage.dataDir);
  if (!existsSync(path)) {
    throw new Error(`no history store at ${path}: has 'bmpwatch serve' run with this configuration (storage.dataDir)?`);
  }
  return new SqliteHistoryStore(openDatabase(path, { readonly: true }));
}
