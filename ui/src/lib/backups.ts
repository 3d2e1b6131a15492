// Wording and arithmetic for the Backups screen, kept out of the component so it is tested.
import type { BackupProgress, BackupStage } from "./bindings";

const STAGES: Record<BackupStage, string> = {
  snapshot: "Writing the encrypted backup",
  decrypt: "Decrypting the backup",
  check: "Checking integrity, links and the audit trail",
  replay: "Replaying recorded changes",
  swap: "Keeping a rollback copy and switching over",
};

export function stageLabel(stage: BackupStage): string {
  return STAGES[stage];
}

/** Whole percent done, 0–100; a stage with no size yet counts as 0. */
export function percentDone(progress: BackupProgress | null): number {
  if (!progress || progress.total_bytes <= 0) return 0;
  return Math.min(100, Math.floor((progress.done_bytes * 100) / progress.total_bytes));
}

const COUNT_LABELS: Array<[string, string, string]> = [
  ["patients", "patient", "patients"],
  ["appointments", "appointment", "appointments"],
  ["vitals_sets", "vitals set", "vitals sets"],
  ["notes", "note", "notes"],
];

/** "12 patients, 40 appointments, 3 vitals sets, 1 note" from a header's or the store's counts. */
export function describeCounts(counts: { [key in string]?: number }): string {
  return COUNT_LABELS.map(([key, one, many]) => {
    const n = counts[key] ?? 0;
    return `${n} ${n === 1 ? one : many}`;
  }).join(", ");
}

export function describeBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** A `datetime-local` input's value (local wall time) as an ISO instant, or null if empty/invalid. */
export function localInputToInstant(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}
