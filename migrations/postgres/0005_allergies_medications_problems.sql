-- Central schema 5: the chart's safety facts (see migrations/sqlite/0009_allergies_medications_problems.sql):
-- allergies and "no known allergies" confirmations, medications and their reviews, problems. The
-- same columns and closed sets as the workstations' store; `push_changes` learns the new tables.
--
-- The rule that "no known allergies" and an active allergy never both hold is the workstations':
-- two of them can each record one offline, and the central server keeps both rows as pushed, so
-- every workstation shows the allergy and the contradicting confirmation until a nurse or a
-- clinician settles it.

CREATE TABLE clinicdesk.allergies (
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
    substance text NOT NULL CHECK (length(trim(substance)) BETWEEN 1 AND 200),
    substance_code text CHECK (substance_code IS NULL OR length(substance_code) BETWEEN 1 AND 64),
    category text NOT NULL CHECK (category IN ('food', 'medication', 'environment')),
    reaction text CHECK (reaction IS NULL OR length(reaction) <= 500),
    severity text CHECK (severity IS NULL OR severity IN ('mild', 'moderate', 'severe')),
    criticality text CHECK (criticality IS NULL OR criticality IN ('low', 'high', 'unable_to_assess')),
    onset date CHECK (onset IS NULL OR onset >= DATE '1900-01-01'),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.allergy_confirmations (
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
    status text NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'withdrawn', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.medications (
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
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    code text CHECK (code IS NULL OR length(code) BETWEEN 1 AND 64),
    dose text CHECK (dose IS NULL OR length(dose) <= 100),
    route text CHECK (route IS NULL OR length(route) <= 100),
    frequency text CHECK (frequency IS NULL OR length(frequency) <= 100),
    started_on date CHECK (started_on IS NULL OR started_on >= DATE '1900-01-01'),
    stopped_on date CHECK (stopped_on IS NULL OR stopped_on >= DATE '1900-01-01'),
    reason text CHECK (reason IS NULL OR length(reason) <= 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (stopped_on IS NULL OR started_on IS NULL OR stopped_on >= started_on),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0),
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.medication_reviews (
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
    PRIMARY KEY (clinic_id, id)
);

CREATE TABLE clinicdesk.problems (
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
    description text NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 200),
    icd10_code text CHECK (icd10_code IS NULL OR icd10_code ~ '^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$'),
    onset date CHECK (onset IS NULL OR onset >= DATE '1900-01-01'),
    resolved_on date CHECK (resolved_on IS NULL OR resolved_on >= DATE '1900-01-01'),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'resolved', 'entered_in_error')),
    entered_in_error_reason text CHECK (entered_in_error_reason IS NULL OR length(entered_in_error_reason) <= 500),
    CHECK (resolved_on IS NULL OR onset IS NULL OR resolved_on >= onset),
    CHECK (status <> 'entered_in_error' OR length(trim(entered_in_error_reason)) > 0),
    PRIMARY KEY (clinic_id, id)
);

DO $$
DECLARE
    name text;
    col text;
BEGIN
    FOREACH name IN ARRAY ARRAY['allergies', 'allergy_confirmations', 'medications', 'medication_reviews', 'problems']
    LOOP
        EXECUTE format('CREATE INDEX %I ON clinicdesk.%I (clinic_id, patient_id)', name || '_by_patient', name);
        EXECUTE format(
            'ALTER TABLE clinicdesk.%I ADD FOREIGN KEY (clinic_id, patient_id) REFERENCES clinicdesk.patients (clinic_id, id) DEFERRABLE INITIALLY DEFERRED',
            name);
        FOREACH col IN ARRAY ARRAY['created_by', 'updated_by', 'deleted_by']
        LOOP
            EXECUTE format(
                'ALTER TABLE clinicdesk.%I ADD FOREIGN KEY (clinic_id, %I) REFERENCES clinicdesk.users (clinic_id, id) DEFERRABLE INITIALLY DEFERRED',
                name, col);
        END LOOP;
        EXECUTE format('ALTER TABLE clinicdesk.%I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('ALTER TABLE clinicdesk.%I FORCE ROW LEVEL SECURITY', name);
        EXECUTE format(
            'CREATE POLICY %I ON clinicdesk.%I USING (clinic_id = (SELECT clinicdesk.current_clinic())) WITH CHECK (clinic_id = (SELECT clinicdesk.current_clinic()))',
            name || '_of_own_clinic', name);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON clinicdesk.%I TO clinicdesk_workstation', name);
    END LOOP;
END
$$;

-- The same function as in schema 2, with the new tables in the registry's order.
CREATE OR REPLACE FUNCTION clinicdesk.push_changes(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY INVOKER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    clinic uuid := clinicdesk.current_clinic();
    me text := session_user;
    synced text[] := ARRAY['users', 'clinics', 'locations', 'providers', 'provider_working_hours',
        'provider_days_off', 'patients', 'patient_phones', 'patient_addresses', 'patient_emails',
        'care_team_members', 'emergency_access_grants', 'appointment_types', 'appointment_series',
        'appointments', 'vitals_sets', 'vital_observations', 'notes', 'allergies',
        'allergy_confirmations', 'medications', 'medication_reviews', 'problems', 'patient_merges'];
    checked jsonb[] := ARRAY[]::jsonb[];
    change jsonb;
    entry jsonb;
    outcome jsonb;
    -- Appended in place (an expanded array), turned into JSON once at the end.
    results jsonb[] := ARRAY[]::jsonb[];
    target text;
    key uuid;
    change_key uuid;
    operation text;
    base integer;
    new_version integer;
    stored jsonb;
    stored_version integer;
    known text[];
    known_table text;
    unknown text;
    problem text;
    taken_seq bigint;
    first integer;
    last integer;
    total integer;
    run jsonb[];
    found_any boolean;
    audit_received integer := 0;
BEGIN
    IF clinic IS NULL THEN
        RAISE EXCEPTION 'this workstation is not enrolled or was revoked' USING ERRCODE = 'CD006';
    END IF;
    -- The clinic's sequence row is held from here to commit: this clinic's pushes go one at a
    -- time, so the numbers this batch takes are gap-free and in commit order.
    SELECT s.last_seq INTO taken_seq FROM clinicdesk.clinic_sequences s WHERE s.clinic_id = clinic FOR UPDATE;
    IF jsonb_typeof(batch) IS DISTINCT FROM 'object'
       OR jsonb_typeof(batch -> 'changes') IS DISTINCT FROM 'array'
       OR jsonb_typeof(coalesce(batch -> 'audit', '[]'::jsonb)) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'the batch is not an object with a list of changes' USING ERRCODE = 'CD004';
    END IF;

    -- Every change is checked before any is applied: a malformed batch changes nothing.
    FOR change IN SELECT value FROM jsonb_array_elements(batch -> 'changes') LOOP
        target := change ->> 'table';
        operation := change ->> 'operation';
        stored := change -> 'payload';
        IF target IS NULL OR NOT (target = ANY (synced)) THEN
            RAISE EXCEPTION 'unknown table "%"', left(coalesce(target, ''), 80) USING ERRCODE = 'CD001';
        END IF;
        BEGIN
            change_key := (change ->> 'change_id')::uuid;
            key := (change ->> 'row_id')::uuid;
            base := (change ->> 'base_version')::integer;
            new_version := (change ->> 'new_version')::integer;
            stored_version := (stored ->> 'version')::integer;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'a change to % has a malformed id or version', target USING ERRCODE = 'CD004';
        END;
        IF change_key IS NULL OR key IS NULL OR new_version IS NULL
           OR operation IS NULL OR operation NOT IN ('insert', 'update')
           OR jsonb_typeof(stored) IS DISTINCT FROM 'object'
           OR stored ->> 'id' IS DISTINCT FROM key::text
           OR stored_version IS DISTINCT FROM new_version
           OR (operation = 'insert' AND base IS NOT NULL)
           OR (operation = 'update' AND (base IS NULL OR new_version <> base + 1)) THEN
            RAISE EXCEPTION 'change % to % is malformed', change_key, target USING ERRCODE = 'CD004';
        END IF;
        IF target IS DISTINCT FROM known_table THEN
            SELECT array_agg(attname::text) INTO known FROM pg_attribute
            WHERE attrelid = format('clinicdesk.%I', target)::regclass AND attnum > 0 AND NOT attisdropped;
            known_table := target;
        END IF;
        SELECT k INTO unknown FROM jsonb_object_keys(stored) AS k WHERE NOT (k = ANY (known)) LIMIT 1;
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'unknown column "%" of %', left(unknown, 80), target USING ERRCODE = 'CD002';
        END IF;
        IF (stored ? 'clinic_id' AND stored ->> 'clinic_id' IS DISTINCT FROM clinic::text)
           OR (target = 'clinics' AND key IS DISTINCT FROM clinic) THEN
            RAISE EXCEPTION 'change % to % names another clinic', change_key, target USING ERRCODE = 'CD003';
        END IF;
        checked := checked || change;
    END LOOP;

    total := coalesce(array_length(checked, 1), 0);
    first := 1;
    WHILE first <= total LOOP
        target := checked[first] ->> 'table';
        last := first;
        IF checked[first] ->> 'operation' = 'insert' THEN
            WHILE last < total AND checked[last + 1] ->> 'operation' = 'insert'
                  AND checked[last + 1] ->> 'table' = target LOOP
                last := last + 1;
            END LOOP;
        END IF;
        -- New rows of one table, none seen before: written at once. If any of them is not
        -- plainly new, or a rule refuses one, they go one by one below.
        IF last > first THEN
            run := checked[first:last];
            BEGIN
                SELECT EXISTS (SELECT 1 FROM clinicdesk.changes c
                               WHERE c.clinic_id = clinic
                                 AND c.change_id IN (SELECT (r ->> 'change_id')::uuid FROM unnest(run) r))
                INTO found_any;
                IF NOT found_any THEN
                    EXECUTE format('SELECT EXISTS (SELECT 1 FROM clinicdesk.%I WHERE clinic_id = $1 AND id IN (SELECT (r ->> ''row_id'')::uuid FROM unnest($2) r))', target)
                        INTO found_any USING clinic, run;
                END IF;
                IF NOT found_any THEN
                    IF target = 'vital_observations' THEN
                        PERFORM clinicdesk.vitals_partition_for(month)
                        FROM (SELECT DISTINCT date_trunc('month', ((r -> 'payload' ->> 'effective_at')::timestamptz) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month
                              FROM unnest(run) r) months;
                    END IF;
                    EXECUTE format(
                        'INSERT INTO clinicdesk.%I SELECT p.* FROM unnest($1) r CROSS JOIN LATERAL jsonb_populate_record(NULL::clinicdesk.%I, (r -> ''payload'') || jsonb_build_object(''clinic_id'', $2)) p',
                        target, target)
                        USING run, clinic;
                    INSERT INTO clinicdesk.changes (clinic_id, seq, change_id, workstation, table_name, row_id, operation, version, payload)
                    SELECT clinic, taken_seq + r.n, (r.c ->> 'change_id')::uuid, me, target, (r.c ->> 'row_id')::uuid,
                           'insert', (r.c ->> 'new_version')::integer, r.c -> 'payload'
                    FROM unnest(run) WITH ORDINALITY AS r (c, n);
                    results := results || ARRAY(
                        SELECT jsonb_build_object('change_id', r.c ->> 'change_id', 'outcome', 'applied', 'seq', taken_seq + r.n)
                        FROM unnest(run) WITH ORDINALITY AS r (c, n) ORDER BY r.n);
                    taken_seq := taken_seq + (last - first + 1);
                    first := last + 1;
                    CONTINUE;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                -- Undone whole; each goes on its own below.
                NULL;
            END;
        END IF;
        FOR place IN first..last LOOP
            change := checked[place];
            BEGIN
                outcome := clinicdesk.apply_change(clinic, me, change, taken_seq + 1);
                IF outcome ->> 'outcome' = 'applied' THEN
                    taken_seq := taken_seq + 1;
                END IF;
            EXCEPTION
                WHEN exclusion_violation OR unique_violation THEN
                    -- Someone else holds the slot (or the number) already: a conflict for a person.
                    GET STACKED DIAGNOSTICS problem = CONSTRAINT_NAME;
                    outcome := jsonb_build_object(
                        'change_id', change ->> 'change_id', 'outcome', 'conflict', 'reason', problem,
                        'server_version', NULL,
                        'server_row', (SELECT c.payload FROM clinicdesk.changes c
                                       WHERE c.clinic_id = clinic AND c.table_name = change ->> 'table'
                                         AND c.row_id = (change ->> 'row_id')::uuid
                                       ORDER BY c.seq DESC LIMIT 1));
                WHEN integrity_constraint_violation OR data_exception THEN
                    GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
                    RAISE EXCEPTION 'change % to % refused: %', change ->> 'change_id', change ->> 'table', problem
                        USING ERRCODE = 'CD005';
            END;
            results := results || outcome;
        END LOOP;
        first := last + 1;
    END LOOP;

    FOR entry IN SELECT value FROM jsonb_array_elements(coalesce(batch -> 'audit', '[]'::jsonb)) LOOP
        BEGIN
            INSERT INTO clinicdesk.audit_entries (clinic_id, workstation_role, seq, id, occurred_at, user_id,
                username, workstation, action, object_type, object_id, patient_id, outcome, details,
                prev_hash, entry_hash)
            VALUES (clinic, me, (entry ->> 'seq')::bigint, (entry ->> 'id')::uuid, entry ->> 'occurred_at',
                entry ->> 'user_id', entry ->> 'username', entry ->> 'workstation', entry ->> 'action',
                entry ->> 'object_type', entry ->> 'object_id', entry ->> 'patient_id', entry ->> 'outcome',
                entry ->> 'details', entry ->> 'prev_hash', entry ->> 'entry_hash')
            ON CONFLICT DO NOTHING;
        EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
            RAISE EXCEPTION 'audit entry % is malformed', left(coalesce(entry ->> 'seq', '?'), 20)
                USING ERRCODE = 'CD004';
        END;
        audit_received := audit_received + 1;
    END LOOP;

    UPDATE clinicdesk.clinic_sequences s SET last_seq = taken_seq WHERE s.clinic_id = clinic;
    RETURN jsonb_build_object('results', to_jsonb(results), 'audit_received', audit_received);
END
$$;
