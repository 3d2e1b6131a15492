-- Clinicdesk schema v1: the whole product's data model, with its rules in the engine.
--
-- Conventions
-- * Syncable tables carry the sync columns (PRODUCT.md rule 4): a UUIDv7 `id` (text), `version`,
--   `created_at`/`created_by`, `updated_at`/`updated_by`, and the soft-delete marker
--   `deleted_at`/`deleted_by`. Rows are never hard-deleted.
-- * Timestamps are UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`, so text order is time order.
-- * Dates (birth dates, days off) are `YYYY-MM-DD`.
-- * Enumerations and ranges are CHECK constraints; clinical observations, notes and the audit
--   trail are append-only by trigger.

-- ---------------------------------------------------------------------------------------------
-- Facts about this store (device-local, not synced).
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Roles and permissions, as data.
CREATE TABLE roles (
    code TEXT PRIMARY KEY CHECK (code = lower(code) AND length(code) BETWEEN 2 AND 40),
    display_name TEXT NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE permissions (
    code TEXT PRIMARY KEY CHECK (code GLOB '[a-z]*.[a-z]*'),
    description TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role TEXT NOT NULL REFERENCES roles(code),
    permission TEXT NOT NULL REFERENCES permissions(code),
    PRIMARY KEY (role, permission)
) WITHOUT ROWID;

INSERT INTO roles (code, display_name, description) VALUES
    ('administrator', 'Administrator', 'Manages users, roles, security settings, sync settings and the database key; sees no patient data'),
    ('manager', 'Clinic manager', 'Backups and restores, audit review, emergency-access review, patient merges'),
    ('clinician', 'Clinician', 'Reads charts, records vitals, writes clinical notes'),
    ('nurse', 'Nurse', 'Records vitals, writes nursing notes, checks patients in'),
    ('front_desk', 'Front desk', 'Registers patients and books appointments');

INSERT INTO permissions (code, description) VALUES
    ('users.list', 'See the list of user accounts'),
    ('users.manage', 'Add, disable, enable users; change roles; reset passwords'),
    ('security.manage', 'Change security settings (idle logoff, lockout)'),
    ('key.rotate', 'Rotate the database key'),
    ('patients.read', 'Read patient demographics and search patients'),
    ('patients.write', 'Register patients and change demographics'),
    ('patients.merge', 'Merge duplicate patient records, and undo a merge'),
    ('appointments.read', 'See schedules and appointments'),
    ('appointments.write', 'Book, reschedule and cancel appointments'),
    ('appointments.status', 'Move an appointment through its statuses'),
    ('appointments.checkin', 'Check a patient in (arrived) or mark a no-show'),
    ('vitals.read', 'Read vital signs'),
    ('vitals.write', 'Record vital signs and mark them entered-in-error'),
    ('notes.read', 'Read clinical and nursing notes'),
    ('notes.write_clinical', 'Write clinical notes and addenda'),
    ('notes.write_nursing', 'Write nursing notes and addenda'),
    ('audit.read_security', 'Read security events of the audit trail'),
    ('audit.read_all', 'Read the whole audit trail and access reports'),
    ('backups.create', 'Create backups'),
    ('backups.restore', 'Restore backups'),
    ('sync.read', 'See sync settings and status'),
    ('sync.manage', 'Change sync settings'),
    ('emergency.use', 'Open a restricted chart in an emergency, with a reason'),
    ('emergency.review', 'Review emergency-access events');

INSERT INTO role_permissions (role, permission) VALUES
    ('administrator', 'users.list'),
    ('administrator', 'users.manage'),
    ('administrator', 'security.manage'),
    ('administrator', 'key.rotate'),
    ('administrator', 'audit.read_security'),
    ('administrator', 'backups.create'),
    ('administrator', 'backups.restore'),
    ('administrator', 'sync.read'),
    ('administrator', 'sync.manage'),
    ('manager', 'users.list'),
    ('manager', 'patients.read'),
    ('manager', 'patients.merge'),
    ('manager', 'appointments.read'),
    ('manager', 'audit.read_all'),
    ('manager', 'audit.read_security'),
    ('manager', 'backups.create'),
    ('manager', 'backups.restore'),
    ('manager', 'sync.read'),
    ('manager', 'emergency.review'),
    ('clinician', 'patients.read'),
    ('clinician', 'patients.write'),
    ('clinician', 'appointments.read'),
    ('clinician', 'appointments.status'),
    ('clinician', 'vitals.read'),
    ('clinician', 'vitals.write'),
    ('clinician', 'notes.read'),
    ('clinician', 'notes.write_clinical'),
    ('clinician', 'emergency.use'),
    ('nurse', 'patients.read'),
    ('nurse', 'appointments.read'),
    ('nurse', 'appointments.checkin'),
    ('nurse', 'vitals.read'),
    ('nurse', 'vitals.write'),
    ('nurse', 'notes.read'),
    ('nurse', 'notes.write_nursing'),
    ('nurse', 'emergency.use'),
    ('front_desk', 'patients.read'),
    ('front_desk', 'patients.write'),
    ('front_desk', 'appointments.read'),
    ('front_desk', 'appointments.write'),
    ('front_desk', 'appointments.status'),
    ('front_desk', 'appointments.checkin');

-- ---------------------------------------------------------------------------------------------
-- Users. `created_by` etc. may be NULL for rows the system wrote (the first administrator).
CREATE TABLE users (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    username TEXT NOT NULL UNIQUE
        CHECK (username = lower(username) AND length(username) BETWEEN 2 AND 64
               AND username NOT GLOB '*[^a-z0-9._-]*'),
    display_name TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
    role TEXT NOT NULL REFERENCES roles(code),
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_login_count INTEGER NOT NULL DEFAULT 0 CHECK (failed_login_count >= 0),
    locked_until TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    password_changed_at TEXT,
    last_login_at TEXT
);

-- ---------------------------------------------------------------------------------------------
-- The clinic and its places.
CREATE TABLE clinics (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    time_zone TEXT NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64)
);

CREATE TABLE locations (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200)
);
CREATE INDEX locations_by_clinic ON locations (clinic_id);

-- ---------------------------------------------------------------------------------------------
-- Providers and their working time.
CREATE TABLE providers (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    user_id TEXT UNIQUE REFERENCES users(id),
    display_name TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
    specialty TEXT
);
CREATE INDEX providers_by_clinic ON providers (clinic_id);

-- Weekly template: ISO weekday 1 = Monday … 7 = Sunday, minutes after local midnight.
CREATE TABLE provider_working_hours (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    provider_id TEXT NOT NULL REFERENCES providers(id),
    location_id TEXT REFERENCES locations(id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute)
);
CREATE INDEX provider_working_hours_by_provider ON provider_working_hours (provider_id, weekday);

CREATE TABLE provider_days_off (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    provider_id TEXT NOT NULL REFERENCES providers(id),
    first_day TEXT NOT NULL CHECK (first_day LIKE '____-__-__' AND date(first_day) = first_day),
    last_day TEXT NOT NULL CHECK (last_day LIKE '____-__-__' AND date(last_day) = last_day),
    reason TEXT,
    CHECK (last_day >= first_day)
);
CREATE INDEX provider_days_off_by_provider ON provider_days_off (provider_id, first_day);

-- ---------------------------------------------------------------------------------------------
-- Patients and their contact details. The SSN / national ID is never a key (and not stored in v1).
CREATE TABLE patients (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    mrn TEXT NOT NULL UNIQUE CHECK (length(mrn) BETWEEN 6 AND 16 AND mrn NOT GLOB '*[^0-9A-Z-]*'),
    given_name TEXT NOT NULL CHECK (length(trim(given_name)) BETWEEN 1 AND 100),
    middle_name TEXT CHECK (middle_name IS NULL OR length(middle_name) <= 100),
    family_name TEXT NOT NULL CHECK (length(trim(family_name)) BETWEEN 1 AND 100),
    preferred_name TEXT CHECK (preferred_name IS NULL OR length(preferred_name) <= 100),
    date_of_birth TEXT NOT NULL
        CHECK (date_of_birth LIKE '____-__-__' AND date(date_of_birth) = date_of_birth),
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
    merged_into_id TEXT REFERENCES patients(id),
    CHECK (merged_into_id IS NULL OR merged_into_id <> id)
);
CREATE INDEX patients_by_family_name ON patients (family_name COLLATE NOCASE, given_name COLLATE NOCASE);
CREATE INDEX patients_by_given_name ON patients (given_name COLLATE NOCASE);
CREATE INDEX patients_by_birth_date ON patients (date_of_birth);
CREATE INDEX patients_by_merge_target ON patients (merged_into_id) WHERE merged_into_id IS NOT NULL;

CREATE TABLE patient_phones (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('mobile', 'home', 'work', 'other')),
    number TEXT NOT NULL CHECK (length(number) BETWEEN 3 AND 40),
    -- Digits only, for search whatever the formatting.
    digits TEXT NOT NULL CHECK (length(digits) BETWEEN 3 AND 20 AND digits NOT GLOB '*[^0-9]*'),
    is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);
CREATE INDEX patient_phones_by_patient ON patient_phones (patient_id);
CREATE INDEX patient_phones_by_digits ON patient_phones (digits);

CREATE TABLE patient_addresses (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('home', 'work', 'mailing', 'other')),
    line1 TEXT NOT NULL CHECK (length(trim(line1)) BETWEEN 1 AND 200),
    line2 TEXT,
    city TEXT NOT NULL CHECK (length(trim(city)) BETWEEN 1 AND 100),
    region TEXT,
    postal_code TEXT,
    country TEXT NOT NULL DEFAULT 'US' CHECK (length(country) = 2)
);
CREATE INDEX patient_addresses_by_patient ON patient_addresses (patient_id);

CREATE TABLE patient_emails (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'work', 'other')),
    address TEXT NOT NULL CHECK (address LIKE '%_@_%.%' AND length(address) <= 254)
);
CREATE INDEX patient_emails_by_patient ON patient_emails (patient_id);

-- Who may see a restricted chart without emergency access.
CREATE TABLE care_team_members (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    care_role TEXT NOT NULL CHECK (care_role IN ('primary_clinician', 'clinician', 'nurse', 'other'))
);
CREATE UNIQUE INDEX care_team_members_once ON care_team_members (patient_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX care_team_members_by_user ON care_team_members (user_id);

CREATE TABLE emergency_access_grants (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL CHECK (length(trim(reason)) BETWEEN 10 AND 1000),
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    reviewed_at TEXT,
    reviewed_by TEXT REFERENCES users(id),
    review_note TEXT,
    CHECK (expires_at > granted_at)
);
CREATE INDEX emergency_access_grants_by_user ON emergency_access_grants (user_id, patient_id, expires_at);
CREATE INDEX emergency_access_grants_unreviewed ON emergency_access_grants (granted_at) WHERE reviewed_at IS NULL;

-- ---------------------------------------------------------------------------------------------
-- Scheduling.
CREATE TABLE appointment_types (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    default_minutes INTEGER NOT NULL CHECK (default_minutes BETWEEN 5 AND 480)
);

CREATE TABLE appointment_series (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    interval_weeks INTEGER NOT NULL CHECK (interval_weeks BETWEEN 1 AND 52),
    until_day TEXT CHECK (until_day IS NULL OR date(until_day) = until_day),
    occurrences INTEGER CHECK (occurrences IS NULL OR occurrences BETWEEN 1 AND 520),
    CHECK (until_day IS NOT NULL OR occurrences IS NOT NULL)
);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    provider_id TEXT NOT NULL REFERENCES providers(id),
    appointment_type_id TEXT REFERENCES appointment_types(id),
    location_id TEXT REFERENCES locations(id),
    series_id TEXT REFERENCES appointment_series(id),
    starts_at TEXT NOT NULL CHECK (starts_at LIKE '____-__-__T__:__:__.___Z'),
    ends_at TEXT NOT NULL CHECK (ends_at LIKE '____-__-__T__:__:__.___Z'),
    status TEXT NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'arrived', 'in_progress', 'completed', 'cancelled', 'no_show')),
    outside_hours_override INTEGER NOT NULL DEFAULT 0 CHECK (outside_hours_override IN (0, 1)),
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 500),
    cancel_reason TEXT,
    arrived_at TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_by_provider_time ON appointments (provider_id, starts_at);
CREATE INDEX appointments_by_patient_time ON appointments (patient_id, starts_at);
CREATE INDEX appointments_by_clinic_time ON appointments (clinic_id, starts_at);
CREATE INDEX appointments_by_series ON appointments (series_id) WHERE series_id IS NOT NULL;

-- No provider and no patient holds two overlapping live (not cancelled, not deleted) appointments.
CREATE TRIGGER appointments_no_double_booking_insert
BEFORE INSERT ON appointments
WHEN NEW.status <> 'cancelled' AND NEW.deleted_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'double_booking: the provider already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.provider_id = NEW.provider_id AND other.id <> NEW.id
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at);
    SELECT RAISE(ABORT, 'double_booking: the patient already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.patient_id = NEW.patient_id AND other.id <> NEW.id
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at);
END;

CREATE TRIGGER appointments_no_double_booking_update
BEFORE UPDATE OF provider_id, patient_id, starts_at, ends_at, status, deleted_at ON appointments
WHEN NEW.status <> 'cancelled' AND NEW.deleted_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'double_booking: the provider already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.provider_id = NEW.provider_id AND other.id <> NEW.id
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at);
    SELECT RAISE(ABORT, 'double_booking: the patient already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.patient_id = NEW.patient_id AND other.id <> NEW.id
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at);
END;

-- ---------------------------------------------------------------------------------------------
-- Vital signs: a set (LOINC 85353-1) of observations. Append-only: the only change allowed is
-- marking a final observation entered-in-error, with a reason.
CREATE TABLE vitals_sets (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    appointment_id TEXT REFERENCES appointments(id),
    recorded_by TEXT NOT NULL REFERENCES users(id),
    effective_at TEXT NOT NULL CHECK (effective_at LIKE '____-__-__T__:__:__.___Z')
);
CREATE INDEX vitals_sets_by_patient_time ON vitals_sets (patient_id, effective_at);

CREATE TABLE vital_observations (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    vitals_set_id TEXT NOT NULL REFERENCES vitals_sets(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    effective_at TEXT NOT NULL CHECK (effective_at LIKE '____-__-__T__:__:__.___Z'),
    loinc_code TEXT NOT NULL CHECK (loinc_code IN (
        '8480-6', '8462-4', '8867-4', '9279-1', '8310-5', '59408-5', '29463-7', '8302-2', '39156-5', '72514-3')),
    value REAL NOT NULL,
    unit TEXT NOT NULL CHECK (unit = CASE loinc_code
        WHEN '8480-6' THEN 'mm[Hg]' WHEN '8462-4' THEN 'mm[Hg]'
        WHEN '8867-4' THEN '/min' WHEN '9279-1' THEN '/min'
        WHEN '8310-5' THEN 'Cel' WHEN '59408-5' THEN '%'
        WHEN '29463-7' THEN 'kg' WHEN '8302-2' THEN 'cm'
        WHEN '39156-5' THEN 'kg/m2' WHEN '72514-3' THEN '{score}' END),
    interpretation TEXT CHECK (interpretation IS NULL OR interpretation IN
        ('normal', 'low', 'high', 'critical_low', 'critical_high')),
    status TEXT NOT NULL DEFAULT 'final' CHECK (status IN ('final', 'entered_in_error')),
    entered_in_error_reason TEXT,
    replaced_by_id TEXT REFERENCES vital_observations(id),
    -- Plausible ranges (PRODUCT.md); BMI has none of its own, it follows from weight and height.
    CHECK (CASE loinc_code
        WHEN '8480-6' THEN value BETWEEN 50 AND 300
        WHEN '8462-4' THEN value BETWEEN 20 AND 200
        WHEN '8867-4' THEN value BETWEEN 20 AND 300
        WHEN '9279-1' THEN value BETWEEN 4 AND 80
        WHEN '8310-5' THEN value BETWEEN 25 AND 45
        WHEN '59408-5' THEN value BETWEEN 50 AND 100
        WHEN '29463-7' THEN value BETWEEN 0.3 AND 500
        WHEN '8302-2' THEN value BETWEEN 20 AND 272
        WHEN '39156-5' THEN value > 0
        WHEN '72514-3' THEN value BETWEEN 0 AND 10 AND value = CAST(value AS INTEGER)
        END),
    CHECK (status = 'final' OR length(trim(entered_in_error_reason)) > 0)
);
CREATE INDEX vital_observations_by_patient_code_time ON vital_observations (patient_id, loinc_code, effective_at);
CREATE INDEX vital_observations_by_set ON vital_observations (vitals_set_id);

CREATE TRIGGER vital_observations_append_only
BEFORE UPDATE ON vital_observations
WHEN OLD.status <> 'final'
  OR NEW.status <> 'entered_in_error'
  OR NEW.value IS NOT OLD.value OR NEW.unit IS NOT OLD.unit OR NEW.loinc_code IS NOT OLD.loinc_code
  OR NEW.patient_id IS NOT OLD.patient_id OR NEW.vitals_set_id IS NOT OLD.vitals_set_id
  OR NEW.effective_at IS NOT OLD.effective_at OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'append_only: an observation is never edited; mark it entered-in-error and record a new one');
END;

CREATE TRIGGER vital_observations_no_delete
BEFORE DELETE ON vital_observations
BEGIN
    SELECT RAISE(ABORT, 'append_only: observations are never deleted');
END;

-- ---------------------------------------------------------------------------------------------
-- Notes: append-only; corrections are addenda (parent_note_id) or entered-in-error marks.
CREATE TABLE notes (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('clinical', 'nursing')),
    parent_note_id TEXT REFERENCES notes(id),
    title TEXT CHECK (title IS NULL OR length(title) <= 200),
    body TEXT NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 100000),
    written_at TEXT NOT NULL CHECK (written_at LIKE '____-__-__T__:__:__.___Z'),
    status TEXT NOT NULL DEFAULT 'final' CHECK (status IN ('final', 'entered_in_error')),
    entered_in_error_reason TEXT,
    CHECK (status = 'final' OR length(trim(entered_in_error_reason)) > 0),
    CHECK (parent_note_id IS NULL OR parent_note_id <> id)
);
CREATE INDEX notes_by_patient_time ON notes (patient_id, written_at);
CREATE INDEX notes_by_parent ON notes (parent_note_id) WHERE parent_note_id IS NOT NULL;

CREATE TRIGGER notes_append_only
BEFORE UPDATE ON notes
WHEN OLD.status <> 'final'
  OR NEW.status <> 'entered_in_error'
  OR NEW.body IS NOT OLD.body OR NEW.title IS NOT OLD.title OR NEW.kind IS NOT OLD.kind
  OR NEW.patient_id IS NOT OLD.patient_id OR NEW.author_id IS NOT OLD.author_id
  OR NEW.parent_note_id IS NOT OLD.parent_note_id OR NEW.written_at IS NOT OLD.written_at
BEGIN
    SELECT RAISE(ABORT, 'append_only: a note is never edited; write an addendum');
END;

CREATE TRIGGER notes_no_delete
BEFORE DELETE ON notes
BEGIN
    SELECT RAISE(ABORT, 'append_only: notes are never deleted');
END;

-- ---------------------------------------------------------------------------------------------
-- Unsaved form drafts, kept for the same user across an automatic logoff (device-local).
CREATE TABLE drafts (
    user_id TEXT NOT NULL REFERENCES users(id),
    form_key TEXT NOT NULL CHECK (length(form_key) BETWEEN 1 AND 200),
    payload TEXT NOT NULL CHECK (length(payload) <= 1000000),
    saved_at TEXT NOT NULL,
    PRIMARY KEY (user_id, form_key)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------------------------
-- Settings. Ranges are enforced here as well as in the code.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at TEXT NOT NULL,
    updated_by TEXT REFERENCES users(id),
    CHECK (CASE key
        WHEN 'idle_logoff_seconds' THEN CAST(value AS INTEGER) BETWEEN 60 AND 3600
        WHEN 'idle_warning_seconds' THEN CAST(value AS INTEGER) BETWEEN 10 AND 600
        WHEN 'max_failed_logins' THEN CAST(value AS INTEGER) BETWEEN 3 AND 20
        WHEN 'lock_minutes' THEN CAST(value AS INTEGER) BETWEEN 1 AND 1440
        WHEN 'emergency_access_minutes' THEN CAST(value AS INTEGER) BETWEEN 5 AND 1440
        ELSE 1 END)
);

-- ---------------------------------------------------------------------------------------------
-- Audit trail: append-only, hash-chained. `entry_hash` = SHA-256 over `prev_hash` and the
-- entry's fields; the chain head is anchored in `audit_chain_head`, so cutting off the newest
-- entries is caught. Deliberately no foreign keys: the trail must outlive anything it names.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
    occurred_at TEXT NOT NULL CHECK (occurred_at LIKE '____-__-__T__:__:__.___Z'),
    user_id TEXT,
    username TEXT,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action GLOB '[a-z]*.[a-z]*'),
    object_type TEXT,
    object_id TEXT,
    patient_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
    entry_hash TEXT NOT NULL UNIQUE CHECK (length(entry_hash) = 64)
);
CREATE INDEX audit_log_by_time ON audit_log (occurred_at);
CREATE INDEX audit_log_by_user ON audit_log (user_id, occurred_at);
CREATE INDEX audit_log_by_patient ON audit_log (patient_id, occurred_at) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_log_by_action ON audit_log (action, occurred_at);

CREATE TABLE audit_chain_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    entry_hash TEXT NOT NULL CHECK (length(entry_hash) = 64)
);
INSERT INTO audit_chain_head (singleton, seq, entry_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_chain_order
BEFORE INSERT ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_chain: an audit entry must extend the chain head')
    WHERE NEW.seq <> (SELECT seq + 1 FROM audit_chain_head)
       OR NEW.prev_hash <> (SELECT entry_hash FROM audit_chain_head);
END;

CREATE TRIGGER audit_log_advance_head
AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_chain_head SET seq = NEW.seq, entry_hash = NEW.entry_hash WHERE singleton = 1;
END;

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'append_only: the audit trail cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'append_only: the audit trail cannot be changed');
END;

CREATE TRIGGER audit_chain_head_only_forward
BEFORE UPDATE ON audit_chain_head
WHEN NEW.seq <> OLD.seq + 1
BEGIN
    SELECT RAISE(ABORT, 'audit_chain: the chain head only moves forward');
END;

CREATE TRIGGER audit_chain_head_no_delete
BEFORE DELETE ON audit_chain_head
BEGIN
    SELECT RAISE(ABORT, 'audit_chain: the chain head cannot be removed');
END;

-- ---------------------------------------------------------------------------------------------
-- Sync: every local change goes to the outbox in the same transaction as the change.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE CHECK (length(change_id) = 36),
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
    base_version INTEGER CHECK (base_version IS NULL OR base_version >= 1),
    new_version INTEGER NOT NULL CHECK (new_version >= 1),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    pushed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT
);
CREATE INDEX outbox_unpushed ON outbox (seq) WHERE pushed_at IS NULL;

CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    local_change_id TEXT,
    local_payload TEXT NOT NULL CHECK (json_valid(local_payload)),
    server_payload TEXT CHECK (server_payload IS NULL OR json_valid(server_payload)),
    detected_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT REFERENCES users(id),
    resolution TEXT CHECK (resolution IS NULL OR resolution IN ('kept_local', 'kept_server', 'merged'))
);
CREATE INDEX sync_conflicts_open ON sync_conflicts (detected_at) WHERE resolved_at IS NULL;
