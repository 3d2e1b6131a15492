// Wording and arithmetic for the Updates screen and the update notice, kept out of the
// components so it is tested.
import type { UpdateProgress } from "./bindings";
import { describeBytes, percentDone, stageLabel } from "./backups";

/** Sent on the window while long work a person chose runs (an update): it counts as activity, so
 * the idle logoff does not end the session in the middle of it. */
export const LONG_WORK_EVENT = "clinicdesk-long-work";

/** Whole percent done of the current step, 0–100 (the install step has no measure: 100). */
export function updatePercent(progress: UpdateProgress | null): number {
  if (!progress) return 0;
  switch (progress.stage) {
    case "backup":
      return percentDone(progress.progress);
    case "download":
      if (!progress.total_bytes) return 0;
      return Math.min(100, Math.floor((progress.received_bytes * 100) / progress.total_bytes));
    case "install":
      return 100;
  }
}

/** What the install is doing now, in words. */
export function updateStepLabel(progress: UpdateProgress | null): string {
  if (!progress) return "Starting…";
  switch (progress.stage) {
    case "backup":
      return `Backing up first: ${stageLabel(progress.progress.stage).toLowerCase()}, ${percentDone(progress.progress)}%`;
    case "download":
      return progress.total_bytes
        ? `Downloading: ${describeBytes(progress.received_bytes)} of ${describeBytes(progress.total_bytes)}`
        : `Downloading: ${describeBytes(progress.received_bytes)}`;
    case "install":
      return "Installing: the computer may ask for its administrator password";
  }
}
