-- Schema v2: search indexes for patients and notes, merge records, and re-parenting of clinical
-- rows when two patient records are merged.

-- Patient names, searched with the trigram tokenizer (substrings, and typos through trigram overlap).
CREATE VIRTUAL TABLE patient_name_search USING fts5(
    names,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram remove_diacritics 1'
);

CREATE TRIGGER patients_search_insert AFTER INSERT ON patients
WHEN NEW.deleted_at IS NULL AND NEW.merged_into_id IS NULL
BEGIN
    INSERT INTO patient_name_search (rowid, names)
    VALUES (NEW.rowid, NEW.given_name || ' ' || coalesce(NEW.middle_name || ' ', '') || NEW.family_name || coalesce(' ' || NEW.preferred_name, ''));
END;

CREATE TRIGGER patients_search_update AFTER UPDATE OF given_name, middle_name, family_name, preferred_name, deleted_at, merged_into_id ON patients
BEGIN
    DELETE FROM patient_name_search WHERE rowid = OLD.rowid;
    INSERT INTO patient_name_search (rowid, names)
    SELECT NEW.rowid, NEW.given_name || ' ' || coalesce(NEW.middle_name || ' ', '') || NEW.family_name || coalesce(' ' || NEW.preferred_name, '')
    WHERE NEW.deleted_at IS NULL AND NEW.merged_into_id IS NULL;
END;

-- Phone search by the last seven digits, whatever the prefix a caller gives.
ALTER TABLE patient_phones ADD COLUMN digits_tail TEXT;
UPDATE patient_phones SET digits_tail = substr(digits, -7);
CREATE INDEX patient_phones_by_tail ON patient_phones (digits_tail);

CREATE TRIGGER patient_phones_tail_insert AFTER INSERT ON patient_phones
WHEN NEW.digits_tail IS NULL OR NEW.digits_tail <> substr(NEW.digits, -7)
BEGIN
    UPDATE patient_phones SET digits_tail = substr(NEW.digits, -7) WHERE id = NEW.id;
END;

-- Notes, searched within one patient's chart.
CREATE VIRTUAL TABLE note_search USING fts5(
    title,
    body,
    content = 'notes',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER notes_search_insert AFTER INSERT ON notes
BEGIN
    INSERT INTO note_search (rowid, title, body) VALUES (NEW.rowid, NEW.title, NEW.body);
END;

-- A merge of two patient records, with exactly which rows moved, so it can be undone.
CREATE TABLE patient_merges (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    surviving_patient_id TEXT NOT NULL REFERENCES patients(id),
    merged_patient_id TEXT NOT NULL REFERENCES patients(id),
    moved_rows TEXT NOT NULL CHECK (json_valid(moved_rows)),
    undone_at TEXT,
    undone_by TEXT REFERENCES users(id),
    CHECK (surviving_patient_id <> merged_patient_id)
);
CREATE INDEX patient_merges_by_merged ON patient_merges (merged_patient_id);

-- Observations and notes stay append-only, with one more allowed change: moving them to another
-- patient record in a merge (or its undo), their clinical content untouched.
DROP TRIGGER vital_observations_append_only;
CREATE TRIGGER vital_observations_append_only
BEFORE UPDATE ON vital_observations
WHEN NOT (
    -- entered-in-error, once, content unchanged
    (OLD.status = 'final' AND NEW.status = 'entered_in_error'
     AND NEW.patient_id IS OLD.patient_id)
    OR
    -- re-parenting in a merge, content and status unchanged
    (NEW.status IS OLD.status AND NEW.patient_id IS NOT OLD.patient_id
     AND NEW.entered_in_error_reason IS OLD.entered_in_error_reason)
  )
  OR NEW.value IS NOT OLD.value OR NEW.unit IS NOT OLD.unit OR NEW.loinc_code IS NOT OLD.loinc_code
  OR NEW.vitals_set_id IS NOT OLD.vitals_set_id OR NEW.interpretation IS NOT OLD.interpretation
  OR NEW.effective_at IS NOT OLD.effective_at OR NEW.created_at IS NOT OLD.created_at
  OR NEW.created_by IS NOT OLD.created_by
BEGIN
    SELECT RAISE(ABORT, 'append_only: an observation is never edited; mark it entered-in-error and record a new one');
END;

DROP TRIGGER notes_append_only;
CREATE TRIGGER notes_append_only
BEFORE UPDATE ON notes
WHEN NOT (
    (OLD.status = 'final' AND NEW.status = 'entered_in_error' AND NEW.patient_id IS OLD.patient_id)
    OR
    (NEW.status IS OLD.status AND NEW.patient_id IS NOT OLD.patient_id
     AND NEW.entered_in_error_reason IS OLD.entered_in_error_reason)
  )
  OR NEW.body IS NOT OLD.body OR NEW.title IS NOT OLD.title OR NEW.kind IS NOT OLD.kind
  OR NEW.author_id IS NOT OLD.author_id OR NEW.parent_note_id IS NOT OLD.parent_note_id
  OR NEW.written_at IS NOT OLD.written_at OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'append_only: a note is never edited; write an addendum');
END;

-- Setting up provider schedules (working hours, days off, appointment types): the front desk and
-- the administrator (no patient data involved).
INSERT INTO permissions (code, description) VALUES ('schedule.manage', 'Set providers, working hours, days off and appointment types');
INSERT INTO role_permissions (role, permission) VALUES ('front_desk', 'schedule.manage'), ('administrator', 'schedule.manage');

-- Overlap checks look back at most 12 hours (the longest an appointment may last), so they are
-- an index range, not a scan of every earlier appointment of the provider or patient.
DROP TRIGGER appointments_no_double_booking_insert;
DROP TRIGGER appointments_no_double_booking_update;

CREATE TRIGGER appointments_no_double_booking_insert
BEFORE INSERT ON appointments
WHEN NEW.status <> 'cancelled' AND NEW.deleted_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'appointment_too_long: an appointment lasts at most 12 hours')
    WHERE NEW.ends_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '+12 hours');
    SELECT RAISE(ABORT, 'double_booking: the provider already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.provider_id = NEW.provider_id AND other.id <> NEW.id
          AND other.starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '-12 hours')
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL);
    SELECT RAISE(ABORT, 'double_booking: the patient already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.patient_id = NEW.patient_id AND other.id <> NEW.id
          AND other.starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '-12 hours')
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL);
END;

CREATE TRIGGER appointments_no_double_booking_update
BEFORE UPDATE OF provider_id, patient_id, starts_at, ends_at, status, deleted_at ON appointments
WHEN NEW.status <> 'cancelled' AND NEW.deleted_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'appointment_too_long: an appointment lasts at most 12 hours')
    WHERE NEW.ends_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '+12 hours');
    SELECT RAISE(ABORT, 'double_booking: the provider already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.provider_id = NEW.provider_id AND other.id <> NEW.id
          AND other.starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '-12 hours')
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL);
    SELECT RAISE(ABORT, 'double_booking: the patient already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM appointments other
        WHERE other.patient_id = NEW.patient_id AND other.id <> NEW.id
          AND other.starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, '-12 hours')
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at
          AND other.status <> 'cancelled' AND other.deleted_at IS NULL);
END;
