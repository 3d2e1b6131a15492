// Generated from the Rust by src-tauri/src/bindings.rs. Do not edit by hand:
// run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings`.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ErrorCode = "unexpected" | "usage" | "store_not_initialized" | "store_already_initialized" | "authentication_failed" | "account_locked" | "account_disabled" | "password_change_required" | "session_expired" | "permission_denied" | "emergency_access_required" | "invalid_input" | "weak_password" | "not_found" | "store_newer_than_app" | "migration_mismatch" | "integrity_failure" | "conflict" | "busy" | "sync_not_enrolled" | "server_unreachable" | "sign_in_needs_server" | "server_certificate_mismatch" | "server_refused" | "workstation_revoked" | "server_schema_mismatch" | "update_refused" | "update_server_unreachable";

export type Error = { code: ErrorCode, message: string, field?: string, };

export type Permission = "UsersList" | "UsersManage" | "SecurityManage" | "KeyRotate" | "PatientsRead" | "PatientsWrite" | "PatientsMerge" | "AppointmentsRead" | "AppointmentsWrite" | "AppointmentsStatus" | "AppointmentsCheckin" | "VitalsRead" | "VitalsWrite" | "NotesRead" | "NotesWriteClinical" | "NotesWriteNursing" | "AuditReadSecurity" | "AuditReadAll" | "BackupsCreate" | "BackupsRestore" | "SyncRead" | "SyncManage" | "EmergencyUse" | "EmergencyReview" | "ScheduleManage" | "AllergiesRead" | "AllergiesWrite" | "AllergiesFlag" | "MedicationsRead" | "MedicationsWrite" | "MedicationsReview" | "ProblemsRead" | "ProblemsWrite" | "UpdatesManage" | "RecordsExport" | "RecordsExportPatient" | "RecordsImport";

export type Role = "administrator" | "manager" | "clinician" | "nurse" | "front_desk";

export type UserId = string;

export type PatientId = string;

export type ProviderId = string;

export type AppointmentId = string;

export type AppointmentTypeId = string;

export type ObservationId = string;

export type VitalsSetId = string;

export type NoteId = string;

export type GrantId = string;

export type MergeId = string;

export type IdleTimings = { logoff_seconds: number, warning_seconds: number, };

export type SessionUser = { id: UserId, username: string, display_name: string, role: Role, };

export type Draft = { form_key: string, payload: JsonValue, saved_at: string, 
/**
 * Whose chart the form was for (a vitals or note form), by name.
 */
patient: string | null, };

export type UserSummary = { id: UserId, username: string, display_name: string, role: Role, disabled: boolean, must_change_password: boolean, locked_until: string | null, last_login_at: string | null, 
/**
 * Lockouts of this account on the clinic's other workstations that may still hold, as of
 * this workstation's last sync.
 */
locked_elsewhere: Array<RemoteLockout>, };

export type SecuritySettings = { idle_logoff_seconds: number, idle_warning_seconds: number, max_failed_logins: number, lock_minutes: number, emergency_access_minutes: number, };

export type StoreStatus = { store_path: string, schema_version: number, latest_schema_version: number, clinic_name: string, clinic_time_zone: string, counts: Array<[string, number]>, };

export type AuditOutcome = "success" | "denied" | "failure";

export type AuditEntry = { seq: number, id: string, occurred_at: string, user_id: string | null, username: string | null, workstation: string, action: string, object_type: string | null, object_id: string | null, patient_id: string | null, outcome: string, details: string, prev_hash: string, entry_hash: string, 
/**
 * Recorded on another workstation of the clinic (known here as of the last sync; its
 * chain is that workstation's, verified by `server audit verify`).
 */
from_other_workstation: boolean, 
/**
 * The action in words, for people (the code stays in `action`).
 */
action_in_words: string, 
/**
 * The patient concerned, by name and MRN (for roles that read the whole trail).
 */
patient: string | null, };

export type AuditFilter = { username: string | null, patient_id: PatientId | null, 
/**
 * An exact action (`login.failure`) or a prefix ending in `.` (`login.`).
 */
action: string | null, from: string | null, to: string | null, limit: number | null, };

export type AuditListing = { entries: Array<AuditEntry>, 
/**
 * True when the role sees security events only (administrators).
 */
security_events_only: boolean, 
/**
 * Entries that match the filter but are not shown to this role (their numbers are the
 * gaps in the sequence): said, never left unexplained.
 */
hidden_from_your_role: number, };

export type AuditVerification = { entries: number, head_hash: string, };

export type AccessReportLine = { occurred_at: string, username: string | null, workstation: string, action: string, outcome: string, 
/**
 * Recorded on another workstation (known here as of the last sync).
 */
from_other_workstation: boolean, };

export type EmergencyGrant = { id: GrantId, mrn: string, username: string, reason: string, granted_at: string, expires_at: string, reviewed_at: string | null, reviewed_by: string | null, review_note: string | null, };

export type Sex = "female" | "male" | "other" | "unknown";

export type NewPatient = { given_name: string, family_name: string, date_of_birth: string, sex: Sex, phone: string | null, restricted: boolean, };

export type LikelyDuplicate = { patient_id: PatientId, mrn: string, given_name: string, family_name: string, date_of_birth: string, why: string, };

export type Registration = { "outcome": "registered", patient_id: PatientId, mrn: string, } | { "outcome": "likely_duplicates", candidates: Array<LikelyDuplicate>, };

export type Demographics = { patient_id: PatientId, mrn: string, given_name: string, family_name: string, date_of_birth: string, sex: string, restricted: boolean, phones: Array<string>, version: number, };

export type Chart = { demographics: Demographics, 
/**
 * How the caller came to see it: `open`, `care_team` or `emergency_access`.
 */
access: string, 
/**
 * The last 50 observations (empty for roles that do not read vitals).
 */
recent_vitals: Array<ChartObservation>, 
/**
 * Upcoming appointments (for roles that read appointments).
 */
upcoming_appointments: Array<ChartAppointment>, 
/**
 * The last 20 notes (for roles that read notes).
 */
recent_notes: Array<ChartNote>, };

export type ChartObservation = { id: ObservationId, effective_at: string, loinc: string, value: number, unit: string, interpretation: string | null, status: string, };

export type ChartAppointment = { id: AppointmentId, starts_at: string, provider_name: string, status: AppointmentStatus, };

export type ChartNote = { id: NoteId, written_at: string, kind: string, author: string, title: string | null, body: string, };

export type PatientHit = { patient_id: PatientId, mrn: string, given_name: string, family_name: string, date_of_birth: string, sex: string, restricted: boolean, phone: string | null, 
/**
 * Higher is better; 1.0 is an exact match.
 */
score: number, };

export type DemographicsChange = { given_name: string | null, family_name: string | null, date_of_birth: string | null, sex: Sex | null, phone: string | null, };

export type MergeRecord = { merge_id: MergeId, surviving_mrn: string, merged_mrn: string, moved: Array<[string, number]>, };

export type AppointmentStatus = "booked" | "arrived" | "in_progress" | "completed" | "cancelled" | "no_show";

export type Provider = { id: ProviderId, display_name: string, specialty: string | null, };

export type WorkingWindow = { weekday: number, start_minute: number, end_minute: number, };

export type AppointmentType = { id: AppointmentTypeId, name: string, default_minutes: number, };

export type Repeat = { every_weeks: number, until: string | null, count: number | null, };

export type RepeatedHour = "first" | "second";

export type BookingRequest = { mrn: string, provider_id: ProviderId, 
/**
 * Local wall-clock time in the clinic's zone.
 */
starts_local: string, 
/**
 * Length; else the type's default; else 15 minutes.
 */
minutes: number | null, appointment_type_id: AppointmentTypeId | null, reason: string | null, 
/**
 * Book even outside the provider's working hours.
 */
outside_hours_override: boolean, repeat: Repeat | null, 
/**
 * Which of the two times is meant when the clocks go back and `starts_local` happens
 * twice; the first unless said otherwise.
 */
repeated_hour: RepeatedHour, };

export type Appointment = { id: AppointmentId, version: number, mrn: string, patient_name: string, provider_id: ProviderId, provider_name: string, type_name: string | null, starts_at: string, ends_at: string, 
/**
 * The start in the clinic's zone, `YYYY-MM-DD HH:MM`.
 */
local_start: string, local_end: string, status: AppointmentStatus, reason: string | null, series_id: string | null, outside_hours_override: boolean, 
/**
 * Said when the start falls in the hour the clocks go back: which of the two it is.
 */
clock_note: string | null, };

export type PatientFlow = "booked" | "waiting_for_nurse" | "ready_for_clinician" | "with_clinician" | "done" | "no_show";

export type TodayEntry = { appointment: Appointment, flow: PatientFlow, 
/**
 * When the patient was checked in (UTC), for the nurse's oldest-first list.
 */
arrived_at: string | null, 
/**
 * Today's vital signs in short ("BP 150/95 mmHg · HR 88 /min"), for roles that may read them.
 */
vitals_today: string | null, 
/**
 * The appointment is with the provider who is the signed-in person.
 */
mine: boolean, 
/**
 * The allergy badge, for roles that may see it (substances only for those that read the
 * list); none for a restricted chart.
 */
allergies: AllergyState | null, };

export type LocaleChoice = { 
/**
 * A BCP 47 tag such as `de-DE`.
 */
code: string, name: string, };

export type VitalKind = "systolic" | "diastolic" | "heart_rate" | "respiratory_rate" | "temperature" | "oxygen_saturation" | "weight" | "height" | "bmi" | "pain";

export type Interpretation = "normal" | "low" | "high" | "critical_low" | "critical_high";

export type VitalReading = { kind: VitalKind, value: number, 
/**
 * `None` for the canonical unit; else e.g. `°F`, `lb`, `in`.
 */
unit: string | null, };

export type Observation = { id: ObservationId, kind: VitalKind, loinc: string, value: number, unit: string, interpretation: string | null, status: string, entered_in_error_reason: string | null, };

export type VitalsSet = { id: VitalsSetId, effective_at: string, recorded_by: string, observations: Array<Observation>, };

export type TrendPoint = { effective_at: string, value: number, interpretation: string | null, };

export type NoteKind = "clinical" | "nursing";

export type Note = { id: NoteId, kind: string, author: string, written_at: string, title: string | null, body: string, addenda: Array<Note>, };

export type AllergyId = string;

export type MedicationId = string;

export type ProblemId = string;

export type AllergyCategory = "food" | "medication" | "environment";

export type AllergySeverity = "mild" | "moderate" | "severe";

export type AllergyCriticality = "low" | "high" | "unable_to_assess";

export type AllergyStatus = "active" | "inactive" | "entered_in_error";

export type AllergyState = { "kind": "not_recorded" } | { "kind": "no_known_allergies", confirmed_by: string, confirmed_at: string, } | { "kind": "has_allergies", count: number, substances: Array<string>, 
/**
 * A "no known allergies" confirmation recorded on another workstation at the same time
 * (sync brought both): a nurse or clinician must look at it.
 */
contradicted_by_confirmation: boolean, };

export type Allergy = { id: AllergyId, substance: string, substance_code: string | null, category: AllergyCategory, reaction: string | null, severity: AllergySeverity | null, criticality: AllergyCriticality | null, 
/**
 * YYYY-MM-DD.
 */
onset: string | null, status: AllergyStatus, entered_in_error_reason: string | null, recorded_by: string, recorded_at: string, updated_by: string, updated_at: string, };

export type AllergyList = { state: AllergyState, allergies: Array<Allergy>, };

export type AllergyDetails = { substance: string, substance_code: string | null, category: AllergyCategory, reaction: string | null, severity: AllergySeverity | null, criticality: AllergyCriticality | null, 
/**
 * YYYY-MM-DD, not in the future.
 */
onset: string | null, 
/**
 * `active` or `inactive` (entered-in-error has its own operation, with a reason).
 */
status: AllergyStatus, };

export type MedicationStatus = "active" | "stopped" | "entered_in_error";

export type Medication = { id: MedicationId, name: string, code: string | null, dose: string | null, route: string | null, frequency: string | null, started_on: string | null, stopped_on: string | null, reason: string | null, status: MedicationStatus, entered_in_error_reason: string | null, recorded_by: string, recorded_at: string, updated_by: string, updated_at: string, 
/**
 * Entered or changed by someone else since the list was last reviewed (or ever, if it
 * never was): the reviewing clinician should look at it.
 */
changed_since_review: boolean, };

export type MedicationReview = { reviewed_by: string, reviewed_at: string, };

export type MedicationList = { medications: Array<Medication>, last_review: MedicationReview | null, };

export type MedicationDetails = { name: string, code: string | null, dose: string | null, route: string | null, frequency: string | null, 
/**
 * YYYY-MM-DD, not in the future.
 */
started_on: string | null, 
/**
 * YYYY-MM-DD, not before the start; up to a year ahead (a planned course).
 */
stopped_on: string | null, reason: string | null, 
/**
 * `active` or `stopped`.
 */
status: MedicationStatus, };

export type ProblemStatus = "active" | "resolved" | "entered_in_error";

export type Problem = { id: ProblemId, description: string, icd10_code: string | null, onset: string | null, resolved_on: string | null, status: ProblemStatus, entered_in_error_reason: string | null, recorded_by: string, recorded_at: string, updated_by: string, updated_at: string, };

export type ProblemDetails = { description: string, 
/**
 * ICD-10, such as `E11` or `E11.65`.
 */
icd10_code: string | null, 
/**
 * YYYY-MM-DD, not in the future.
 */
onset: string | null, 
/**
 * YYYY-MM-DD, not in the future, not before the onset.
 */
resolved_on: string | null, 
/**
 * `active` or `resolved`.
 */
status: ProblemStatus, };

export type DemoSize = "tiny" | "small" | "large";

export type DemoSummary = { patients: number, phones: number, providers: number, appointments: number, vitals_sets: number, observations: number, notes: number, allergies: number, medications: number, problems: number, rows: number, };

export type StoreOverview = { data_folder: string, initialized: boolean, clinic_name: string | null, };

export type SessionInfo = { user: SessionUser, permissions: Array<Permission>, must_change_password: boolean, idle: IdleTimings, 
/**
 * Set when the store was found damaged: the window shows the damaged-store screen.
 */
store_damage: DamageMark | null, 
/**
 * The clinic's time zone: every date and time on screen is the clinic's.
 */
clinic_time_zone: string, 
/**
 * How the clinic writes dates, times and numbers (a BCP 47 tag such as `de-DE`).
 */
clinic_locale: string, };

export type FirstRun = { recovery_key: string, administrator: SessionUser, };

export type FirstRunRequest = { clinic_name: string, time_zone: string, 
/**
 * One of the offered locales; empty: the time zone's.
 */
locale: string, admin_username: string, admin_display_name: string, admin_password: string, };

export type DemoStaffMember = { username: string, role: Role, temporary_password: string, };

export type DemoLoaded = { summary: DemoSummary, staff: Array<DemoStaffMember>, };

export type VitalDefinitionView = { kind: VitalKind, label: string, loinc: string, 
/**
 * The UCUM code (in the data and exports).
 */
unit: string, 
/**
 * The unit as people write it, for everything on screen.
 */
display_unit: string, plausible_low: number, plausible_high: number, normal: [number, number] | null, 
/**
 * Critical below this value.
 */
critical_below: number | null, 
/**
 * Critical above this value (or at it, when the flag says so).
 */
critical_high: [number, boolean] | null, decimals: number, };

export type RetentionPolicy = { keep_daily: number, keep_weekly: number, keep_monthly: number, };

export type BackupSettings = { 
/**
 * An absolute folder path (an external drive or a network share); empty means the
 * `backups` folder inside the data folder.
 */
folder: string, 
/**
 * `HH:MM` in the clinic's time zone; empty means no scheduled backups.
 */
daily_time: string, retention: RetentionPolicy, };

export type BackupRun = { started_at: string, finished_at: string, scheduled: boolean, succeeded: boolean, file_path: string | null, bytes: number | null, error_code: string | null, error_message: string | null, };

export type BackupStatus = { settings: BackupSettings, folder_in_use: string, last_success: BackupRun | null, last_failure: BackupRun | null, 
/**
 * True when the last attempt failed: shown as an alert until a backup succeeds.
 */
failing: boolean, next_scheduled_at: string | null, 
/**
 * The same row counts a backup's header carries, for the store as it is now.
 */
store_counts: { [key in string]?: number }, };

export type BackupFacts = { path: string, file_name: string, file_bytes: number, backup_id: string, created_at: string, created_by: string | null, scheduled: boolean, app_version: string, schema_version: number, clinic_name: string, row_counts: { [key in string]?: number }, store_bytes: number, };

export type BackupStage = "snapshot" | "decrypt" | "check" | "replay" | "swap";

export type BackupProgress = { stage: BackupStage, done_bytes: number, total_bytes: number, };

export type RestoreOutcome = { backup: BackupFacts, rollback_copy: string, migrated_from_schema: number | null, replayed_transactions: number, audit_entries_kept: number, restored_to: string | null, };

export type PointInTimePlan = { target: string, backup: BackupFacts, replayed_transactions: number, 
/**
 * Audit entries after the chosen moment: what will be undone (newest first, at most 500).
 */
undone: Array<AuditEntry>, undone_total: number, };

export type DamageMark = { detected_at: string, detail: string, };

export type StoreCheck = { started_at: string, finished_at: string, scheduled: boolean, passed: boolean, problems: Array<string>, };

export type StoreHealth = { last_check: StoreCheck | null, 
/**
 * The last full check failed, or the store was found damaged since: shown as an alert.
 */
failing: boolean, damage: DamageMark | null, 
/**
 * When the next weekly check is due.
 */
next_check_at: string, };

export type RemoteLockout = { workstation: string, locked_at: string, locked_until: string, };

export type ConflictId = string;

export type SyncStatus = { 
/**
 * The server's address, when this workstation is enrolled.
 */
server_url: string | null, workstation_role: string | null, 
/**
 * Local changes not yet acknowledged by the server.
 */
pending_changes: number, 
/**
 * Audit entries not yet on the server.
 */
pending_audit_entries: number, 
/**
 * Conflicts waiting for a person.
 */
open_conflicts: number, last_push_at: string | null, last_pull_at: string | null, 
/**
 * The last change of the clinic's sequence this workstation has.
 */
cursor: number, 
/**
 * The last failure's code, until a sync succeeds.
 */
last_error_code: ErrorCode | null, 
/**
 * The last failure, until a sync succeeds: `{code}: {message}`.
 */
last_error: string | null, };

export type SyncConflict = { id: ConflictId, table: string, row_id: string, 
/**
 * `stale` (changed elsewhere first) or the server rule that refused this workstation's
 * change, in words.
 */
reason: string, 
/**
 * This workstation's version (what it would have written).
 */
mine: Record<string, unknown>, 
/**
 * The server's version (`null` when the server refused a new row).
 */
theirs: Record<string, unknown> | null, detected_at: string, 
/**
 * The reason as a code: `stale`, or the name of the rule that refused the change.
 */
reason_code: string, 
/**
 * A booking whose time another workstation took first: the screen offers free slots.
 */
lost_its_time: boolean, 
/**
 * Whose record it is, in words (the patient, the provider, the account).
 */
subject: string, };

export type ConflictResolution = { "kind": "keep_mine" } | { "kind": "keep_theirs" } | { "kind": "field_by_field", "fields": Array<string> } | { "kind": "move_to", "fields": string };

export type FreeSlot = { 
/**
 * The clinic's local time, `YYYY-MM-DDTHH:MM` (what [`ConflictResolution::MoveTo`] takes).
 */
local: string, 
/**
 * The same moment in UTC, for display.
 */
starts_at: string, };

export type PullProgress = { pulled: number, to_pull: number, };

export type SyncActivity = { 
/**
 * A sync is running now.
 */
running: boolean, 
/**
 * How far the running sync's pull has come (shown while a new workstation fills).
 */
progress: PullProgress | null, 
/**
 * Whether the last attempt reached the server; `None` before the first attempt.
 */
online: boolean | null, last_attempt_at: string | null, 
/**
 * When the background sync tries next (later while the server cannot be reached).
 */
next_attempt_at: string | null, 
/**
 * Why the last attempt failed, until one succeeds.
 */
last_error: Error | null, };

export type SyncOverview = { status: SyncStatus, activity: SyncActivity, };

export type SyncOutcome = { pushed: number, pulled: number, conflicts: number, };

export type EnrolmentPreview = { server_url: string, workstation_role: string, 
/**
 * SHA-256 of the server's certificate, in groups of four hex digits.
 */
certificate_fingerprint: string, };

export type EnrolledWorkstation = { clinic_name: string, workstation_role: string, };

export type JoinedClinic = { clinic_name: string, recovery_key: string, };

export type UpdateSettings = { endpoint: string | null, };

export type UpdateOffer = { version: string, installed_version: string, notes: string | null, published_at: string | null, 
/**
 * The store schema the new version brings (`schema_version` in the manifest); `None` when
 * the manifest does not say, which is treated as a schema change.
 */
schema_version: number | null, };

export type UpdatePlan = { 
/**
 * A backup is made and verified before the update is installed: the new version changes the
 * store's schema (or does not say that it does not).
 */
backup_first: boolean, 
/**
 * The schema of the store now.
 */
store_schema: number, };

export type UpdateRefusal = "bad_signature" | "signed_by_another_key" | "signed_for_another_version" | "older_version" | "incomplete_download" | "not_a_package" | "insecure_package_address" | "server_unreachable" | "malformed_manifest" | "no_package_for_this_computer" | "not_installed_from_package" | "install_failed";

export type UpdateCheck = { "kind": "up_to_date", installed_version: string, } | { "kind": "available", offer: UpdateOffer, plan: UpdatePlan, } | { "kind": "refused_earlier", installed_version: string, version: string, };

export type UpdateNotice = { installed_version: string, 
/**
 * A newer version an administrator has found and not installed yet.
 */
available: UpdateOffer | null, 
/**
 * An administrator is installing it now: the app will restart.
 */
installing: boolean, };

export type UpdateProgress = { "stage": "backup", progress: BackupProgress, } | { "stage": "download", received_bytes: number, total_bytes: number | null, } | { "stage": "install" };

export type InstalledUpdate = { version: string, 
/**
 * The verified backup made first, if the update changes the schema.
 */
backup_file: string | null, };

export type ExportCounts = { providers: number, patients: number, appointments: number, observations: number, notes: number, allergies: number, medications: number, problems: number, };

export type ExportProgress = { patients_done: number, patients_total: number, };

export type RecordsExported = { 
/**
 * The file (one chart) or the folder (the clinic).
 */
path: string, counts: ExportCounts, };
