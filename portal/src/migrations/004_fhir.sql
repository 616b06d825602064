-- FHIR R4 store (the sync API). Resource bodies are stored as JSON text with meta.versionId and
-- meta.lastUpdated already set, so reads and bundles are assembled without re-serialising them.

-- The current version of every resource (deleted ones stay as rows with deleted = true).
CREATE TABLE fhir_resources (
  type         text NOT NULL,
  id           text NOT NULL,
  version      integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean NOT NULL DEFAULT false,
  org          text,                 -- ОГРН of the owning organisation (access scope)
  body         text,                 -- null when deleted
  PRIMARY KEY (type, id)
);

-- Every version ever written, deletes included. (txid, seq) is the history cursor: a row is only
-- served once every transaction with a smaller txid has ended, so a cursor never jumps over a
-- row that commits later (see history.ts).
CREATE TABLE fhir_history (
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  type         text NOT NULL,
  id           text NOT NULL,
  version      integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean NOT NULL,
  org          text,
  method       text NOT NULL CHECK (method IN ('POST', 'PUT', 'DELETE')),
  body         text,
  PRIMARY KEY (type, id, version)
);
-- A page is an ordered index range scan: per organisation (everyone but administrators), per
-- type within it (type history), and across everything (administrators).
CREATE INDEX fhir_history_cursor ON fhir_history (txid, seq);
CREATE INDEX fhir_history_org_cursor ON fhir_history (org, txid, seq);
CREATE INDEX fhir_history_type_cursor ON fhir_history (type, org, txid, seq);

-- Search indexes of current, non-deleted versions; rewritten on every write of the resource.
-- Strings are normalised (lower case, ё → е) and matched by prefix: COLLATE "C" lets LIKE 'x%' use the index.
CREATE TABLE fhir_idx_string (
  type  text NOT NULL,
  param text NOT NULL,
  value text COLLATE "C" NOT NULL,
  id    text NOT NULL
);
CREATE INDEX fhir_idx_string_lookup ON fhir_idx_string (type, param, value);
CREATE INDEX fhir_idx_string_owner ON fhir_idx_string (type, id);

-- Tokens (code, identifier, status) and references ('Patient/123' with system '').
CREATE TABLE fhir_idx_token (
  type   text NOT NULL,
  param  text NOT NULL,
  system text NOT NULL,
  value  text NOT NULL,
  id     text NOT NULL
);
CREATE INDEX fhir_idx_token_lookup ON fhir_idx_token (type, param, value, system);
CREATE INDEX fhir_idx_token_owner ON fhir_idx_token (type, id);

-- Dates as the half-open instant range [lo, hi) they denote (a birthDate is a whole day).
CREATE TABLE fhir_idx_date (
  type  text NOT NULL,
  param text NOT NULL,
  lo    timestamptz NOT NULL,
  hi    timestamptz NOT NULL,
  id    text NOT NULL
);
CREATE INDEX fhir_idx_date_lookup ON fhir_idx_date (type, param, lo);
CREATE INDEX fhir_idx_date_owner ON fhir_idx_date (type, id);
