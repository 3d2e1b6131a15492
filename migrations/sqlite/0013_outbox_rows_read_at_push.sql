-- Schema 13: a bulk load's outbox rows hold no copy of their row (docs/reference.md, "Sync with the central server").
--
-- The demo-data generator records each row it writes in the outbox with the payload JSON `null`:
-- "the row as the store holds it", read when the change is pushed. Copying every row into the
-- outbox at load time nearly doubled the store and the load's time. The copy is only needed
-- once the row changes before it is pushed; these triggers make it just before the row is
-- updated or deleted, from the row as it was, so the pushed insert is exactly the row as loaded.
-- A migration that adds a column to a synced table re-creates its two triggers (a test checks
-- that they name every column).

CREATE TRIGGER users_outbox_payload_before_update
BEFORE UPDATE ON users
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'username', OLD.username,
        'display_name', OLD.display_name,
        'role', OLD.role,
        'disabled', OLD.disabled,
        'must_change_password', OLD.must_change_password,
        'password_changed_at', OLD.password_changed_at,
        'password_verifier', OLD.password_verifier)
    WHERE table_name = 'users' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER users_outbox_payload_before_delete
BEFORE DELETE ON users
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'username', OLD.username,
        'display_name', OLD.display_name,
        'role', OLD.role,
        'disabled', OLD.disabled,
        'must_change_password', OLD.must_change_password,
        'password_changed_at', OLD.password_changed_at,
        'password_verifier', OLD.password_verifier)
    WHERE table_name = 'users' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER clinics_outbox_payload_before_update
BEFORE UPDATE ON clinics
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'name', OLD.name,
        'time_zone', OLD.time_zone,
        'locale', OLD.locale)
    WHERE table_name = 'clinics' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER clinics_outbox_payload_before_delete
BEFORE DELETE ON clinics
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'name', OLD.name,
        'time_zone', OLD.time_zone,
        'locale', OLD.locale)
    WHERE table_name = 'clinics' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER locations_outbox_payload_before_update
BEFORE UPDATE ON locations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'name', OLD.name)
    WHERE table_name = 'locations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER locations_outbox_payload_before_delete
BEFORE DELETE ON locations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'name', OLD.name)
    WHERE table_name = 'locations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER providers_outbox_payload_before_update
BEFORE UPDATE ON providers
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'user_id', OLD.user_id,
        'display_name', OLD.display_name,
        'specialty', OLD.specialty)
    WHERE table_name = 'providers' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER providers_outbox_payload_before_delete
BEFORE DELETE ON providers
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'user_id', OLD.user_id,
        'display_name', OLD.display_name,
        'specialty', OLD.specialty)
    WHERE table_name = 'providers' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER provider_working_hours_outbox_payload_before_update
BEFORE UPDATE ON provider_working_hours
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'provider_id', OLD.provider_id,
        'location_id', OLD.location_id,
        'weekday', OLD.weekday,
        'start_minute', OLD.start_minute,
        'end_minute', OLD.end_minute)
    WHERE table_name = 'provider_working_hours' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER provider_working_hours_outbox_payload_before_delete
BEFORE DELETE ON provider_working_hours
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'provider_id', OLD.provider_id,
        'location_id', OLD.location_id,
        'weekday', OLD.weekday,
        'start_minute', OLD.start_minute,
        'end_minute', OLD.end_minute)
    WHERE table_name = 'provider_working_hours' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER provider_days_off_outbox_payload_before_update
BEFORE UPDATE ON provider_days_off
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'provider_id', OLD.provider_id,
        'first_day', OLD.first_day,
        'last_day', OLD.last_day,
        'reason', OLD.reason)
    WHERE table_name = 'provider_days_off' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER provider_days_off_outbox_payload_before_delete
BEFORE DELETE ON provider_days_off
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'provider_id', OLD.provider_id,
        'first_day', OLD.first_day,
        'last_day', OLD.last_day,
        'reason', OLD.reason)
    WHERE table_name = 'provider_days_off' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patients_outbox_payload_before_update
BEFORE UPDATE ON patients
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'mrn', OLD.mrn,
        'given_name', OLD.given_name,
        'middle_name', OLD.middle_name,
        'family_name', OLD.family_name,
        'preferred_name', OLD.preferred_name,
        'date_of_birth', OLD.date_of_birth,
        'sex', OLD.sex,
        'restricted', OLD.restricted,
        'merged_into_id', OLD.merged_into_id)
    WHERE table_name = 'patients' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patients_outbox_payload_before_delete
BEFORE DELETE ON patients
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'mrn', OLD.mrn,
        'given_name', OLD.given_name,
        'middle_name', OLD.middle_name,
        'family_name', OLD.family_name,
        'preferred_name', OLD.preferred_name,
        'date_of_birth', OLD.date_of_birth,
        'sex', OLD.sex,
        'restricted', OLD.restricted,
        'merged_into_id', OLD.merged_into_id)
    WHERE table_name = 'patients' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_phones_outbox_payload_before_update
BEFORE UPDATE ON patient_phones
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'number', OLD.number,
        'digits', OLD.digits,
        'is_primary', OLD.is_primary,
        'digits_tail', OLD.digits_tail)
    WHERE table_name = 'patient_phones' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_phones_outbox_payload_before_delete
BEFORE DELETE ON patient_phones
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'number', OLD.number,
        'digits', OLD.digits,
        'is_primary', OLD.is_primary,
        'digits_tail', OLD.digits_tail)
    WHERE table_name = 'patient_phones' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_addresses_outbox_payload_before_update
BEFORE UPDATE ON patient_addresses
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'line1', OLD.line1,
        'line2', OLD.line2,
        'city', OLD.city,
        'region', OLD.region,
        'postal_code', OLD.postal_code,
        'country', OLD.country)
    WHERE table_name = 'patient_addresses' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_addresses_outbox_payload_before_delete
BEFORE DELETE ON patient_addresses
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'line1', OLD.line1,
        'line2', OLD.line2,
        'city', OLD.city,
        'region', OLD.region,
        'postal_code', OLD.postal_code,
        'country', OLD.country)
    WHERE table_name = 'patient_addresses' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_emails_outbox_payload_before_update
BEFORE UPDATE ON patient_emails
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'address', OLD.address)
    WHERE table_name = 'patient_emails' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_emails_outbox_payload_before_delete
BEFORE DELETE ON patient_emails
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'kind', OLD.kind,
        'address', OLD.address)
    WHERE table_name = 'patient_emails' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER care_team_members_outbox_payload_before_update
BEFORE UPDATE ON care_team_members
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'user_id', OLD.user_id,
        'care_role', OLD.care_role)
    WHERE table_name = 'care_team_members' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER care_team_members_outbox_payload_before_delete
BEFORE DELETE ON care_team_members
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'user_id', OLD.user_id,
        'care_role', OLD.care_role)
    WHERE table_name = 'care_team_members' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER emergency_access_grants_outbox_payload_before_update
BEFORE UPDATE ON emergency_access_grants
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'user_id', OLD.user_id,
        'reason', OLD.reason,
        'granted_at', OLD.granted_at,
        'expires_at', OLD.expires_at,
        'reviewed_at', OLD.reviewed_at,
        'reviewed_by', OLD.reviewed_by,
        'review_note', OLD.review_note)
    WHERE table_name = 'emergency_access_grants' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER emergency_access_grants_outbox_payload_before_delete
BEFORE DELETE ON emergency_access_grants
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'user_id', OLD.user_id,
        'reason', OLD.reason,
        'granted_at', OLD.granted_at,
        'expires_at', OLD.expires_at,
        'reviewed_at', OLD.reviewed_at,
        'reviewed_by', OLD.reviewed_by,
        'review_note', OLD.review_note)
    WHERE table_name = 'emergency_access_grants' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointment_types_outbox_payload_before_update
BEFORE UPDATE ON appointment_types
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'name', OLD.name,
        'default_minutes', OLD.default_minutes)
    WHERE table_name = 'appointment_types' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointment_types_outbox_payload_before_delete
BEFORE DELETE ON appointment_types
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'name', OLD.name,
        'default_minutes', OLD.default_minutes)
    WHERE table_name = 'appointment_types' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointment_series_outbox_payload_before_update
BEFORE UPDATE ON appointment_series
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'interval_weeks', OLD.interval_weeks,
        'until_day', OLD.until_day,
        'occurrences', OLD.occurrences)
    WHERE table_name = 'appointment_series' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointment_series_outbox_payload_before_delete
BEFORE DELETE ON appointment_series
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'interval_weeks', OLD.interval_weeks,
        'until_day', OLD.until_day,
        'occurrences', OLD.occurrences)
    WHERE table_name = 'appointment_series' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointments_outbox_payload_before_update
BEFORE UPDATE ON appointments
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'patient_id', OLD.patient_id,
        'provider_id', OLD.provider_id,
        'appointment_type_id', OLD.appointment_type_id,
        'location_id', OLD.location_id,
        'series_id', OLD.series_id,
        'starts_at', OLD.starts_at,
        'ends_at', OLD.ends_at,
        'status', OLD.status,
        'outside_hours_override', OLD.outside_hours_override,
        'reason', OLD.reason,
        'cancel_reason', OLD.cancel_reason,
        'arrived_at', OLD.arrived_at)
    WHERE table_name = 'appointments' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER appointments_outbox_payload_before_delete
BEFORE DELETE ON appointments
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'clinic_id', OLD.clinic_id,
        'patient_id', OLD.patient_id,
        'provider_id', OLD.provider_id,
        'appointment_type_id', OLD.appointment_type_id,
        'location_id', OLD.location_id,
        'series_id', OLD.series_id,
        'starts_at', OLD.starts_at,
        'ends_at', OLD.ends_at,
        'status', OLD.status,
        'outside_hours_override', OLD.outside_hours_override,
        'reason', OLD.reason,
        'cancel_reason', OLD.cancel_reason,
        'arrived_at', OLD.arrived_at)
    WHERE table_name = 'appointments' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER vitals_sets_outbox_payload_before_update
BEFORE UPDATE ON vitals_sets
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'appointment_id', OLD.appointment_id,
        'recorded_by', OLD.recorded_by,
        'effective_at', OLD.effective_at)
    WHERE table_name = 'vitals_sets' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER vitals_sets_outbox_payload_before_delete
BEFORE DELETE ON vitals_sets
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'appointment_id', OLD.appointment_id,
        'recorded_by', OLD.recorded_by,
        'effective_at', OLD.effective_at)
    WHERE table_name = 'vitals_sets' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER vital_observations_outbox_payload_before_update
BEFORE UPDATE ON vital_observations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'vitals_set_id', OLD.vitals_set_id,
        'patient_id', OLD.patient_id,
        'effective_at', OLD.effective_at,
        'loinc_code', OLD.loinc_code,
        'value', OLD.value,
        'unit', OLD.unit,
        'interpretation', OLD.interpretation,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason,
        'replaced_by_id', OLD.replaced_by_id)
    WHERE table_name = 'vital_observations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER vital_observations_outbox_payload_before_delete
BEFORE DELETE ON vital_observations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'vitals_set_id', OLD.vitals_set_id,
        'patient_id', OLD.patient_id,
        'effective_at', OLD.effective_at,
        'loinc_code', OLD.loinc_code,
        'value', OLD.value,
        'unit', OLD.unit,
        'interpretation', OLD.interpretation,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason,
        'replaced_by_id', OLD.replaced_by_id)
    WHERE table_name = 'vital_observations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER notes_outbox_payload_before_update
BEFORE UPDATE ON notes
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'author_id', OLD.author_id,
        'kind', OLD.kind,
        'parent_note_id', OLD.parent_note_id,
        'title', OLD.title,
        'body', OLD.body,
        'written_at', OLD.written_at,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'notes' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER notes_outbox_payload_before_delete
BEFORE DELETE ON notes
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'author_id', OLD.author_id,
        'kind', OLD.kind,
        'parent_note_id', OLD.parent_note_id,
        'title', OLD.title,
        'body', OLD.body,
        'written_at', OLD.written_at,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'notes' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER allergies_outbox_payload_before_update
BEFORE UPDATE ON allergies
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'substance', OLD.substance,
        'substance_code', OLD.substance_code,
        'category', OLD.category,
        'reaction', OLD.reaction,
        'severity', OLD.severity,
        'criticality', OLD.criticality,
        'onset', OLD.onset,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'allergies' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER allergies_outbox_payload_before_delete
BEFORE DELETE ON allergies
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'substance', OLD.substance,
        'substance_code', OLD.substance_code,
        'category', OLD.category,
        'reaction', OLD.reaction,
        'severity', OLD.severity,
        'criticality', OLD.criticality,
        'onset', OLD.onset,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'allergies' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER allergy_confirmations_outbox_payload_before_update
BEFORE UPDATE ON allergy_confirmations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'allergy_confirmations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER allergy_confirmations_outbox_payload_before_delete
BEFORE DELETE ON allergy_confirmations
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'allergy_confirmations' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER medications_outbox_payload_before_update
BEFORE UPDATE ON medications
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'name', OLD.name,
        'code', OLD.code,
        'dose', OLD.dose,
        'route', OLD.route,
        'frequency', OLD.frequency,
        'started_on', OLD.started_on,
        'stopped_on', OLD.stopped_on,
        'reason', OLD.reason,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'medications' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER medications_outbox_payload_before_delete
BEFORE DELETE ON medications
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'name', OLD.name,
        'code', OLD.code,
        'dose', OLD.dose,
        'route', OLD.route,
        'frequency', OLD.frequency,
        'started_on', OLD.started_on,
        'stopped_on', OLD.stopped_on,
        'reason', OLD.reason,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'medications' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER medication_reviews_outbox_payload_before_update
BEFORE UPDATE ON medication_reviews
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id)
    WHERE table_name = 'medication_reviews' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER medication_reviews_outbox_payload_before_delete
BEFORE DELETE ON medication_reviews
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id)
    WHERE table_name = 'medication_reviews' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER problems_outbox_payload_before_update
BEFORE UPDATE ON problems
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'description', OLD.description,
        'icd10_code', OLD.icd10_code,
        'onset', OLD.onset,
        'resolved_on', OLD.resolved_on,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'problems' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER problems_outbox_payload_before_delete
BEFORE DELETE ON problems
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'patient_id', OLD.patient_id,
        'description', OLD.description,
        'icd10_code', OLD.icd10_code,
        'onset', OLD.onset,
        'resolved_on', OLD.resolved_on,
        'status', OLD.status,
        'entered_in_error_reason', OLD.entered_in_error_reason)
    WHERE table_name = 'problems' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_merges_outbox_payload_before_update
BEFORE UPDATE ON patient_merges
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'surviving_patient_id', OLD.surviving_patient_id,
        'merged_patient_id', OLD.merged_patient_id,
        'moved_rows', OLD.moved_rows,
        'undone_at', OLD.undone_at,
        'undone_by', OLD.undone_by)
    WHERE table_name = 'patient_merges' AND row_id = OLD.id AND payload = 'null';
END;

CREATE TRIGGER patient_merges_outbox_payload_before_delete
BEFORE DELETE ON patient_merges
BEGIN
    UPDATE outbox SET payload = json_object(
        'id', OLD.id,
        'version', OLD.version,
        'created_at', OLD.created_at,
        'created_by', OLD.created_by,
        'updated_at', OLD.updated_at,
        'updated_by', OLD.updated_by,
        'deleted_at', OLD.deleted_at,
        'deleted_by', OLD.deleted_by,
        'surviving_patient_id', OLD.surviving_patient_id,
        'merged_patient_id', OLD.merged_patient_id,
        'moved_rows', OLD.moved_rows,
        'undone_at', OLD.undone_at,
        'undone_by', OLD.undone_by)
    WHERE table_name = 'patient_merges' AND row_id = OLD.id AND payload = 'null';
END;
