// Typed calls into the desktop shell. Errors arrive as {code, message}; the UI switches on `code`.
import { Channel, invoke } from "@tauri-apps/api/core";
import type * as B from "./bindings";

export class ApiError extends Error {
  constructor(public code: B.ErrorCode, message: string) {
    super(message);
  }
}

export function toApiError(error: unknown): ApiError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const e = error as { code: B.ErrorCode; message: string };
    return new ApiError(e.code, e.message);
  }
  return new ApiError("unexpected", String(error));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toApiError(error);
  }
}

/// A long backup command: `onProgress` hears from the shell as the work advances.
function withProgress<T>(command: string, args: Record<string, unknown>, onProgress: (progress: B.BackupProgress) => void): Promise<T> {
  const channel = new Channel<B.BackupProgress>();
  channel.onmessage = onProgress;
  return call<T>(command, { ...args, onProgress: channel });
}

export const api = {
  storeOverview: () => call<B.StoreOverview>("store_overview"),
  createClinic: (request: B.FirstRunRequest) => call<B.FirstRun>("create_clinic", { request }),
  login: (username: string, password: string) => call<B.SessionInfo>("login", { username, password }),
  changePassword: (current: string, newPassword: string) => call<B.SessionInfo>("change_password", { current, newPassword }),
  logoff: (idle: boolean) => call<null>("logoff", { idle }),
  touch: () => call<number>("touch"),
  drafts: () => call<B.Draft[]>("drafts"),
  saveDraft: (formKey: string, payload: unknown) => call<null>("save_draft", { formKey, payload }),
  discardDraft: (formKey: string) => call<null>("discard_draft", { formKey }),
  loadDemoData: () => call<B.DemoLoaded>("load_demo_data"),
  searchPatients: (query: string) => call<B.PatientHit[]>("search_patients", { query }),
  registerPatient: (patient: B.NewPatient, confirmedNotDuplicate: boolean) =>
    call<B.Registration>("register_patient", { patient, confirmedNotDuplicate }),
  openChart: (mrn: string) => call<B.Chart>("open_chart", { mrn }),
  requestEmergencyAccess: (mrn: string, reason: string) => call<B.EmergencyGrant>("request_emergency_access", { mrn, reason }),
  listProviders: () => call<B.Provider[]>("list_providers"),
  daySchedule: (providerId: string | null, day: string) => call<B.Appointment[]>("day_schedule", { providerId, day }),
  weekSchedule: (providerId: string | null, firstDay: string) => call<B.Appointment[]>("week_schedule", { providerId, firstDay }),
  arrivedToday: () => call<B.Appointment[]>("arrived_today"),
  book: (request: B.BookingRequest) => call<B.Appointment[]>("book_appointment", { request }),
  reschedule: (id: string, startsLocal: string, expectedVersion: number) =>
    call<B.Appointment>("reschedule_appointment", { id, startsLocal, expectedVersion }),
  setStatus: (id: string, status: B.AppointmentStatus, reason: string | null) =>
    call<B.Appointment>("set_appointment_status", { id, status, reason }),
  nextFreeSlot: (providerId: string, minutes: number, fromLocal: string) =>
    call<string | null>("next_free_slot", { providerId, minutes, fromLocal }),
  addProvider: (displayName: string, username: string | null, specialty: string | null) =>
    call<B.Provider>("add_provider", { displayName, username, specialty }),
  workingHours: (providerId: string) => call<B.WorkingWindow[]>("working_hours", { providerId }),
  setWorkingHours: (providerId: string, weekdays: number[], windows: Array<[number, number]>) =>
    call<null>("set_working_hours", { providerId, weekdays, windows }),
  addDayOff: (providerId: string, firstDay: string, lastDay: string, reason: string | null) =>
    call<null>("add_day_off", { providerId, firstDay, lastDay, reason }),
  listAppointmentTypes: () => call<B.AppointmentType[]>("list_appointment_types"),
  addAppointmentType: (name: string, defaultMinutes: number) => call<B.AppointmentType>("add_appointment_type", { name, defaultMinutes }),
  vitalDefinitions: () => call<B.VitalDefinitionView[]>("vital_definitions"),
  recordVitals: (mrn: string, readings: B.VitalReading[]) => call<B.VitalsSet>("record_vitals", { mrn, readings }),
  flowsheet: (mrn: string) => call<B.VitalsSet[]>("vitals_flowsheet", { mrn }),
  trend: (mrn: string, kind: B.VitalKind) => call<B.TrendPoint[]>("vitals_trend", { mrn, kind }),
  markInError: (observationId: string, reason: string) => call<null>("mark_observation_in_error", { observationId, reason }),
  listNotes: (mrn: string, search: string | null) => call<B.Note[]>("list_notes", { mrn, search }),
  writeNote: (mrn: string, title: string | null, body: string, parentNoteId: string | null) =>
    call<string>("write_note", { mrn, title, body, parentNoteId }),
  auditList: (filter: Partial<B.AuditFilter>) => call<B.AuditEntry[]>("audit_list", { filter }),
  auditVerify: () => call<B.AuditVerification>("audit_verify"),
  auditExport: (filter: Partial<B.AuditFilter>) => call<string>("audit_export_csv", { filter }),
  accessReport: (mrn: string) => call<B.AccessReportLine[]>("access_report", { mrn }),
  emergencyReviewList: (includeReviewed: boolean) => call<B.EmergencyGrant[]>("emergency_review_list", { includeReviewed }),
  emergencyMarkReviewed: (grantId: string, note: string) => call<B.EmergencyGrant>("emergency_mark_reviewed", { grantId, note }),
  listUsers: () => call<B.UserSummary[]>("list_users"),
  addUser: (username: string, displayName: string, role: string) => call<string>("add_user", { username, displayName, role }),
  disableUser: (username: string) => call<null>("disable_user", { username }),
  enableUser: (username: string) => call<string>("enable_user", { username }),
  setUserRole: (username: string, role: string) => call<null>("set_user_role", { username, role }),
  resetPassword: (username: string) => call<string>("reset_password", { username }),
  securitySettings: () => call<B.SecuritySettings>("security_settings"),
  setSecuritySettings: (settings: B.SecuritySettings) => call<null>("set_security_settings", { settings }),
  rotateKey: () => call<null>("rotate_data_key"),
  backupStatus: () => call<B.BackupStatus>("backup_status"),
  setBackupSettings: (settings: B.BackupSettings) => call<B.BackupSettings>("set_backup_settings", { settings }),
  listBackups: () => call<B.BackupFacts[]>("list_backups"),
  createBackup: (onProgress: (p: B.BackupProgress) => void) => withProgress<B.BackupFacts>("create_backup", {}, onProgress),
  verifyBackup: (path: string, onProgress: (p: B.BackupProgress) => void) => withProgress<B.BackupFacts>("verify_backup", { path }, onProgress),
  restoreBackup: (path: string, onProgress: (p: B.BackupProgress) => void) => withProgress<B.RestoreOutcome>("restore_backup", { path }, onProgress),
  planPointInTimeRestore: (moment: string) => call<B.PointInTimePlan>("plan_point_in_time_restore", { moment }),
  restoreToPointInTime: (moment: string, onProgress: (p: B.BackupProgress) => void) =>
    withProgress<B.RestoreOutcome>("restore_to_point_in_time", { moment }, onProgress),
};
