-- Schema 3: backups and point-in-time restore.
--
-- * `backup_keys`: the clinic's backup key pair. Every backup's file key is sealed to the public
--   half; the secret half lives here, inside the encrypted store, so any manager or administrator
--   signed in to this clinic opens its backups, across password changes and key rotations.
-- * `backup_runs`: every backup attempt (on demand or scheduled) with its outcome, so a failure
--   is shown to managers and never silent.
-- * `change_journal`: every change to a clinical or administrative row, as the full row after the
--   change (or the key of a deleted row), written by triggers in the same transaction. A
--   point-in-time restore restores the backup before the chosen moment and replays the journal up
--   to it. Triggers rather than code paths, so no write can bypass it.
-- * `change_journal_clock`: the core sets the transaction number and time at the start of every
--   write transaction (time comes from the core's injected clock, not SQLite's); the triggers copy
--   them into each journal row. A bulk import (demo data) switches recording off and leaves a
--   `gap` row, so no point-in-time restore replays across it.
--
-- The journal triggers below list every column of their table. A test fails when a later
-- migration adds a column without updating its trigger.

CREATE TABLE backup_keys (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    public_key TEXT NOT NULL CHECK (length(public_key) = 64),
    secret_key BLOB NOT NULL CHECK (length(secret_key) = 32),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z')
);

CREATE TABLE backup_runs (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    started_at TEXT NOT NULL CHECK (started_at LIKE '____-__-__T__:__:__.___Z'),
    finished_at TEXT NOT NULL CHECK (finished_at LIKE '____-__-__T__:__:__.___Z'),
    scheduled INTEGER NOT NULL CHECK (scheduled IN (0, 1)),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    file_path TEXT,
    bytes INTEGER CHECK (bytes IS NULL OR bytes >= 0),
    error_code TEXT,
    error_message TEXT,
    user_id TEXT
);
CREATE INDEX backup_runs_by_time ON backup_runs (finished_at);

CREATE TABLE change_journal_clock (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    txn INTEGER NOT NULL CHECK (txn >= 0),
    at TEXT NOT NULL,
    recording INTEGER NOT NULL CHECK (recording IN (0, 1)),
    -- A new timeline starts at every restore: a point-in-time restore replays only a journal
    -- that continues the backup's own timeline.
    timeline TEXT NOT NULL CHECK (length(timeline) = 32)
);
INSERT INTO change_journal_clock (singleton, txn, at, recording, timeline)
VALUES (1, 0, '1970-01-01T00:00:00.000Z', 1, lower(hex(randomblob(16))));

CREATE TABLE change_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txn INTEGER NOT NULL,
    at TEXT NOT NULL,
    table_name TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('insert', 'update', 'delete', 'gap')),
    row_key TEXT NOT NULL CHECK (json_valid(row_key)),
    row_after TEXT CHECK (row_after IS NULL OR json_valid(row_after))
);
CREATE INDEX change_journal_by_txn ON change_journal (txn);

CREATE TRIGGER change_journal_no_update
BEFORE UPDATE ON change_journal
BEGIN
    SELECT RAISE(ABORT, 'append_only: the change journal cannot be changed');
END;

CREATE TRIGGER users_journal_insert
AFTER INSERT ON users
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'users', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'username', NEW.username,
        'display_name', NEW.display_name,
        'role', NEW.role,
        'disabled', NEW.disabled,
        'failed_login_count', NEW.failed_login_count,
        'locked_until', NEW.locked_until,
        'must_change_password', NEW.must_change_password,
        'password_changed_at', NEW.password_changed_at,
        'last_login_at', NEW.last_login_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER users_journal_update
AFTER UPDATE ON users
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'users', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'username', NEW.username,
        'display_name', NEW.display_name,
        'role', NEW.role,
        'disabled', NEW.disabled,
        'failed_login_count', NEW.failed_login_count,
        'locked_until', NEW.locked_until,
        'must_change_password', NEW.must_change_password,
        'password_changed_at', NEW.password_changed_at,
        'last_login_at', NEW.last_login_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER users_journal_delete
AFTER DELETE ON users
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'users', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER clinics_journal_insert
AFTER INSERT ON clinics
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'clinics', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'name', NEW.name,
        'time_zone', NEW.time_zone)
    FROM change_journal_clock;
END;

CREATE TRIGGER clinics_journal_update
AFTER UPDATE ON clinics
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'clinics', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'name', NEW.name,
        'time_zone', NEW.time_zone)
    FROM change_journal_clock;
END;

CREATE TRIGGER clinics_journal_delete
AFTER DELETE ON clinics
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'clinics', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER locations_journal_insert
AFTER INSERT ON locations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'locations', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'name', NEW.name)
    FROM change_journal_clock;
END;

CREATE TRIGGER locations_journal_update
AFTER UPDATE ON locations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'locations', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'name', NEW.name)
    FROM change_journal_clock;
END;

CREATE TRIGGER locations_journal_delete
AFTER DELETE ON locations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'locations', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER providers_journal_insert
AFTER INSERT ON providers
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'providers', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'user_id', NEW.user_id,
        'display_name', NEW.display_name,
        'specialty', NEW.specialty)
    FROM change_journal_clock;
END;

CREATE TRIGGER providers_journal_update
AFTER UPDATE ON providers
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'providers', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'user_id', NEW.user_id,
        'display_name', NEW.display_name,
        'specialty', NEW.specialty)
    FROM change_journal_clock;
END;

CREATE TRIGGER providers_journal_delete
AFTER DELETE ON providers
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'providers', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_working_hours_journal_insert
AFTER INSERT ON provider_working_hours
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_working_hours', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'provider_id', NEW.provider_id,
        'location_id', NEW.location_id,
        'weekday', NEW.weekday,
        'start_minute', NEW.start_minute,
        'end_minute', NEW.end_minute)
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_working_hours_journal_update
AFTER UPDATE ON provider_working_hours
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_working_hours', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'provider_id', NEW.provider_id,
        'location_id', NEW.location_id,
        'weekday', NEW.weekday,
        'start_minute', NEW.start_minute,
        'end_minute', NEW.end_minute)
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_working_hours_journal_delete
AFTER DELETE ON provider_working_hours
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_working_hours', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_days_off_journal_insert
AFTER INSERT ON provider_days_off
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_days_off', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'provider_id', NEW.provider_id,
        'first_day', NEW.first_day,
        'last_day', NEW.last_day,
        'reason', NEW.reason)
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_days_off_journal_update
AFTER UPDATE ON provider_days_off
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_days_off', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'provider_id', NEW.provider_id,
        'first_day', NEW.first_day,
        'last_day', NEW.last_day,
        'reason', NEW.reason)
    FROM change_journal_clock;
END;

CREATE TRIGGER provider_days_off_journal_delete
AFTER DELETE ON provider_days_off
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'provider_days_off', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER patients_journal_insert
AFTER INSERT ON patients
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patients', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'mrn', NEW.mrn,
        'given_name', NEW.given_name,
        'middle_name', NEW.middle_name,
        'family_name', NEW.family_name,
        'preferred_name', NEW.preferred_name,
        'date_of_birth', NEW.date_of_birth,
        'sex', NEW.sex,
        'restricted', NEW.restricted,
        'merged_into_id', NEW.merged_into_id)
    FROM change_journal_clock;
END;

CREATE TRIGGER patients_journal_update
AFTER UPDATE ON patients
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patients', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'mrn', NEW.mrn,
        'given_name', NEW.given_name,
        'middle_name', NEW.middle_name,
        'family_name', NEW.family_name,
        'preferred_name', NEW.preferred_name,
        'date_of_birth', NEW.date_of_birth,
        'sex', NEW.sex,
        'restricted', NEW.restricted,
        'merged_into_id', NEW.merged_into_id)
    FROM change_journal_clock;
END;

CREATE TRIGGER patients_journal_delete
AFTER DELETE ON patients
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patients', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_phones_journal_insert
AFTER INSERT ON patient_phones
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_phones', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'number', NEW.number,
        'digits', NEW.digits,
        'is_primary', NEW.is_primary,
        'digits_tail', NEW.digits_tail)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_phones_journal_update
AFTER UPDATE ON patient_phones
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_phones', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'number', NEW.number,
        'digits', NEW.digits,
        'is_primary', NEW.is_primary,
        'digits_tail', NEW.digits_tail)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_phones_journal_delete
AFTER DELETE ON patient_phones
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_phones', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_addresses_journal_insert
AFTER INSERT ON patient_addresses
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_addresses', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'line1', NEW.line1,
        'line2', NEW.line2,
        'city', NEW.city,
        'region', NEW.region,
        'postal_code', NEW.postal_code,
        'country', NEW.country)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_addresses_journal_update
AFTER UPDATE ON patient_addresses
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_addresses', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'line1', NEW.line1,
        'line2', NEW.line2,
        'city', NEW.city,
        'region', NEW.region,
        'postal_code', NEW.postal_code,
        'country', NEW.country)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_addresses_journal_delete
AFTER DELETE ON patient_addresses
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_addresses', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_emails_journal_insert
AFTER INSERT ON patient_emails
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_emails', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'address', NEW.address)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_emails_journal_update
AFTER UPDATE ON patient_emails
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_emails', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'kind', NEW.kind,
        'address', NEW.address)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_emails_journal_delete
AFTER DELETE ON patient_emails
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_emails', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER care_team_members_journal_insert
AFTER INSERT ON care_team_members
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'care_team_members', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'user_id', NEW.user_id,
        'care_role', NEW.care_role)
    FROM change_journal_clock;
END;

CREATE TRIGGER care_team_members_journal_update
AFTER UPDATE ON care_team_members
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'care_team_members', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'user_id', NEW.user_id,
        'care_role', NEW.care_role)
    FROM change_journal_clock;
END;

CREATE TRIGGER care_team_members_journal_delete
AFTER DELETE ON care_team_members
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'care_team_members', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER emergency_access_grants_journal_insert
AFTER INSERT ON emergency_access_grants
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'emergency_access_grants', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'user_id', NEW.user_id,
        'reason', NEW.reason,
        'granted_at', NEW.granted_at,
        'expires_at', NEW.expires_at,
        'reviewed_at', NEW.reviewed_at,
        'reviewed_by', NEW.reviewed_by,
        'review_note', NEW.review_note)
    FROM change_journal_clock;
END;

CREATE TRIGGER emergency_access_grants_journal_update
AFTER UPDATE ON emergency_access_grants
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'emergency_access_grants', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'user_id', NEW.user_id,
        'reason', NEW.reason,
        'granted_at', NEW.granted_at,
        'expires_at', NEW.expires_at,
        'reviewed_at', NEW.reviewed_at,
        'reviewed_by', NEW.reviewed_by,
        'review_note', NEW.review_note)
    FROM change_journal_clock;
END;

CREATE TRIGGER emergency_access_grants_journal_delete
AFTER DELETE ON emergency_access_grants
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'emergency_access_grants', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_types_journal_insert
AFTER INSERT ON appointment_types
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_types', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'name', NEW.name,
        'default_minutes', NEW.default_minutes)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_types_journal_update
AFTER UPDATE ON appointment_types
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_types', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'name', NEW.name,
        'default_minutes', NEW.default_minutes)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_types_journal_delete
AFTER DELETE ON appointment_types
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_types', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_series_journal_insert
AFTER INSERT ON appointment_series
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_series', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'interval_weeks', NEW.interval_weeks,
        'until_day', NEW.until_day,
        'occurrences', NEW.occurrences)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_series_journal_update
AFTER UPDATE ON appointment_series
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_series', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'interval_weeks', NEW.interval_weeks,
        'until_day', NEW.until_day,
        'occurrences', NEW.occurrences)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointment_series_journal_delete
AFTER DELETE ON appointment_series
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointment_series', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER appointments_journal_insert
AFTER INSERT ON appointments
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointments', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'patient_id', NEW.patient_id,
        'provider_id', NEW.provider_id,
        'appointment_type_id', NEW.appointment_type_id,
        'location_id', NEW.location_id,
        'series_id', NEW.series_id,
        'starts_at', NEW.starts_at,
        'ends_at', NEW.ends_at,
        'status', NEW.status,
        'outside_hours_override', NEW.outside_hours_override,
        'reason', NEW.reason,
        'cancel_reason', NEW.cancel_reason,
        'arrived_at', NEW.arrived_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointments_journal_update
AFTER UPDATE ON appointments
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointments', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'clinic_id', NEW.clinic_id,
        'patient_id', NEW.patient_id,
        'provider_id', NEW.provider_id,
        'appointment_type_id', NEW.appointment_type_id,
        'location_id', NEW.location_id,
        'series_id', NEW.series_id,
        'starts_at', NEW.starts_at,
        'ends_at', NEW.ends_at,
        'status', NEW.status,
        'outside_hours_override', NEW.outside_hours_override,
        'reason', NEW.reason,
        'cancel_reason', NEW.cancel_reason,
        'arrived_at', NEW.arrived_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER appointments_journal_delete
AFTER DELETE ON appointments
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'appointments', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER vitals_sets_journal_insert
AFTER INSERT ON vitals_sets
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vitals_sets', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'appointment_id', NEW.appointment_id,
        'recorded_by', NEW.recorded_by,
        'effective_at', NEW.effective_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER vitals_sets_journal_update
AFTER UPDATE ON vitals_sets
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vitals_sets', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'appointment_id', NEW.appointment_id,
        'recorded_by', NEW.recorded_by,
        'effective_at', NEW.effective_at)
    FROM change_journal_clock;
END;

CREATE TRIGGER vitals_sets_journal_delete
AFTER DELETE ON vitals_sets
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vitals_sets', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER vital_observations_journal_insert
AFTER INSERT ON vital_observations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vital_observations', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'vitals_set_id', NEW.vitals_set_id,
        'patient_id', NEW.patient_id,
        'effective_at', NEW.effective_at,
        'loinc_code', NEW.loinc_code,
        'value', NEW.value,
        'unit', NEW.unit,
        'interpretation', NEW.interpretation,
        'status', NEW.status,
        'entered_in_error_reason', NEW.entered_in_error_reason,
        'replaced_by_id', NEW.replaced_by_id)
    FROM change_journal_clock;
END;

CREATE TRIGGER vital_observations_journal_update
AFTER UPDATE ON vital_observations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vital_observations', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'vitals_set_id', NEW.vitals_set_id,
        'patient_id', NEW.patient_id,
        'effective_at', NEW.effective_at,
        'loinc_code', NEW.loinc_code,
        'value', NEW.value,
        'unit', NEW.unit,
        'interpretation', NEW.interpretation,
        'status', NEW.status,
        'entered_in_error_reason', NEW.entered_in_error_reason,
        'replaced_by_id', NEW.replaced_by_id)
    FROM change_journal_clock;
END;

CREATE TRIGGER vital_observations_journal_delete
AFTER DELETE ON vital_observations
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'vital_observations', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER notes_journal_insert
AFTER INSERT ON notes
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'notes', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'author_id', NEW.author_id,
        'kind', NEW.kind,
        'parent_note_id', NEW.parent_note_id,
        'title', NEW.title,
        'body', NEW.body,
        'written_at', NEW.written_at,
        'status', NEW.status,
        'entered_in_error_reason', NEW.entered_in_error_reason)
    FROM change_journal_clock;
END;

CREATE TRIGGER notes_journal_update
AFTER UPDATE ON notes
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'notes', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'patient_id', NEW.patient_id,
        'author_id', NEW.author_id,
        'kind', NEW.kind,
        'parent_note_id', NEW.parent_note_id,
        'title', NEW.title,
        'body', NEW.body,
        'written_at', NEW.written_at,
        'status', NEW.status,
        'entered_in_error_reason', NEW.entered_in_error_reason)
    FROM change_journal_clock;
END;

CREATE TRIGGER notes_journal_delete
AFTER DELETE ON notes
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'notes', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_merges_journal_insert
AFTER INSERT ON patient_merges
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_merges', 'insert', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'surviving_patient_id', NEW.surviving_patient_id,
        'merged_patient_id', NEW.merged_patient_id,
        'moved_rows', NEW.moved_rows,
        'undone_at', NEW.undone_at,
        'undone_by', NEW.undone_by)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_merges_journal_update
AFTER UPDATE ON patient_merges
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_merges', 'update', json_object('id', NEW.id), json_object(
        'id', NEW.id,
        'version', NEW.version,
        'created_at', NEW.created_at,
        'created_by', NEW.created_by,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by,
        'deleted_at', NEW.deleted_at,
        'deleted_by', NEW.deleted_by,
        'surviving_patient_id', NEW.surviving_patient_id,
        'merged_patient_id', NEW.merged_patient_id,
        'moved_rows', NEW.moved_rows,
        'undone_at', NEW.undone_at,
        'undone_by', NEW.undone_by)
    FROM change_journal_clock;
END;

CREATE TRIGGER patient_merges_journal_delete
AFTER DELETE ON patient_merges
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'patient_merges', 'delete', json_object('id', OLD.id), NULL
    FROM change_journal_clock;
END;

CREATE TRIGGER settings_journal_insert
AFTER INSERT ON settings
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'settings', 'insert', json_object('key', NEW.key), json_object(
        'key', NEW.key,
        'value', NEW.value,
        'version', NEW.version,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by)
    FROM change_journal_clock;
END;

CREATE TRIGGER settings_journal_update
AFTER UPDATE ON settings
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'settings', 'update', json_object('key', NEW.key), json_object(
        'key', NEW.key,
        'value', NEW.value,
        'version', NEW.version,
        'updated_at', NEW.updated_at,
        'updated_by', NEW.updated_by)
    FROM change_journal_clock;
END;

CREATE TRIGGER settings_journal_delete
AFTER DELETE ON settings
WHEN (SELECT recording FROM change_journal_clock) = 1
BEGIN
    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
    SELECT txn, at, 'settings', 'delete', json_object('key', OLD.key), NULL
    FROM change_journal_clock;
END;
