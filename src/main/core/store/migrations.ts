// The local store's schema, as numbered migrations. PRAGMA user_version holds how many have run;
// each runs in its own transaction with the version bump, so a crash mid-migration leaves the
// previous version intact. Never edit a released migration: add the next one.
import type { Database } from 'better-sqlite3-multiple-ciphers'

export const MIGRATIONS: readonly string[] = [
  // 1: the resource cache, the outbox (changes and their entries), the audit log, sync state.
  `
  CREATE TABLE resources (
    rid INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    -- The local state (JSON); for a resource with unsent changes, ours.
    body TEXT NOT NULL,
    -- The portal version the local state builds on; NULL: not on the portal yet.
    version INTEGER,
    -- Newest portal version a pull saw while local changes were unsent (it was not applied).
    remote_version INTEGER,
    UNIQUE (type, id)
  );
  -- The portal state under unsent local changes: restored when the user drops them.
  CREATE TABLE base_versions (
    rid INTEGER PRIMARY KEY REFERENCES resources (rid) ON DELETE CASCADE,
    version INTEGER,
    body TEXT
  );
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'rejected', 'conflict')),
    -- Bumped when a later edit is folded in: an answer to an older send does not settle it.
    revision INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    user_snils TEXT NOT NULL,
    user_name TEXT NOT NULL,
    message TEXT,
    remote_type TEXT,
    remote_id TEXT,
    remote_version INTEGER,
    remote_body TEXT,
    slot_taken INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE change_entries (
    change_seq INTEGER NOT NULL REFERENCES changes (seq) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    body TEXT,
    PRIMARY KEY (change_seq, pos)
  );
  CREATE INDEX change_entries_resource ON change_entries (type, id);
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_snils TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    summary TEXT NOT NULL
  );
  CREATE INDEX audit_resource ON audit (id);
  CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // 2: search indexes beside the JSON: names in FTS5 (normalised text, prefix indexes for the
  // first letters typed), identifiers and dates in plain tables.
  `
  CREATE VIRTUAL TABLE patient_names USING fts5 (
    name, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3'
  );
  CREATE TABLE patient_idx (
    rid INTEGER PRIMARY KEY REFERENCES resources (rid) ON DELETE CASCADE,
    snils TEXT,
    oms TEXT,
    birth_date TEXT,
    sort_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    gender TEXT,
    phone TEXT,
    attached INTEGER NOT NULL
  );
  -- The indexed words, for typo-tolerant matching of a word that matches nothing as typed.
  CREATE VIRTUAL TABLE patient_vocab USING fts5vocab (patient_names, 'row');
  CREATE INDEX patient_idx_snils ON patient_idx (snils) WHERE snils IS NOT NULL;
  CREATE INDEX patient_idx_oms ON patient_idx (oms) WHERE oms IS NOT NULL;
  CREATE INDEX patient_idx_birth ON patient_idx (birth_date);
  CREATE TABLE appointment_idx (
    rid INTEGER PRIMARY KEY REFERENCES resources (rid) ON DELETE CASCADE,
    start TEXT,
    slot_id TEXT,
    patient_id TEXT,
    status TEXT
  );
  CREATE INDEX appointment_idx_slot ON appointment_idx (slot_id);
  CREATE INDEX appointment_idx_patient ON appointment_idx (patient_id);
  CREATE TABLE slot_idx (
    rid INTEGER PRIMARY KEY REFERENCES resources (rid) ON DELETE CASCADE,
    schedule_id TEXT,
    start TEXT,
    status TEXT
  );
  CREATE INDEX slot_idx_schedule ON slot_idx (schedule_id, start);
  `,
  // 3: offline login: the credential of workers who logged in online here (a slow hash only).
  `
  CREATE TABLE offline_credentials (
    login_key TEXT PRIMARY KEY,
    user_json TEXT NOT NULL,
    verifier TEXT NOT NULL,
    verified_at TEXT NOT NULL
  );
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Runs the migrations after the database's version, each with its version bump. */
export function migrate(db: Database, upTo = SCHEMA_VERSION): number {
  const from = db.pragma('user_version', { simple: true }) as number
  if (from > SCHEMA_VERSION) throw new Error(`store schema ${from} is newer than this program's ${SCHEMA_VERSION}`)
  for (let v = from; v < upTo; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
  return from
}
