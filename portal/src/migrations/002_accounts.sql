-- Password + one-time-code accounts (the Госуслуги account route) for staff without a token.
-- An account belongs to a registered worker; the login is the phone, the e-mail or the СНИЛС.

CREATE TABLE accounts (
  snils           text PRIMARY KEY REFERENCES workers (snils) ON DELETE CASCADE,
  phone           text UNIQUE CHECK (phone ~ '^\+7[0-9]{10}$'),           -- normalised +7XXXXXXXXXX
  email           text UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
  password_hash   text NOT NULL,                                         -- argon2id, PHC string
  failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0), -- since the last success or lock
  locked_until    timestamptz,
  password_changed_at timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- A code must have somewhere to go.
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);

-- One-time codes: only a hash of the code is kept, never the code itself.
CREATE TABLE one_time_codes (
  id         text PRIMARY KEY,
  snils      text NOT NULL REFERENCES accounts (snils) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('login', 'reset')),
  code_hash  text NOT NULL,                       -- SHA-256 of id and code, hex
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,                -- created_at + 5 min
  used_at    timestamptz,                         -- consumed, or superseded by a newer code
  attempts   integer NOT NULL DEFAULT 0           -- wrong codes entered; dead at 3
);
CREATE INDEX one_time_codes_snils ON one_time_codes (snils, purpose);

-- login_attempts.method now also takes 'password', 'otp' and 'reset'; the history reads by СНИЛС.
CREATE INDEX login_attempts_snils_at ON login_attempts (snils, at);
