-- Reference portal, first part: worker register, trust store, CRLs, EDS login, sessions, audit.
-- Timestamps are timestamptz and always written from the server clock passed by the application,
-- so tests can move time; DEFAULT now() only marks bookkeeping columns.

CREATE TABLE workers (
  snils             text PRIMARY KEY CHECK (snils ~ '^[0-9]{11}$'),
  full_name         text NOT NULL,
  position          text NOT NULL,
  organisation      text NOT NULL,
  organisation_ogrn text,
  roles             text[] NOT NULL DEFAULT '{}',
  employment        text NOT NULL DEFAULT 'active' CHECK (employment IN ('active', 'ended')),
  ended_at          timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- CA certificates the portal trusts as anchors: a signer's chain must end at one of these.
CREATE TABLE trusted_cas (
  fingerprint text PRIMARY KEY,          -- SHA-256 of the DER, lowercase hex
  subject     text NOT NULL,
  der         bytea NOT NULL,
  not_before  timestamptz NOT NULL,
  not_after   timestamptz NOT NULL,
  added_at    timestamptz NOT NULL DEFAULT now()
);

-- The newest CRL of each trusted CA (signature checked on import).
CREATE TABLE crls (
  issuer_fingerprint text PRIMARY KEY REFERENCES trusted_cas (fingerprint) ON DELETE CASCADE,
  der                bytea NOT NULL,
  this_update        timestamptz NOT NULL,
  next_update        timestamptz,
  imported_at        timestamptz NOT NULL DEFAULT now()
);

-- Serials listed in the stored CRL, so a login looks up one row instead of parsing the CRL.
CREATE TABLE revoked_certificates (
  issuer_fingerprint text NOT NULL REFERENCES crls (issuer_fingerprint) ON DELETE CASCADE,
  serial             text NOT NULL,      -- lowercase hex, no leading zeros
  revoked_at         timestamptz NOT NULL,
  PRIMARY KEY (issuer_fingerprint, serial)
);

CREATE TABLE challenges (
  id         text PRIMARY KEY,
  nonce      text NOT NULL,
  text       text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE sessions (
  id                      text PRIMARY KEY,
  access_token_hash       text NOT NULL UNIQUE,  -- SHA-256 of the opaque token, hex
  refresh_token_hash      text NOT NULL UNIQUE,
  snils                   text NOT NULL REFERENCES workers (snils),
  roles                   text[] NOT NULL,
  method                  text NOT NULL CHECK (method IN ('eds', 'password')),
  certificate_fingerprint text,
  created_at              timestamptz NOT NULL,
  expires_at              timestamptz NOT NULL,  -- access token
  refresh_expires_at      timestamptz NOT NULL,  -- absolute end of the session
  revoked_at              timestamptz,
  last_seen_at            timestamptz NOT NULL
);
CREATE INDEX sessions_snils ON sessions (snils);

-- Refresh tokens already rotated away: presenting one again means it leaked, so the session ends.
CREATE TABLE retired_refresh_tokens (
  hash       text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  retired_at timestamptz NOT NULL
);

-- Every login and refresh attempt with its outcome (audit; never tokens, PINs or signatures).
CREATE TABLE login_attempts (
  id                      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at                      timestamptz NOT NULL,
  address                 text,
  method                  text NOT NULL,          -- 'eds', 'refresh'
  snils                   text,
  certificate_fingerprint text,
  result                  text NOT NULL,          -- 'OK' or the error code
  detail                  text
);
CREATE INDEX login_attempts_at ON login_attempts (at);
