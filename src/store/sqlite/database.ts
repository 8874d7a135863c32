/**
 * The embedded store's SQLite file: opening it and versioned schema migrations.
 *
 * Migrations are an append-only list; `PRAGMA user_version` records how many have run. Never edit a released
 * migration: add a new one. WAL mode lets `bmpwatch history` read while the collector writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

export const DATABASE_FILE_NAME = 'bmpwatch.sqlite';

/** Each entry upgrades the schema by one version; index + 1 is the version it produces. */
export const MIGRATIONS: readonly string[] = [
  // 1: history events and the identities seen on sessions.
  `
  CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    time         INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    router       TEXT    NOT NULL,
    router_address TEXT  NOT NULL,
    peer         TEXT,
    peer_as      INTEGER,
    peer_bgp_id  TEXT,
    rib_table    TEXT,
    prefix       TEXT,
    path_id      INTEGER,
    next_hop     TEXT,
    as_path      TEXT,
    sync         INTEGER,
    detail       TEXT,
    duration_ms  INTEGER,
    rule         TEXT,
    severity     TEXT,
    fingerprint  TEXT
  );
  CREATE INDEX events_identity_time ON events (peer_bgp_id, peer_as, time);
  CREATE INDEX events_router_time ON events (router_address, time) WHERE peer IS NULL;
  CREATE INDEX events_time ON events (time);
  CREATE TABLE peer_identities (
    address     TEXT    NOT NULL,
    bgp_id      TEXT    NOT NULL,
    as_number   INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (address, bgp_id, as_number)
  ) WITHOUT ROWID;
  CREATE INDEX peer_identities_bgp_id ON peer_identities (bgp_id);
  `,
  // 2: alert state, silences and the webhook delivery queue (durable across restarts).
  `
  CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    state       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    record      TEXT    NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE silences (
    id      TEXT PRIMARY KEY,
    ends_at INTEGER NOT NULL,
    record  TEXT    NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    target          TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    finished_at     INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, created_at);
  CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE finished_at IS NOT NULL;
  `,
];

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE_NAME);
}

export interface OpenOptions {
  readonly readonly?: boolean;
}

/** Opens (creating the directory and file when writable) and migrates the database. */
export function openDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  if (!options.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt the file; FULL costs an fsync
    // per flush for no gain in a monitoring history.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } else {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      db.close();
      throw new Error(`${path} has schema version ${version}, newer than this bmpwatch knows (${MIGRATIONS.length}); upgrade bmpwatch`);
    }
  }
  db.pragma('busy_timeout = 5000');
  return db;
}

export function migrate(db: SqliteDatabase): number {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this bmpwatch knows (${MIGRATIONS.length}); upgrade bmpwatch`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
