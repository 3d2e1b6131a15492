-- Schema 9: the chart's safety facts. Allergies (with "no known allergies" kept apart from
-- "never asked"), current medications with their review, and problems.
--
-- Rules the store enforces whatever wrote the row (docs/reference.md, "Allergies, medications
-- and problems"):
-- * closed sets by CHECK; dates are calendar days (YYYY-MM-DD) from 1900 on; a stop or
--   resolution is not before its start;
-- * nothing is deleted: a row wrongly recorded is marked entered-in-error, with a reason, and
--   stays so;
-- * a current "no known allergies" confirmation and an active allergy of the same patient never
--   coexist, except in rows taken from the central server while sync applies them (two
--   workstations can each record one offline; the chart then shows the allergy and the
--   contradicting confirmation, and a nurse or clinician settles it). Sync marks that moment with
--   the `applying_server_rows` row of `sync_state`, inside its own transaction.
--
-- The journal triggers of these tables are written by the core after migrating (from the table
-- registry, crates/clinicdesk-core/src/tables.rs).

CREATE TABLE allergies (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    substance TEXT NOT NULL CHECK (length(trim(substance)) BETWEEN 1 AND 200),
    substance_code TEXT CHECK (substance_code IS NULL OR length(substance_code) BETWEEN 1 AND 64),
    category TEXT NOT NULL CHECK (category IN ('food', 'medication', 'environment')),
    reaction TEXT CHECK (reaction IS NULL OR length(reaction) <= 500),
    severity TEXT CHECK (severity IS NULL OR severity IN ('mild', 'moderate', 'severe')),
    criticality TEXT CHECK (criticality IS NULL OR criticality IN ('low', 'high', 'unable_to_assess')),
    onset TEXT CHECK (onset IS NULL OR (onset GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                         AND date(onset) IS onset AND onset >= '1900-01-01')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'entered_in_error')),
    entered_in_error_reason TEXT CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0)
);
CREATE INDEX allergies_by_patient ON allergies (patient_id, status);

-- "No known allergies", as a nurse or clinician confirmed it (who: created_by; when: created_at).
-- Withdrawn when an allergy is recorded later, or entered-in-error. No row at all: never asked.
CREATE TABLE allergy_confirmations (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    status TEXT NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'withdrawn', 'entered_in_error')),
    entered_in_error_reason TEXT CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0)
);
CREATE INDEX allergy_confirmations_by_patient ON allergy_confirmations (patient_id, status);

CREATE TABLE medications (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    code TEXT CHECK (code IS NULL OR length(code) BETWEEN 1 AND 64),
    dose TEXT CHECK (dose IS NULL OR length(dose) <= 100),
    route TEXT CHECK (route IS NULL OR length(route) <= 100),
    frequency TEXT CHECK (frequency IS NULL OR length(frequency) <= 100),
    started_on TEXT CHECK (started_on IS NULL OR (started_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                                   AND date(started_on) IS started_on AND started_on >= '1900-01-01')),
    stopped_on TEXT CHECK (stopped_on IS NULL OR (stopped_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                                   AND date(stopped_on) IS stopped_on AND stopped_on >= '1900-01-01')),
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 200),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped', 'entered_in_error')),
    entered_in_error_reason TEXT CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (stopped_on IS NULL OR started_on IS NULL OR stopped_on >= started_on),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0)
);
CREATE INDEX medications_by_patient ON medications (patient_id, status);

-- A clinician's "medication list reviewed" (who: created_by; when: created_at). Append-only.
CREATE TABLE medication_reviews (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id)
);
CREATE INDEX medication_reviews_by_patient ON medication_reviews (patient_id, created_at);

CREATE TABLE problems (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TEXT NOT NULL CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    updated_by TEXT REFERENCES users(id),
    deleted_at TEXT,
    deleted_by TEXT REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    description TEXT NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 200),
    -- ICD-10: a letter, two characters, then optionally a dot and up to four more (E11, E11.65).
    icd10_code TEXT CHECK (icd10_code IS NULL OR (length(icd10_code) BETWEEN 3 AND 8
        AND icd10_code GLOB '[A-Z][0-9][0-9A-Z]*'
        AND (length(icd10_code) = 3 OR substr(icd10_code, 4, 1) = '.'))),
    onset TEXT CHECK (onset IS NULL OR (onset GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                         AND date(onset) IS onset AND onset >= '1900-01-01')),
    resolved_on TEXT CHECK (resolved_on IS NULL OR (resolved_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                                     AND date(resolved_on) IS resolved_on AND resolved_on >= '1900-01-01')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'resolved', 'entered_in_error')),
    entered_in_error_reason TEXT CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (resolved_on IS NULL OR onset IS NULL OR resolved_on >= onset),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0)
);
CREATE INDEX problems_by_patient ON problems (patient_id, status);

-- Nothing is deleted; entered-in-error is final.
CREATE TRIGGER allergies_no_delete BEFORE DELETE ON allergies
BEGIN SELECT RAISE(ABORT, 'append_only: an allergy is never deleted; mark it entered-in-error'); END;
CREATE TRIGGER allergy_confirmations_no_delete BEFORE DELETE ON allergy_confirmations
BEGIN SELECT RAISE(ABORT, 'append_only: a confirmation is never deleted; mark it entered-in-error'); END;
CREATE TRIGGER medications_no_delete BEFORE DELETE ON medications
BEGIN SELECT RAISE(ABORT, 'append_only: a medication is never deleted; mark it entered-in-error'); END;
CREATE TRIGGER medication_reviews_no_delete BEFORE DELETE ON medication_reviews
BEGIN SELECT RAISE(ABORT, 'append_only: a medication review is never deleted'); END;
CREATE TRIGGER problems_no_delete BEFORE DELETE ON problems
BEGIN SELECT RAISE(ABORT, 'append_only: a problem is never deleted; mark it entered-in-error'); END;

CREATE TRIGGER allergies_entered_in_error_is_final BEFORE UPDATE ON allergies
WHEN OLD.status = 'entered_in_error' AND (NEW.status IS NOT OLD.status OR NEW.substance IS NOT OLD.substance)
BEGIN SELECT RAISE(ABORT, 'append_only: an allergy marked entered-in-error stays so; record it again'); END;
CREATE TRIGGER allergy_confirmations_stay BEFORE UPDATE ON allergy_confirmations
WHEN (NEW.status IS NOT OLD.status
      AND NOT (OLD.status = 'current' AND NEW.status IN ('withdrawn', 'entered_in_error')
               AND NEW.patient_id IS OLD.patient_id))
  OR NEW.created_at IS NOT OLD.created_at OR NEW.created_by IS NOT OLD.created_by
BEGIN SELECT RAISE(ABORT, 'append_only: a "no known allergies" confirmation is only ever withdrawn or marked entered-in-error'); END;
CREATE TRIGGER medications_entered_in_error_is_final BEFORE UPDATE ON medications
WHEN OLD.status = 'entered_in_error' AND (NEW.status IS NOT OLD.status OR NEW.name IS NOT OLD.name)
BEGIN SELECT RAISE(ABORT, 'append_only: a medication marked entered-in-error stays so; record it again'); END;
CREATE TRIGGER medication_reviews_append_only BEFORE UPDATE ON medication_reviews
WHEN NEW.created_at IS NOT OLD.created_at OR NEW.created_by IS NOT OLD.created_by
BEGIN SELECT RAISE(ABORT, 'append_only: a medication review is never changed'); END;
CREATE TRIGGER problems_entered_in_error_is_final BEFORE UPDATE ON problems
WHEN OLD.status = 'entered_in_error' AND (NEW.status IS NOT OLD.status OR NEW.description IS NOT OLD.description)
BEGIN SELECT RAISE(ABORT, 'append_only: a problem marked entered-in-error stays so; record it again'); END;

-- "No known allergies" and an active allergy never both hold (see the header).
CREATE TRIGGER allergies_contradict_no_known_allergies_on_insert BEFORE INSERT ON allergies
WHEN NEW.status = 'active'
  AND EXISTS (SELECT 1 FROM allergy_confirmations c
              WHERE c.patient_id = NEW.patient_id AND c.status = 'current')
  AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying_server_rows')
BEGIN
    SELECT RAISE(ABORT, 'invalid_input:status: the patient is confirmed to have no known allergies; withdraw that confirmation before recording an active allergy');
END;
CREATE TRIGGER allergies_contradict_no_known_allergies_on_update BEFORE UPDATE ON allergies
WHEN NEW.status = 'active'
  AND (OLD.status IS NOT 'active' OR NEW.patient_id IS NOT OLD.patient_id)
  AND EXISTS (SELECT 1 FROM allergy_confirmations c
              WHERE c.patient_id = NEW.patient_id AND c.status = 'current')
  AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying_server_rows')
BEGIN
    SELECT RAISE(ABORT, 'invalid_input:status: the patient is confirmed to have no known allergies; withdraw that confirmation before recording an active allergy');
END;
CREATE TRIGGER no_known_allergies_contradict_allergies_on_insert BEFORE INSERT ON allergy_confirmations
WHEN NEW.status = 'current'
  AND EXISTS (SELECT 1 FROM allergies a WHERE a.patient_id = NEW.patient_id AND a.status = 'active')
  AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying_server_rows')
BEGIN
    SELECT RAISE(ABORT, 'invalid_input:allergy_status: the patient has an active allergy recorded; "no known allergies" cannot be confirmed');
END;
CREATE TRIGGER no_known_allergies_contradict_allergies_on_update BEFORE UPDATE ON allergy_confirmations
WHEN NEW.status = 'current'
  AND (OLD.status IS NOT 'current' OR NEW.patient_id IS NOT OLD.patient_id)
  AND EXISTS (SELECT 1 FROM allergies a WHERE a.patient_id = NEW.patient_id AND a.status = 'active')
  AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying_server_rows')
BEGIN
    SELECT RAISE(ABORT, 'invalid_input:allergy_status: the patient has an active allergy recorded; "no known allergies" cannot be confirmed');
END;

-- Who may do what (docs/reference.md, "Permissions and who holds them"). The front desk sees
-- only whether a patient has allergies (a badge), never the list; managers see none of it.
INSERT INTO permissions (code, description) VALUES
    ('allergies.read', 'Read allergies and the allergy status'),
    ('allergies.write', 'Record allergies, confirm no known allergies, update or mark them entered-in-error'),
    ('allergies.flag', 'See whether a patient has allergies recorded (a badge), not the list'),
    ('medications.read', 'Read current and past medications and their review'),
    ('medications.write', 'Record medications, update, stop or mark them entered-in-error'),
    ('medications.review', 'Mark the medication list reviewed'),
    ('problems.read', 'Read the problem list'),
    ('problems.write', 'Record problems, update, resolve or mark them entered-in-error');
INSERT INTO role_permissions (role, permission) VALUES
    ('clinician', 'allergies.read'), ('clinician', 'allergies.write'), ('clinician', 'allergies.flag'),
    ('nurse', 'allergies.read'), ('nurse', 'allergies.write'), ('nurse', 'allergies.flag'),
    ('front_desk', 'allergies.flag'),
    ('clinician', 'medications.read'), ('clinician', 'medications.write'), ('clinician', 'medications.review'),
    ('nurse', 'medications.read'), ('nurse', 'medications.write'),
    ('clinician', 'problems.read'), ('clinician', 'problems.write'),
    ('nurse', 'problems.read'), ('nurse', 'problems.write');
