// Generated from crates/clinicdesk-core/src/limits.rs; do not edit.
// The longest text each field takes, the same in the core, the store and the UI.
export const limits = {
  clinic_name: 200,
  person_name: 100,
  phone_number: 40,
  username: 64,
  staff_name: 200,
  specialty: 200,
  appointment_type_name: 100,
  appointment_reason: 500,
  day_off_reason: 500,
  correction_reason: 500,
  emergency_reason: 1000,
  review_note: 1000,
  note_title: 200,
  note_body: 100000,
  form_key: 200,
  search_query: 200,
  audit_filter: 100,
  mrn: 20,
} as const;
