-- Schema 4: what a login records stays on this workstation.
--
-- `users` rows sync to every workstation of the clinic, so they hold only what is true
-- everywhere: who the person is, their role, whether they are disabled. When someone last signed
-- in here is a fact of this workstation (failed logins and lockouts are counted in the key-slot
-- file, before the store can be opened), so it moves to `user_sign_ins`, which never syncs.
--
-- The journal triggers of `users` named the dropped columns; the core writes every journal
-- trigger from the table registry and each table's columns after migrating, so they are dropped
-- here and written anew.

CREATE TABLE user_sign_ins (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    last_login_at TEXT NOT NULL CHECK (last_login_at LIKE '____-__-__T__:__:__.___Z')
) WITHOUT ROWID;

INSERT INTO user_sign_ins (user_id, last_login_at)
SELECT id, last_login_at FROM users WHERE last_login_at IS NOT NULL;

DROP TRIGGER users_journal_insert;
DROP TRIGGER users_journal_update;

ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP COLUMN failed_login_count;
ALTER TABLE users DROP COLUMN locked_until;
