-- Central schema 1: the clinic records of every clinic of a group, as the workstations push them.
--
-- * The same tables, columns and rules as a workstation's store (migrations/sqlite), with typed
--   columns and `clinic_id` leading every primary key, unique, foreign key and exclusion
--   constraint, so the schema can later be distributed by clinic (Citus) without change.
-- * Every table has FORCE ROW LEVEL SECURITY and one policy: a row is visible to, and may be
--   written by, the workstations of its clinic only (`clinicdesk.current_clinic()`).
-- * Workstations are PostgreSQL login roles that own nothing: members of
--   `clinicdesk_workstation`, which may read and write rows (never delete) and call
--   `clinicdesk.push_changes`. The tables belong to the role that ran `server init`.
-- * `changes` is each clinic's change sequence: one row per applied change, numbered gap-free in
--   commit order by the clinic's row in `clinic_sequences` (locked by the pushing transaction).
--   Workstations pull from it; a change id is applied at most once.
-- * `audit_entries` keeps every workstation's audit chain, append-only.

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SCHEMA clinicdesk;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clinicdesk_workstation') THEN
        CREATE ROLE clinicdesk_workstation NOLOGIN;
    END IF;
END
$$;

-- The clinics of this server and their workstations (server tools only).
CREATE TABLE clinicdesk.clinic_registry (
    clinic_id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The clinic takes the id of the first workstation's store when that workstation enrols.
    bound_at timestamptz
);

CREATE TABLE clinicdesk.workstations (
    role_name text PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinicdesk.clinic_registry (clinic_id) ON UPDATE CASCADE,
    label text NOT NULL CHECK (length(trim(label)) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    enrolled_at timestamptz,
    revoked_at timestamptz,
    last_push_at timestamptz,
    last_pull_at timestamptz
);

CREATE TABLE clinicdesk.clinic_sequences (
    clinic_id uuid PRIMARY KEY REFERENCES clinicdesk.clinic_registry (clinic_id) ON UPDATE CASCADE,
    last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);

-- The clinic of the workstation signed in on this connection; NULL for anyone else, and for a
-- revoked workstation (which then sees and writes nothing).
CREATE FUNCTION clinicdesk.current_clinic() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
    SELECT clinic_id FROM clinicdesk.workstations
    WHERE role_name = session_user AND revoked_at IS NULL AND enrolled_at IS NOT NULL
$$;

-- ---------------------------------------------------------------------------------------------
-- The synced tables (the core's table registry, `crates/clinicdesk-core/src/tables.rs`).

CREATE TABLE clinicdesk.users (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    username text NOT NULL
        CHECK (username = lower(username) AND length(username) BETWEEN 2 AND 64
               AND username !~ '[^a-z0-9._-]'),
    display_name text NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('administrator', 'manager', 'clinician', 'nurse', 'front_desk')),
    disabled boolean NOT NULL DEFAULT false,
    must_change_password boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz,
    PRIMARY KEY (clinic_id, id),
    UNIQUE (clinic_id, username)
);

CREATE TABLE clinicdesk.clinics (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL CHECK (id = clinic_id),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.locations (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.providers (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    user_id uuid,
    display_name text NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
    specialty text CHECK (specialty IS NULL OR length(specialty) <= 200),
    PRIMARY KEY (clinic_id, id),
    UNIQUE (clinic_id, user_id)
);

CREATE TABLE clinicdesk.provider_working_hours (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    provider_id uuid NOT NULL,
    location_id uuid,
    weekday integer NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_minute integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute integer NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.provider_days_off (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    provider_id uuid NOT NULL,
    first_day date NOT NULL,
    last_day date NOT NULL,
    reason text CHECK (reason IS NULL OR length(reason) <= 500),
    CHECK (last_day >= first_day),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.patients (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    mrn text NOT NULL CHECK (length(mrn) BETWEEN 6 AND 16 AND mrn !~ '[^0-9A-Z-]'),
    given_name text NOT NULL CHECK (length(trim(given_name)) BETWEEN 1 AND 100),
    middle_name text CHECK (middle_name IS NULL OR length(middle_name) <= 100),
    family_name text NOT NULL CHECK (length(trim(family_name)) BETWEEN 1 AND 100),
    preferred_name text CHECK (preferred_name IS NULL OR length(preferred_name) <= 100),
    date_of_birth date NOT NULL,
    sex text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    restricted boolean NOT NULL DEFAULT false,
    merged_into_id uuid,
    CHECK (merged_into_id IS NULL OR merged_into_id <> id),
    PRIMARY KEY (clinic_id, id),
    UNIQUE (clinic_id, mrn)
);
-- Name search across the clinic (the server's own reports and tools).
CREATE INDEX patients_name_trigram ON clinicdesk.patients
    USING gin ((given_name || ' ' || family_name) gin_trgm_ops);

CREATE TABLE clinicdesk.patient_phones (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('mobile', 'home', 'work', 'other')),
    number text NOT NULL CHECK (length(number) BETWEEN 3 AND 40),
    digits text NOT NULL CHECK (length(digits) BETWEEN 3 AND 20 AND digits !~ '[^0-9]'),
    is_primary boolean NOT NULL DEFAULT false,
    digits_tail text,
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.patient_addresses (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('home', 'work', 'mailing', 'other')),
    line1 text NOT NULL CHECK (length(trim(line1)) BETWEEN 1 AND 200),
    line2 text,
    city text NOT NULL CHECK (length(trim(city)) BETWEEN 1 AND 100),
    region text,
    postal_code text,
    country text NOT NULL DEFAULT 'US' CHECK (length(country) = 2),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.patient_emails (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('personal', 'work', 'other')),
    address text NOT NULL CHECK (address LIKE '%_@_%.%' AND length(address) <= 254),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.care_team_members (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    user_id uuid NOT NULL,
    care_role text NOT NULL CHECK (care_role IN ('primary_clinician', 'clinician', 'nurse', 'other')),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.emergency_access_grants (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    user_id uuid NOT NULL,
    reason text NOT NULL CHECK (length(trim(reason)) BETWEEN 10 AND 1000),
    granted_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    reviewed_at timestamptz,
    reviewed_by uuid,
    review_note text CHECK (review_note IS NULL OR length(review_note) <= 1000),
    CHECK (expires_at > granted_at),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.appointment_types (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    default_minutes integer NOT NULL CHECK (default_minutes BETWEEN 5 AND 480),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.appointment_series (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    interval_weeks integer NOT NULL CHECK (interval_weeks BETWEEN 1 AND 52),
    until_day date,
    occurrences integer CHECK (occurrences IS NULL OR occurrences BETWEEN 1 AND 520),
    CHECK (until_day IS NOT NULL OR occurrences IS NOT NULL),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.appointments (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    appointment_type_id uuid,
    location_id uuid,
    series_id uuid,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'arrived', 'in_progress', 'completed', 'cancelled', 'no_show')),
    outside_hours_override boolean NOT NULL DEFAULT false,
    reason text CHECK (reason IS NULL OR length(reason) <= 500),
    cancel_reason text CHECK (cancel_reason IS NULL OR length(cancel_reason) <= 500),
    arrived_at timestamptz,
    CHECK (ends_at > starts_at),
    PRIMARY KEY (clinic_id, id),
    -- No provider and no patient holds two overlapping live appointments, whichever
    -- workstation booked them.
    CONSTRAINT appointments_no_provider_double_booking EXCLUDE USING gist (
        clinic_id WITH =, provider_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status <> 'cancelled' AND deleted_at IS NULL),
    CONSTRAINT appointments_no_patient_double_booking EXCLUDE USING gist (
        clinic_id WITH =, patient_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status <> 'cancelled' AND deleted_at IS NULL)
);

CREATE TABLE clinicdesk.vitals_sets (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    appointment_id uuid,
    recorded_by uuid NOT NULL,
    effective_at timestamptz NOT NULL,
    PRIMARY KEY (clinic_id, id)
);

-- Partitioned by month of the observation: the largest table by far. The month's partition is
-- made when its first observation arrives (`clinicdesk.vitals_partition_for`).
CREATE TABLE clinicdesk.vital_observations (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    vitals_set_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    effective_at timestamptz NOT NULL,
    loinc_code text NOT NULL CHECK (loinc_code IN (
        '8480-6', '8462-4', '8867-4', '9279-1', '8310-5', '59408-5', '29463-7', '8302-2', '39156-5', '72514-3')),
    value double precision NOT NULL,
    unit text NOT NULL CHECK (unit = CASE loinc_code
        WHEN '8480-6' THEN 'mm[Hg]' WHEN '8462-4' THEN 'mm[Hg]'
        WHEN '8867-4' THEN '/min' WHEN '9279-1' THEN '/min'
        WHEN '8310-5' THEN 'Cel' WHEN '59408-5' THEN '%'
        WHEN '29463-7' THEN 'kg' WHEN '8302-2' THEN 'cm'
        WHEN '39156-5' THEN 'kg/m2' WHEN '72514-3' THEN '{score}' END),
    interpretation text CHECK (interpretation IS NULL OR interpretation IN
        ('normal', 'low', 'high', 'critical_low', 'critical_high')),
    status text NOT NULL DEFAULT 'final' CHECK (status IN ('final', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    -- Not a foreign key: a partitioned table can only be referenced through its partition key.
    replaced_by_id uuid,
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
        WHEN '72514-3' THEN value BETWEEN 0 AND 10 AND value = trunc(value)
        END),
    CHECK (status = 'final' OR length(trim(entered_in_error_reason)) > 0),
    PRIMARY KEY (clinic_id, id, effective_at)
) PARTITION BY RANGE (effective_at);
CREATE TABLE clinicdesk.vital_observations_undated PARTITION OF clinicdesk.vital_observations DEFAULT;
CREATE INDEX vital_observations_by_row ON clinicdesk.vital_observations (clinic_id, id);

CREATE TABLE clinicdesk.notes (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    patient_id uuid NOT NULL,
    author_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('clinical', 'nursing')),
    parent_note_id uuid,
    title text CHECK (title IS NULL OR length(title) <= 200),
    body text NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 100000),
    written_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'final' CHECK (status IN ('final', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (status = 'final' OR length(trim(entered_in_error_reason)) > 0),
    CHECK (parent_note_id IS NULL OR parent_note_id <> id),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.patient_merges (
    clinic_id uuid NOT NULL,
    id uuid NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    created_by uuid,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    deleted_at timestamptz,
    deleted_by uuid,
    surviving_patient_id uuid NOT NULL,
    merged_patient_id uuid NOT NULL,
    moved_rows jsonb NOT NULL,
    undone_at timestamptz,
    undone_by uuid,
    CHECK (surviving_patient_id <> merged_patient_id),
    PRIMARY KEY (clinic_id, id)
);

-- Foreign keys: every reference stays inside its clinic. Deferred to the end of the push, so a
-- batch may carry a row and the user who made it in either order.
DO $$
DECLARE
    reference record;
BEGIN
    FOR reference IN
        SELECT * FROM (VALUES
            ('providers', 'user_id', 'users', 'id'),
            ('provider_working_hours', 'provider_id', 'providers', 'id'),
            ('provider_working_hours', 'location_id', 'locations', 'id'),
            ('provider_days_off', 'provider_id', 'providers', 'id'),
            ('patients', 'merged_into_id', 'patients', 'id'),
            ('patient_phones', 'patient_id', 'patients', 'id'),
            ('patient_addresses', 'patient_id', 'patients', 'id'),
            ('patient_emails', 'patient_id', 'patients', 'id'),
            ('care_team_members', 'patient_id', 'patients', 'id'),
            ('care_team_members', 'user_id', 'users', 'id'),
            ('emergency_access_grants', 'patient_id', 'patients', 'id'),
            ('emergency_access_grants', 'user_id', 'users', 'id'),
            ('emergency_access_grants', 'reviewed_by', 'users', 'id'),
            ('appointments', 'patient_id', 'patients', 'id'),
            ('appointments', 'provider_id', 'providers', 'id'),
            ('appointments', 'appointment_type_id', 'appointment_types', 'id'),
            ('appointments', 'location_id', 'locations', 'id'),
            ('appointments', 'series_id', 'appointment_series', 'id'),
            ('vitals_sets', 'patient_id', 'patients', 'id'),
            ('vitals_sets', 'appointment_id', 'appointments', 'id'),
            ('vitals_sets', 'recorded_by', 'users', 'id'),
            ('vital_observations', 'vitals_set_id', 'vitals_sets', 'id'),
            ('vital_observations', 'patient_id', 'patients', 'id'),
            ('notes', 'patient_id', 'patients', 'id'),
            ('notes', 'author_id', 'users', 'id'),
            ('notes', 'parent_note_id', 'notes', 'id'),
            ('patient_merges', 'surviving_patient_id', 'patients', 'id'),
            ('patient_merges', 'merged_patient_id', 'patients', 'id'),
            ('patient_merges', 'undone_by', 'users', 'id')
        ) AS r (child, child_column, parent, parent_column)
        UNION ALL
        SELECT t.name, c.col, 'users', 'id'
        FROM (VALUES ('users'), ('clinics'), ('locations'), ('providers'), ('provider_working_hours'),
                     ('provider_days_off'), ('patients'), ('patient_phones'), ('patient_addresses'),
                     ('patient_emails'), ('care_team_members'), ('emergency_access_grants'),
                     ('appointment_types'), ('appointment_series'), ('appointments'), ('vitals_sets'),
                     ('vital_observations'), ('notes'), ('patient_merges')) AS t (name)
        CROSS JOIN (VALUES ('created_by'), ('updated_by'), ('deleted_by')) AS c (col)
    LOOP
        EXECUTE format(
            'ALTER TABLE clinicdesk.%I ADD FOREIGN KEY (clinic_id, %I) REFERENCES clinicdesk.%I (clinic_id, %I) DEFERRABLE INITIALLY DEFERRED',
            reference.child, reference.child_column, reference.parent, reference.parent_column);
    END LOOP;
END
$$;
ALTER TABLE clinicdesk.clinics ADD FOREIGN KEY (clinic_id)
    REFERENCES clinicdesk.clinic_registry (clinic_id) ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------
-- The change sequence and the audit chains.

CREATE TABLE clinicdesk.changes (
    clinic_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    change_id uuid NOT NULL,
    workstation text NOT NULL,
    table_name text NOT NULL,
    row_id uuid NOT NULL,
    operation text NOT NULL CHECK (operation IN ('insert', 'update')),
    version integer NOT NULL CHECK (version >= 1),
    -- The row as the workstation's store holds it: what other workstations apply.
    payload jsonb NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, seq),
    UNIQUE (clinic_id, change_id)
);
CREATE INDEX changes_by_row ON clinicdesk.changes (clinic_id, table_name, row_id, seq);

CREATE TABLE clinicdesk.audit_entries (
    clinic_id uuid NOT NULL,
    workstation_role text NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    id uuid NOT NULL,
    occurred_at text NOT NULL,
    user_id text,
    username text,
    workstation text NOT NULL,
    action text NOT NULL,
    object_type text,
    object_id text,
    patient_id text,
    outcome text NOT NULL,
    details text NOT NULL,
    prev_hash text NOT NULL CHECK (length(prev_hash) = 64),
    entry_hash text NOT NULL CHECK (length(entry_hash) = 64),
    received_at timestamptz NOT NULL DEFAULT now(),
    -- A workstation that was restored from a backup may send a second entry for a seq: both are
    -- kept, and `server audit verify` reports the fork.
    PRIMARY KEY (clinic_id, workstation_role, seq, entry_hash)
);

CREATE FUNCTION clinicdesk.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'CD007';
END
$$;
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE OR DELETE ON clinicdesk.audit_entries
    FOR EACH ROW EXECUTE FUNCTION clinicdesk.refuse_audit_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON clinicdesk.audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION clinicdesk.refuse_audit_change();

-- ---------------------------------------------------------------------------------------------
-- Row level security: every table, forced, one policy per clinic. The clinic is looked up once
-- per statement (the sub-select), not once per row.

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['users', 'clinics', 'locations', 'providers', 'provider_working_hours',
        'provider_days_off', 'patients', 'patient_phones', 'patient_addresses', 'patient_emails',
        'care_team_members', 'emergency_access_grants', 'appointment_types', 'appointment_series',
        'appointments', 'vitals_sets', 'vital_observations', 'notes', 'patient_merges', 'changes',
        'audit_entries', 'clinic_sequences']
    LOOP
        EXECUTE format('ALTER TABLE clinicdesk.%I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('ALTER TABLE clinicdesk.%I FORCE ROW LEVEL SECURITY', name);
        EXECUTE format(
            'CREATE POLICY %I ON clinicdesk.%I USING (clinic_id = (SELECT clinicdesk.current_clinic())) WITH CHECK (clinic_id = (SELECT clinicdesk.current_clinic()))',
            name || '_of_own_clinic', name);
    END LOOP;
END
$$;

-- The server's own registry of clinics and workstations: row level security for workstations
-- (each sees itself and its clinic), not forced on the owner, whose server tools manage them and
-- whose `current_clinic()` reads them.
ALTER TABLE clinicdesk.workstations ENABLE ROW LEVEL SECURITY;
CREATE POLICY workstation_sees_itself ON clinicdesk.workstations FOR SELECT
    USING (role_name = session_user);
ALTER TABLE clinicdesk.clinic_registry ENABLE ROW LEVEL SECURITY;
CREATE POLICY workstation_sees_its_clinic ON clinicdesk.clinic_registry FOR SELECT
    USING (clinic_id = (SELECT clinicdesk.current_clinic()));

-- ---------------------------------------------------------------------------------------------
-- What a workstation may do: read and write its clinic's rows (never delete), append to the
-- change sequence and the audit trail, and push.

GRANT USAGE ON SCHEMA clinicdesk TO clinicdesk_workstation;
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['users', 'clinics', 'locations', 'providers', 'provider_working_hours',
        'provider_days_off', 'patients', 'patient_phones', 'patient_addresses', 'patient_emails',
        'care_team_members', 'emergency_access_grants', 'appointment_types', 'appointment_series',
        'appointments', 'vitals_sets', 'vital_observations', 'notes', 'patient_merges']
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON clinicdesk.%I TO clinicdesk_workstation', name);
    END LOOP;
END
$$;
GRANT SELECT, INSERT ON clinicdesk.changes TO clinicdesk_workstation;
GRANT SELECT, INSERT ON clinicdesk.audit_entries TO clinicdesk_workstation;
GRANT SELECT, UPDATE ON clinicdesk.clinic_sequences TO clinicdesk_workstation;
GRANT SELECT ON clinicdesk.clinic_registry TO clinicdesk_workstation;
GRANT SELECT ON clinicdesk.workstations TO clinicdesk_workstation;
