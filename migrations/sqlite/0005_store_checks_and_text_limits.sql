-- Schema 5: the store's own health on record, and the length limits of free text in the engine.
--
-- * `store_checks`: every full check of the store (SQLCipher's page authentication, SQLite's
--   structure, foreign keys, the audit chain), on demand or on the weekly schedule, with what it
--   found. A failure is shown to managers and administrators like a failed backup. It stays on
--   this workstation: another workstation's store has its own health.
-- * Length limits: the core checks every free-text field (docs/reference.md, "Input limits");
--   the store refuses the same lengths, so no path can store more. Columns that had no limit get
--   one here by trigger (a CHECK cannot be added to an existing SQLite table); the message names
--   the field, which the core turns into an `invalid_input` error about it.

CREATE TABLE store_checks (
    id TEXT PRIMARY KEY CHECK (length(id) = 36),
    started_at TEXT NOT NULL CHECK (started_at LIKE '____-__-__T__:__:__.___Z'),
    finished_at TEXT NOT NULL CHECK (finished_at LIKE '____-__-__T__:__:__.___Z'),
    scheduled INTEGER NOT NULL CHECK (scheduled IN (0, 1)),
    outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'failed')),
    problems TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(problems)),
    user_id TEXT
);
CREATE INDEX store_checks_by_time ON store_checks (finished_at);

CREATE TRIGGER providers_specialty_limit_insert BEFORE INSERT ON providers
WHEN length(NEW.specialty) > 200
BEGIN SELECT RAISE(ABORT, 'invalid_input:specialty: the specialty is at most 200 characters'); END;
CREATE TRIGGER providers_specialty_limit_update BEFORE UPDATE OF specialty ON providers
WHEN length(NEW.specialty) > 200
BEGIN SELECT RAISE(ABORT, 'invalid_input:specialty: the specialty is at most 200 characters'); END;

CREATE TRIGGER provider_days_off_reason_limit_insert BEFORE INSERT ON provider_days_off
WHEN length(NEW.reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason is at most 500 characters'); END;
CREATE TRIGGER provider_days_off_reason_limit_update BEFORE UPDATE OF reason ON provider_days_off
WHEN length(NEW.reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason is at most 500 characters'); END;

CREATE TRIGGER appointments_cancel_reason_limit_insert BEFORE INSERT ON appointments
WHEN length(NEW.cancel_reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason for cancelling is at most 500 characters'); END;
CREATE TRIGGER appointments_cancel_reason_limit_update BEFORE UPDATE OF cancel_reason ON appointments
WHEN length(NEW.cancel_reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason for cancelling is at most 500 characters'); END;

CREATE TRIGGER vital_observations_error_reason_limit_update BEFORE UPDATE OF entered_in_error_reason ON vital_observations
WHEN length(NEW.entered_in_error_reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason is at most 500 characters'); END;

CREATE TRIGGER notes_error_reason_limit_update BEFORE UPDATE OF entered_in_error_reason ON notes
WHEN length(NEW.entered_in_error_reason) > 500
BEGIN SELECT RAISE(ABORT, 'invalid_input:reason: the reason is at most 500 characters'); END;

CREATE TRIGGER emergency_access_grants_review_note_limit_update BEFORE UPDATE OF review_note ON emergency_access_grants
WHEN length(NEW.review_note) > 1000
BEGIN SELECT RAISE(ABORT, 'invalid_input:note: the review note is at most 1000 characters'); END;
