-- Central schema 3: staff accounts that work on every workstation, and the audit trails of the
-- clinic's other workstations for each workstation to read.
--
-- * `users.password_verifier` (see crates/clinicdesk-keyslot/src/verifier.rs): checked at a
--   member of staff's first sign-in on a workstation where they have no key slot yet. The
--   server never sees a password: the workstation answers the verifier's challenge with the
--   Argon2id output, and the server compares that output's SHA-256 with the verifier.
-- * Each workstation has a first-sign-in slot in its key-slot file, opened by `unlock_secret`,
--   which only the server keeps. The server hands it out, to that workstation's sign-in role
--   only, for a password its verifier accepts of an enabled account of the clinic. Neither the
--   server nor the workstation's disk alone opens the workstation's store.
-- * A sign-in role (`<workstation role>_signin`, member of `clinicdesk_sign_in`) is the only
--   credential a workstation keeps outside its encrypted store: it can ask for a challenge and
--   answer it, nothing else (no table is granted to it).
-- * `audit_entries.received_seq` numbers entries as they arrive; pushes of a clinic go one at a
--   time (the clinic's sequence row is locked), so a workstation pulls other workstations'
--   entries in order by it.
--
-- New errors: CD010 wrong username or password (first sign-in), CD011 the account is disabled,
-- CD012 the account has no verifier yet.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clinicdesk_sign_in') THEN
        CREATE ROLE clinicdesk_sign_in NOLOGIN;
    END IF;
END
$$;

ALTER TABLE clinicdesk.users ADD COLUMN password_verifier text
    CHECK (password_verifier IS NULL OR length(password_verifier) BETWEEN 1 AND 300);

ALTER TABLE clinicdesk.workstations ADD COLUMN unlock_secret bytea
    CHECK (unlock_secret IS NULL OR length(unlock_secret) = 32);
ALTER TABLE clinicdesk.workstations ADD COLUMN sign_in_role text UNIQUE;

ALTER TABLE clinicdesk.audit_entries ADD COLUMN received_seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX audit_entries_received ON clinicdesk.audit_entries (clinic_id, received_seq);

-- A workstation's clinic, for its own role and for its sign-in role.
CREATE OR REPLACE FUNCTION clinicdesk.current_clinic() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
    SELECT clinic_id FROM clinicdesk.workstations
    WHERE (role_name = session_user OR sign_in_role = session_user)
      AND revoked_at IS NULL AND enrolled_at IS NOT NULL
$$;

-- Called by a workstation (its own role): keeps the secret of its first-sign-in slot and sets
-- the password of its sign-in role (a SCRAM verifier: the server never sees that password
-- either). Called again, it replaces both.
CREATE FUNCTION clinicdesk.prepare_sign_in(secret bytea, sign_in_password text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    station clinicdesk.workstations%ROWTYPE;
    name text := session_user || '_signin';
BEGIN
    SELECT * INTO station FROM clinicdesk.workstations
    WHERE role_name = session_user AND revoked_at IS NULL AND enrolled_at IS NOT NULL FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'this workstation is not enrolled or was revoked' USING ERRCODE = 'CD006';
    END IF;
    IF length(secret) IS DISTINCT FROM 32 OR sign_in_password NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'malformed sign-in preparation' USING ERRCODE = 'CD004';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
        EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', name, sign_in_password);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE clinicdesk_sign_in', name, sign_in_password);
    END IF;
    UPDATE clinicdesk.workstations SET unlock_secret = secret, sign_in_role = name
    WHERE role_name = station.role_name;
    RETURN name;
END
$$;

-- The challenge for a username: the verifier without its check. An unknown name gets a
-- made-up challenge that stays the same, so the answer does not tell which names exist.
CREATE FUNCTION clinicdesk.sign_in_challenge(name text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    clinic uuid := clinicdesk.current_clinic();
    verifier text;
BEGIN
    IF clinic IS NULL THEN
        RAISE EXCEPTION 'this workstation is not enrolled or was revoked' USING ERRCODE = 'CD006';
    END IF;
    SELECT u.password_verifier INTO verifier FROM clinicdesk.users u
    WHERE u.clinic_id = clinic AND u.username = lower(name) AND u.deleted_at IS NULL;
    IF verifier IS NULL THEN
        SELECT u.password_verifier INTO verifier FROM clinicdesk.users u
        WHERE u.clinic_id = clinic AND u.password_verifier IS NOT NULL
        ORDER BY u.updated_at DESC LIMIT 1;
        RETURN coalesce(split_part(verifier, '$', 1) || '$' || split_part(verifier, '$', 2) || '$'
                        || split_part(verifier, '$', 3) || '$' || split_part(verifier, '$', 4),
                        'cdv1$65536$3$1')
            || '$' || md5(clinic::text || lower(name));
    END IF;
    RETURN regexp_replace(verifier, '\$[0-9a-f]*$', '');
END
$$;

-- A first sign-in: the answer to the challenge, checked against the verifier. Returns the
-- workstation's unlock secret (hex) and the account's row as last pushed (a workstation's row).
CREATE FUNCTION clinicdesk.first_sign_in(name text, proof text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    clinic uuid := clinicdesk.current_clinic();
    account clinicdesk.users%ROWTYPE;
    secret bytea;
BEGIN
    IF clinic IS NULL THEN
        RAISE EXCEPTION 'this workstation is not enrolled or was revoked' USING ERRCODE = 'CD006';
    END IF;
    SELECT * INTO account FROM clinicdesk.users u
    WHERE u.clinic_id = clinic AND u.username = lower(name) AND u.deleted_at IS NULL;
    IF NOT FOUND OR proof !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'wrong username or password' USING ERRCODE = 'CD010';
    END IF;
    IF account.password_verifier IS NULL THEN
        RAISE EXCEPTION 'this account has no password the server can check yet' USING ERRCODE = 'CD012';
    END IF;
    IF encode(sha256(decode(proof, 'hex')), 'hex') <> split_part(account.password_verifier, '$', 6) THEN
        RAISE EXCEPTION 'wrong username or password' USING ERRCODE = 'CD010';
    END IF;
    IF account.disabled THEN
        RAISE EXCEPTION 'this account is disabled' USING ERRCODE = 'CD011';
    END IF;
    SELECT w.unlock_secret INTO secret FROM clinicdesk.workstations w WHERE w.sign_in_role = session_user;
    RETURN jsonb_build_object(
        'unlock_secret', encode(secret, 'hex'),
        'version', account.version,
        'user', (SELECT c.payload FROM clinicdesk.changes c
                 WHERE c.clinic_id = clinic AND c.table_name = 'users' AND c.row_id = account.id
                 ORDER BY c.seq DESC LIMIT 1));
END
$$;

REVOKE ALL ON FUNCTION clinicdesk.prepare_sign_in(bytea, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinicdesk.sign_in_challenge(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinicdesk.first_sign_in(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinicdesk.prepare_sign_in(bytea, text) TO clinicdesk_workstation;
GRANT USAGE ON SCHEMA clinicdesk TO clinicdesk_sign_in;
GRANT EXECUTE ON FUNCTION clinicdesk.sign_in_challenge(text) TO clinicdesk_sign_in;
GRANT EXECUTE ON FUNCTION clinicdesk.first_sign_in(text, text) TO clinicdesk_sign_in;
