-- Schema 7: staff accounts that work on every workstation of the clinic.
--
-- * `users.password_verifier`: what the central server checks a first sign-in on another
--   workstation against (`cdv1$<memory KiB>$<iterations>$<lanes>$<salt hex>$<SHA-256 hex of
--   the Argon2id output>`, never the password). It syncs with the user's row; a new verifier
--   pulled from the server makes this workstation drop the user's key slot, so an old password
--   stops opening anything here. The audit trail never shows it.
-- * `remote_audit_entries`: the audit trails of the clinic's other workstations as of the last
--   sync, for the audit review, a patient's access report and lockouts across the clinic. Each
--   workstation's trail keeps its own hash chain; this copy is for reading only and never syncs.
--
-- The journal triggers of `users` name its columns; the core writes them anew after migrating.

DROP TRIGGER IF EXISTS users_journal_insert;
DROP TRIGGER IF EXISTS users_journal_update;

ALTER TABLE users ADD COLUMN password_verifier TEXT
    CHECK (password_verifier IS NULL OR length(password_verifier) BETWEEN 1 AND 300);

CREATE TABLE remote_audit_entries (
    received_seq INTEGER PRIMARY KEY CHECK (received_seq >= 1),
    workstation_role TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    id TEXT NOT NULL UNIQUE,
    occurred_at TEXT NOT NULL,
    user_id TEXT,
    username TEXT,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT,
    object_id TEXT,
    patient_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    UNIQUE (workstation_role, seq)
);
CREATE INDEX remote_audit_by_time ON remote_audit_entries (occurred_at);
CREATE INDEX remote_audit_by_patient ON remote_audit_entries (patient_id, occurred_at)
    WHERE patient_id IS NOT NULL;
CREATE INDEX remote_audit_by_action ON remote_audit_entries (action, occurred_at);
