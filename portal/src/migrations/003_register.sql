-- The register, second part: organisations and their departments, and a fuller worker record
-- (date of birth, specialties, employment history, qualification documents). The current
-- columns of `workers` keep their meaning — they are the worker's present position — and the
-- application keeps them in step with the one open row of employment_records.

CREATE TABLE organisations (
  ogrn       text PRIMARY KEY CHECK (ogrn ~ '^([0-9]{13}|[0-9]{15})$'),  -- ОГРН, or ОГРНИП
  inn        text NOT NULL CHECK (inn ~ '^([0-9]{10}|[0-9]{12})$'),
  name       text NOT NULL CHECK (name <> ''),
  short_name text,
  address    text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A legal entity (ОГРН, 13 digits) has a 10-digit ИНН; a sole trader (ОГРНИП, 15) a 12-digit one.
  CHECK (length(ogrn) = 13 AND length(inn) = 10 OR length(ogrn) = 15 AND length(inn) = 12)
);

CREATE TABLE departments (
  id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organisation_ogrn text NOT NULL REFERENCES organisations (ogrn) ON DELETE CASCADE,
  name              text NOT NULL CHECK (name <> ''),
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organisation_ogrn, name),
  -- Target of the (organisation, department) foreign keys below: a department always belongs to
  -- the organisation it is used with.
  UNIQUE (organisation_ogrn, id)
);

-- organisation_ogrn stays free of a foreign key: register entries may arrive (from ФРМР, from the
-- older CLI) before their organisation is entered, and the organisation's name is then kept as text.
ALTER TABLE workers
  ADD COLUMN birth_date    date,
  ADD COLUMN specialties   text[] NOT NULL DEFAULT '{}',
  ADD COLUMN department_id integer,
  ADD CONSTRAINT workers_department_fk FOREIGN KEY (organisation_ogrn, department_id)
    REFERENCES departments (organisation_ogrn, id),
  ADD CONSTRAINT workers_department_needs_org CHECK (department_id IS NULL OR organisation_ogrn IS NOT NULL);
CREATE INDEX workers_organisation ON workers (organisation_ogrn, employment);

-- One row per position held. The open row (ended_on IS NULL) is the current employment; an active
-- worker has exactly one, an ended worker none. The organisation's name is the one at the time.
CREATE TABLE employment_records (
  id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  snils             text NOT NULL REFERENCES workers (snils) ON DELETE CASCADE,
  organisation_ogrn text,
  organisation      text NOT NULL,
  department_id     integer,
  position          text NOT NULL,
  started_on        date NOT NULL,
  ended_on          date,
  created_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (ended_on IS NULL OR ended_on >= started_on),
  CHECK (department_id IS NULL OR organisation_ogrn IS NOT NULL),
  FOREIGN KEY (organisation_ogrn, department_id) REFERENCES departments (organisation_ogrn, id)
);
CREATE UNIQUE INDEX employment_records_one_open ON employment_records (snils) WHERE ended_on IS NULL;
CREATE INDEX employment_records_snils ON employment_records (snils, started_on);

-- Сертификат специалиста / свидетельство об аккредитации: what lets the worker practise a specialty.
CREATE TABLE qualifications (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  snils           text NOT NULL REFERENCES workers (snils) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('certificate', 'accreditation')),
  specialty       text NOT NULL,
  document_number text NOT NULL,
  issued_on       date NOT NULL,
  valid_until     date,
  UNIQUE (snils, kind, document_number),
  CHECK (valid_until IS NULL OR valid_until >= issued_on)
);

-- Workers registered before this migration get the history row their current fields imply. The
-- start date is unknown: the day they were entered into the register stands in for it.
INSERT INTO employment_records (snils, organisation_ogrn, organisation, position, started_on, ended_on)
SELECT snils, organisation_ogrn, organisation, position,
       LEAST((created_at AT TIME ZONE 'Europe/Moscow')::date, COALESCE((ended_at AT TIME ZONE 'Europe/Moscow')::date, 'infinity')),
       CASE WHEN employment = 'ended' THEN COALESCE((ended_at AT TIME ZONE 'Europe/Moscow')::date, (updated_at AT TIME ZONE 'Europe/Moscow')::date) END
FROM workers;
