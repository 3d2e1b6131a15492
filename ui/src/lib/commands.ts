// Generated from the Rust by src-tauri/src/bindings.rs. Do not edit by hand:
// run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings`.

import { call, withProgress } from "./ipc";
import type * as B from "./bindings";

export const commands = {
  /** Who saw or changed this patient's record, and when. */
  accessReport: (mrn: string) => call<Array<B.AccessReportLine>>("access_report", { mrn }),
  addAppointmentType: (name: string, defaultMinutes: number) => call<B.AppointmentType>("add_appointment_type", { name, defaultMinutes }),
  addDayOff: (providerId: B.ProviderId, firstDay: string, lastDay: string, reason: string | null) => call<null>("add_day_off", { providerId, firstDay, lastDay, reason }),
  addProvider: (displayName: string, username: string | null, specialty: string | null) => call<B.Provider>("add_provider", { displayName, username, specialty }),
  /** Adds a user; returns the one-time password to hand to them. */
  addUser: (username: string, displayName: string, role: B.Role) => call<string>("add_user", { username, displayName, role }),
  /** Every allergy recorded for the patient, and the banner's state. */
  allergies: (mrn: string) => call<B.AllergyList>("allergies", { mrn }),
  /** The allergy banner: allergies, none known, or not recorded (the front desk: no substances). */
  allergyState: (mrn: string) => call<B.AllergyState>("allergy_state", { mrn }),
  /** Writes the filtered trail as CSV into the user's Downloads folder; returns the file's path. */
  auditExportCsv: (filter: B.AuditFilter) => call<string>("audit_export_csv", { filter }),
  auditList: (filter: B.AuditFilter) => call<B.AuditListing>("audit_list", { filter }),
  auditVerify: () => call<B.AuditVerification>("audit_verify", {}),
  backupStatus: () => call<B.BackupStatus>("backup_status", {}),
  /** The backups in this workstation's backup folder (or in `folder`), newest first, read from their headers before anyone signs in: for restoring a store nobody can sign in to. */
  backupsBeforeSignIn: (folder: string | null) => call<Array<B.BackupFacts>>("backups_before_sign_in", { folder }),
  /** Books one appointment or a series (checked as a whole). */
  bookAppointment: (request: B.BookingRequest) => call<Array<B.Appointment>>("book_appointment", { request }),
  /** Changes the signed-in user's password (also how a temporary one is replaced). */
  changePassword: (current: string, newPassword: string) => call<B.SessionInfo>("change_password", { current, newPassword }),
  /** Asks the update address whether a newer version exists (administrators); `quiet` (the check at sign-in) leaves refusals out of the audit trail. */
  checkForUpdate: (quiet: boolean) => call<B.UpdateCheck>("check_for_update", { quiet }),
  /** Checks the whole store now, on its own connection; a failure is the damaged-store error. */
  checkStore: () => call<B.StoreCheck>("check_store", {}),
  /** Confirms the patient has no known allergies (refused while an allergy is active). */
  confirmNoKnownAllergies: (mrn: string) => call<null>("confirm_no_known_allergies", { mrn }),
  /** For a booking that lost its time: the provider's next free starts. */
  conflictFreeSlots: (id: B.ConflictId) => call<Array<B.FreeSlot>>("conflict_free_slots", { id }),
  /** Backs up now, reporting progress. */
  createBackup: (onProgress: (progress: B.BackupProgress) => void) => withProgress<B.BackupFacts, B.BackupProgress>("create_backup", {}, onProgress),
  /** Creates the clinic's store and its first administrator; the recovery key is shown once. */
  createClinic: (request: B.FirstRunRequest) => call<B.FirstRun>("create_clinic", { request }),
  /** One local day of one provider, or of the whole clinic. */
  daySchedule: (providerId: B.ProviderId | null, day: string) => call<Array<B.Appointment>>("day_schedule", { providerId, day }),
  /** Disables an account: its key slot is removed. */
  disableUser: (username: string) => call<null>("disable_user", { username }),
  discardDraft: (formKey: string) => call<null>("discard_draft", { formKey }),
  /** This user's saved, unsubmitted forms. */
  drafts: () => call<Array<B.Draft>>("drafts", {}),
  emergencyMarkReviewed: (grantId: B.GrantId, note: string) => call<B.EmergencyGrant>("emergency_mark_reviewed", { grantId, note }),
  emergencyReviewList: (includeReviewed: boolean) => call<Array<B.EmergencyGrant>>("emergency_review_list", { includeReviewed }),
  /** Enables an account again; returns its new one-time password. */
  enableUser: (username: string) => call<string>("enable_user", { username }),
  /** Enrols this workstation with the central server (administrators); the first sync follows in the background. */
  enrolWorkstation: (serverUrl: string, code: string) => call<B.EnrolledWorkstation>("enrol_workstation", { serverUrl, code }),
  /** Exports the whole clinic as FHIR R4 NDJSON (de-identified for research when asked) into a new folder in Downloads, reporting progress patient by patient. */
  exportClinicFhir: (deidentified: boolean, onProgress: (progress: B.ExportProgress) => void) => withProgress<B.RecordsExported, B.ExportProgress>("export_clinic_fhir", { deidentified }, onProgress),
  /** Exports one patient's chart as a FHIR R4 `collection` Bundle into the Downloads folder. */
  exportPatientFhir: (mrn: string) => call<B.RecordsExported>("export_patient_fhir", { mrn }),
  /** Installs the version the last check found, reporting progress. */
  installUpdate: (onProgress: (progress: B.UpdateProgress) => void) => withProgress<B.InstalledUpdate, B.UpdateProgress>("install_update", {}, onProgress),
  /** A new workstation (empty data folder) joins its clinic's server, for an administrator of the clinic with their own password; the records arrive after they sign in. */
  joinClinicServer: (serverUrl: string, code: string, adminUsername: string, adminPassword: string) => call<B.JoinedClinic>("join_clinic_server", { serverUrl, code, adminUsername, adminPassword }),
  listAppointmentTypes: () => call<Array<B.AppointmentType>>("list_appointment_types", {}),
  listBackups: () => call<Array<B.BackupFacts>>("list_backups", {}),
  /** The chart's notes with their addenda, newest first; `search` narrows them. */
  listNotes: (mrn: string, search: string | null) => call<Array<B.Note>>("list_notes", { mrn, search }),
  listProviders: () => call<Array<B.Provider>>("list_providers", {}),
  listUsers: () => call<Array<B.UserSummary>>("list_users", {}),
  /** Fills a new clinic with demo data and demo staff; returns their one-time passwords. The generation runs on its own connection, without holding the session. */
  loadDemoData: () => call<B.DemoLoaded>("load_demo_data", {}),
  /** The locale a clinic in `time_zone` writes by unless it chooses another. */
  localeForTimeZone: (timeZone: string) => call<string>("locale_for_time_zone", { timeZone }),
  /** Unlocks the store with this user's password (a previous session is logged off). */
  login: (username: string, password: string) => call<B.SessionInfo>("login", { username, password }),
  logoff: (idle: boolean) => call<null>("logoff", { idle }),
  markAllergyInError: (allergyId: B.AllergyId, reason: string) => call<null>("mark_allergy_in_error", { allergyId, reason }),
  markMedicationInError: (medicationId: B.MedicationId, reason: string) => call<null>("mark_medication_in_error", { medicationId, reason }),
  /** Marks a value entered-in-error, with a reason (never an edit). */
  markObservationInError: (observationId: B.ObservationId, reason: string) => call<null>("mark_observation_in_error", { observationId, reason }),
  markProblemInError: (problemId: B.ProblemId, reason: string) => call<null>("mark_problem_in_error", { problemId, reason }),
  /** The medications and the last review, each marked when changed by someone else since. */
  medications: (mrn: string) => call<B.MedicationList>("medications", { mrn }),
  /** The provider's first free start at or after `from_local`. */
  nextFreeSlot: (providerId: B.ProviderId, minutes: number, fromLocal: string) => call<string | null>("next_free_slot", { providerId, minutes, fromLocal }),
  /** The locales a clinic can write its dates, times and numbers by (no sign-in needed: first run). */
  offeredLocales: () => call<Array<B.LocaleChoice>>("offered_locales", {}),
  /** Opens a chart (audited). */
  openChart: (mrn: string) => call<B.Chart>("open_chart", { mrn }),
  /** What going back to `moment` would undo, before it is done. */
  planPointInTimeRestore: (moment: string) => call<B.PointInTimePlan>("plan_point_in_time_restore", { moment }),
  /** Reads an enrolment code and shows what it binds to, without contacting the server. */
  previewEnrolment: (serverUrl: string, code: string) => call<B.EnrolmentPreview>("preview_enrolment", { serverUrl, code }),
  problems: (mrn: string) => call<Array<B.Problem>>("problems", { mrn }),
  recordAllergy: (mrn: string, details: B.AllergyDetails) => call<B.AllergyId>("record_allergy", { mrn, details }),
  recordMedication: (mrn: string, details: B.MedicationDetails) => call<B.MedicationId>("record_medication", { mrn, details }),
  recordProblem: (mrn: string, details: B.ProblemDetails) => call<B.ProblemId>("record_problem", { mrn, details }),
  /** Records a vitals set (converted, flagged, BMI added). */
  recordVitals: (mrn: string, readings: Array<B.VitalReading>) => call<B.VitalsSet>("record_vitals", { mrn, readings }),
  /** Registers a patient; a likely duplicate registers nothing unless confirmed. */
  registerPatient: (patient: B.NewPatient, confirmedNotDuplicate: boolean) => call<B.Registration>("register_patient", { patient, confirmedNotDuplicate }),
  /** Opens a restricted chart in an emergency, with a reason (audited, flagged for review). */
  requestEmergencyAccess: (mrn: string, reason: string) => call<B.EmergencyGrant>("request_emergency_access", { mrn, reason }),
  /** Moves an appointment; a stale `expected_version` is a conflict. A time in the hour the clocks go back is the first of the two (the returned `clock_note` says so). */
  rescheduleAppointment: (id: B.AppointmentId, startsLocal: string, expectedVersion: number) => call<B.Appointment>("reschedule_appointment", { id, startsLocal, expectedVersion }),
  /** Gives a user a new one-time password (and clears a lockout). */
  resetPassword: (username: string) => call<string>("reset_password", { username }),
  /** Settles a conflict: keep mine, keep theirs, field by field, or move a booking. */
  resolveSyncConflict: (id: B.ConflictId, resolution: B.ConflictResolution) => call<null>("resolve_sync_conflict", { id, resolution }),
  /** Restarts the app into the installed version (the person's drafts are kept in the store). */
  restartIntoUpdate: () => call<null>("restart_into_update", {}),
  /** Restores a backup whole: decrypted and checked on its own connection, then swapped in (other commands are told the store is busy during the swap). */
  restoreBackup: (path: string, onProgress: (progress: B.BackupProgress) => void) => withProgress<B.RestoreOutcome, B.BackupProgress>("restore_backup", { path }, onProgress),
  /** Restores a backup over a store so damaged that nobody can sign in, with the clinic's recovery key; everyone keeps their password, and the damaged store is kept aside. */
  restoreDamagedStore: (path: string, recoveryKey: string, onProgress: (progress: B.BackupProgress) => void) => withProgress<B.RestoreOutcome, B.BackupProgress>("restore_damaged_store", { path, recoveryKey }, onProgress),
  /** Brings the store back to a moment: the backup before it, checked, then the journal replayed. */
  restoreToPointInTime: (moment: string, onProgress: (progress: B.BackupProgress) => void) => withProgress<B.RestoreOutcome, B.BackupProgress>("restore_to_point_in_time", { moment }, onProgress),
  /** Marks the medication list reviewed now (clinicians). */
  reviewMedications: (mrn: string) => call<null>("review_medications", { mrn }),
  /** Rotates the database key; other commands are told the store is busy meanwhile. */
  rotateDataKey: () => call<null>("rotate_data_key", {}),
  saveDraft: (formKey: string, payload: B.JsonValue) => call<null>("save_draft", { formKey, payload }),
  /** The best 20 patients for a name (typos allowed), MRN, birth date or phone. */
  searchPatients: (query: string) => call<Array<B.PatientHit>>("search_patients", { query }),
  securitySettings: () => call<B.SecuritySettings>("security_settings", {}),
  setAppointmentStatus: (id: B.AppointmentId, status: B.AppointmentStatus, reason: string | null) => call<B.Appointment>("set_appointment_status", { id, status, reason }),
  setBackupSettings: (settings: B.BackupSettings) => call<B.BackupSettings>("set_backup_settings", { settings }),
  /** Changes how the clinic writes dates, times and numbers (administrators; audited, synced). */
  setClinicLocale: (locale: string) => call<null>("set_clinic_locale", { locale }),
  /** Restricts a chart to its care team, or lifts the restriction. */
  setPatientRestricted: (mrn: string, restricted: boolean) => call<null>("set_patient_restricted", { mrn, restricted }),
  setSecuritySettings: (settings: B.SecuritySettings) => call<null>("set_security_settings", { settings }),
  setUpdateSettings: (settings: B.UpdateSettings) => call<B.UpdateSettings>("set_update_settings", { settings }),
  setUserRole: (username: string, role: B.Role) => call<null>("set_user_role", { username, role }),
  /** Replaces the windows of the given weekdays (ISO 1 = Monday); minutes after local midnight. */
  setWorkingHours: (providerId: B.ProviderId, weekdays: Array<number>, windows: Array<[number, number]>) => call<null>("set_working_hours", { providerId, weekdays, windows }),
  /** The store's health: the last full check, and any damage found. */
  storeHealth: () => call<B.StoreHealth>("store_health", {}),
  /** Is there a store yet, and for which clinic (no key needed). */
  storeOverview: () => call<B.StoreOverview>("store_overview", {}),
  /** The open conflicts of the records this person's role owns. */
  syncConflicts: () => call<Array<B.SyncConflict>>("sync_conflicts", {}),
  /** Syncs now (waits for a sync already running to finish first). */
  syncNow: () => call<B.SyncOutcome>("sync_now", {}),
  /** The header's sync status, for everyone signed in. */
  syncOverview: () => call<B.SyncOverview>("sync_overview", {}),
  /** The IANA time zone names a clinic can choose from, sorted. */
  timeZoneNames: () => call<Array<string>>("time_zone_names", {}),
  /** Today's appointments of the clinic with where each patient is (the landing screens). */
  todayBoard: () => call<Array<B.TodayEntry>>("today_board", {}),
  /** Any input in the window: resets the idle timer. Returns the seconds left. */
  touch: () => call<number>("touch", {}),
  updateAllergy: (allergyId: B.AllergyId, details: B.AllergyDetails) => call<null>("update_allergy", { allergyId, details }),
  /** Changes demographics; a stale `expected_version` is a conflict, nothing overwritten. */
  updateDemographics: (mrn: string, change: B.DemographicsChange, expectedVersion: number) => call<null>("update_demographics", { mrn, change, expectedVersion }),
  updateMedication: (medicationId: B.MedicationId, details: B.MedicationDetails) => call<null>("update_medication", { medicationId, details }),
  /** What everyone signed in here sees: the installed version, and a newer one waiting. */
  updateNotice: () => call<B.UpdateNotice>("update_notice", {}),
  updateProblem: (problemId: B.ProblemId, details: B.ProblemDetails) => call<null>("update_problem", { problemId, details }),
  updateSettings: () => call<B.UpdateSettings>("update_settings", {}),
  /** Decrypts and checks a backup completely, touching nothing. */
  verifyBackup: (path: string, onProgress: (progress: B.BackupProgress) => void) => withProgress<B.BackupFacts, B.BackupProgress>("verify_backup", { path }, onProgress),
  /** The vital-signs table, for the form's checks as the nurse types. */
  vitalDefinitions: () => call<Array<B.VitalDefinitionView>>("vital_definitions", {}),
  /** The last 50 vitals sets, newest first. */
  vitalsFlowsheet: (mrn: string) => call<Array<B.VitalsSet>>("vitals_flowsheet", { mrn }),
  vitalsTrend: (mrn: string, kind: B.VitalKind) => call<Array<B.TrendPoint>>("vitals_trend", { mrn, kind }),
  /** Seven local days from `first_day`. */
  weekSchedule: (providerId: B.ProviderId | null, firstDay: string) => call<Array<B.Appointment>>("week_schedule", { providerId, firstDay }),
  workingHours: (providerId: B.ProviderId) => call<Array<B.WorkingWindow>>("working_hours", { providerId }),
  /** Writes a note (clinical for clinicians, nursing for nurses), or an addendum to one. */
  writeNote: (mrn: string, title: string | null, body: string, parentNoteId: B.NoteId | null) => call<B.NoteId>("write_note", { mrn, title, body, parentNoteId }),
};
