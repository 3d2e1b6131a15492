// What the header and the workspace know about sync: the shell's overview, refreshed every few
// seconds while someone is signed in (the shell syncs in the background; this only reads).
import { api } from "./api";
import type { ApiError } from "./ipc";
import type { SyncOverview } from "./bindings";

export const syncView: { overview: SyncOverview | null; error: string } = $state({ overview: null, error: "" });

let timer: ReturnType<typeof setInterval> | null = null;

export async function refreshSync(): Promise<void> {
  try {
    syncView.overview = await api.syncOverview();
    syncView.error = "";
  } catch (error) {
    syncView.error = (error as ApiError).message;
  }
}

/** Starts reading the overview every `seconds` (a new start replaces the old one). */
export function watchSync(seconds = 3): () => void {
  stopWatchingSync();
  refreshSync();
  timer = setInterval(refreshSync, seconds * 1000);
  return stopWatchingSync;
}

export function stopWatchingSync(): void {
  if (timer) clearInterval(timer);
  timer = null;
  syncView.overview = null;
}

/** The window event that opens the conflicts screen (the header's link). */
export const OPEN_CONFLICTS_EVENT = "clinicdesk:open-conflicts";

export type SyncState = "local" | "syncing" | "online" | "offline" | "problem" | "unknown";

/** One word for the header, from codes and flags only. */
export function syncState(overview: SyncOverview): SyncState {
  const { status, activity } = overview;
  if (!status.server_url) return "local";
  if (activity.running) return "syncing";
  if (activity.online === false) return "offline";
  const code = activity.last_error?.code ?? status.last_error_code;
  if (code === "server_unreachable") return "offline";
  if (code) return "problem";
  if (activity.online === true || status.last_pull_at) return "online";
  return "unknown";
}
