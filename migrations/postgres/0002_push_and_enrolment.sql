-- Central schema 2: what a workstation calls. `push_changes` applies a batch of a workstation's
-- changes in the caller's transaction, each change in a subtransaction of its own; it runs with
-- the workstation's rights (row level security holds). `enroll_workstation` binds a workstation
-- to its clinic once.
--
-- Errors a workstation acts on carry SQLSTATEs of class CD (the client maps them to error codes):
--   CD001 unknown table        CD002 unknown column       CD003 a row of another clinic
--   CD004 malformed batch      CD005 a change the server's rules refuse
--   CD006 not enrolled or revoked                          CD007 the audit trail is append-only
--   CD008 the enrolment code was already used              CD009 the clinic has no records yet

-- A month's partition of vital observations, made when its first observation arrives.
CREATE FUNCTION clinicdesk.vitals_partition_for(effective timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    month_start timestamptz := date_trunc('month', effective AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'vital_observations_' || to_char(effective AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    IF clinicdesk.current_clinic() IS NULL THEN
        RAISE EXCEPTION 'this workstation is not enrolled or was revoked' USING ERRCODE = 'CD006';
    END IF;
    IF to_regclass('clinicdesk.' || name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS clinicdesk.%I PARTITION OF clinicdesk.vital_observations FOR VALUES FROM (%L) TO (%L)',
            name, month_start, month_start + interval '1 month');
    END IF;
END
$$;

-- One checked change, applied: a duplicate, a stale conflict, or the row written and numbered
-- `next_seq`. Raises on a constraint (the caller turns that into a conflict or a refusal).
CREATE FUNCTION clinicdesk.apply_change(clinic uuid, me text, change jsonb, next_seq bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY INVOKER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    target text := change ->> 'table';
    operation text := change ->> 'operation';
    stored jsonb := change -> 'payload';
    payload jsonb := (change -> 'payload') || jsonb_build_object('clinic_id', clinic);
    key uuid := (change ->> 'row_id')::uuid;
    change_key uuid := (change ->> 'change_id')::uuid;
    base integer := (change ->> 'base_version')::integer;
    new_version integer := (change ->> 'new_version')::integer;
    current_version integer;
    existing bigint;
    columns text;
BEGIN
    -- A change id is applied at most once.
    SELECT seq INTO existing FROM clinicdesk.changes WHERE clinic_id = clinic AND change_id = change_key;
    IF FOUND THEN
        RETURN jsonb_build_object('change_id', change_key, 'outcome', 'duplicate', 'seq', existing);
    END IF;
    -- Observations are found in their month's partition (an observation's time never changes),
    -- not by asking every partition.
    EXECUTE format('SELECT version FROM clinicdesk.%I WHERE clinic_id = $1 AND id = $2%s FOR UPDATE',
                   target, CASE WHEN target = 'vital_observations' THEN ' AND effective_at = $3' ELSE '' END)
        INTO current_version USING clinic, key, (payload ->> 'effective_at')::timestamptz;
    IF (operation = 'insert' AND current_version IS NOT NULL)
       OR (operation = 'update' AND current_version IS DISTINCT FROM base) THEN
        RETURN jsonb_build_object(
            'change_id', change_key, 'outcome', 'conflict', 'reason', 'stale',
            'server_version', current_version,
            'server_row', (SELECT c.payload FROM clinicdesk.changes c
                           WHERE c.clinic_id = clinic AND c.table_name = target AND c.row_id = key
                           ORDER BY c.seq DESC LIMIT 1));
    END IF;
    IF target = 'vital_observations' THEN
        PERFORM clinicdesk.vitals_partition_for((payload ->> 'effective_at')::timestamptz);
    END IF;
    IF operation = 'insert' THEN
        EXECUTE format('INSERT INTO clinicdesk.%I SELECT * FROM jsonb_populate_record(NULL::clinicdesk.%I, $1)', target, target)
            USING payload;
    ELSE
        SELECT string_agg(format('%I', attname), ', ' ORDER BY attnum) INTO columns
        FROM pg_attribute
        WHERE attrelid = format('clinicdesk.%I', target)::regclass
          AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('clinic_id', 'id');
        EXECUTE format(
            'UPDATE clinicdesk.%I SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::clinicdesk.%I, $1)) WHERE clinic_id = $2 AND id = $3%s',
            target, columns, columns, target,
            CASE WHEN target = 'vital_observations' THEN ' AND effective_at = $4' ELSE '' END)
            USING payload, clinic, key, (payload ->> 'effective_at')::timestamptz;
    END IF;
    INSERT INTO clinicdesk.changes (clinic_id, seq, change_id, workstation, table_name, row_id, operation, version, payload)
    VALUES (clinic, next_seq, change_key, me, target, key, operation, new_version, stored);
    RETURN jsonb_build_object('change_id', change_key, 'outcome', 'applied', 'seq', next_seq);
END
$$;

CREATE FUNCTION clinicdesk.push_changes(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY INVOKER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    clinic uuid := clinicdesk.current_clinic();
    me text := session_user;
    synced text[] := ARRAY['users', 'clinics', 'locations', 'providers', 'provider_working_hours',
        'provider_days_off', 'patients', 'patient_phones', 'patient_addresses', 'patient_emails',
        'care_team_members', 'emergency_access_grants', 'appointment_types', 'appointment_series',
        'appointments', 'vitals_sets', 'vital_observations', 'notes', 'patient_merges'];
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
GRANT EXECUTE ON FUNCTION clinicdesk.push_changes(jsonb) TO clinicdesk_workstation;
GRANT EXECUTE ON FUNCTION clinicdesk.apply_change(uuid, text, jsonb, bigint) TO clinicdesk_workstation;

-- Binds the signed-in workstation to its clinic, once. The first workstation to enrol brings
-- the clinic's records: the clinic takes its store's clinic id. Every later one must hold the
-- same clinic's store, or an empty one (`store_clinic` NULL), which then pulls the clinic.
CREATE FUNCTION clinicdesk.enroll_workstation(store_clinic uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = clinicdesk, pg_temp AS $$
DECLARE
    station clinicdesk.workstations%ROWTYPE;
    registry clinicdesk.clinic_registry%ROWTYPE;
BEGIN
    SELECT * INTO station FROM clinicdesk.workstations WHERE role_name = session_user FOR UPDATE;
    IF NOT FOUND OR station.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'this workstation was revoked or never added' USING ERRCODE = 'CD006';
    END IF;
    IF station.enrolled_at IS NOT NULL THEN
        RAISE EXCEPTION 'this enrolment code was already used' USING ERRCODE = 'CD008';
    END IF;
    SELECT * INTO registry FROM clinicdesk.clinic_registry WHERE clinic_id = station.clinic_id FOR UPDATE;
    IF registry.bound_at IS NULL THEN
        IF store_clinic IS NULL THEN
            RAISE EXCEPTION 'the clinic has no records on the server yet: enrol the workstation that holds them first'
                USING ERRCODE = 'CD009';
        END IF;
        UPDATE clinicdesk.clinic_registry SET clinic_id = store_clinic, bound_at = now()
        WHERE clinic_id = registry.clinic_id;
        registry.clinic_id := store_clinic;
    ELSIF store_clinic IS NOT NULL AND store_clinic <> registry.clinic_id THEN
        RAISE EXCEPTION 'this workstation''s records belong to another clinic' USING ERRCODE = 'CD003';
    END IF;
    UPDATE clinicdesk.workstations SET enrolled_at = now() WHERE role_name = session_user;
    RETURN jsonb_build_object('clinic_id', registry.clinic_id, 'clinic_name', registry.name);
END
$$;
REVOKE EXECUTE ON FUNCTION clinicdesk.enroll_workstation(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinicdesk.enroll_workstation(uuid) TO clinicdesk_workstation;
REVOKE EXECUTE ON FUNCTION clinicdesk.vitals_partition_for(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinicdesk.vitals_partition_for(timestamptz) TO clinicdesk_workstation;
