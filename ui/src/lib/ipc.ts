// The transport under the generated command wrappers (commands.ts): one `invoke` per call, and
// errors turned into ApiError {code, message, field}. The UI switches on `code` (and places a
// message by `field`), never on the message text.
import { Channel, invoke } from "@tauri-apps/api/core";
import type * as B from "./bindings";

export class ApiError extends Error {
  constructor(public code: B.ErrorCode, message: string, public field: string | null = null) {
    super(message);
  }
}

export function toApiError(error: unknown): ApiError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const e = error as { code: B.ErrorCode; message: string; field?: string };
    return new ApiError(e.code, e.message, e.field ?? null);
  }
  return new ApiError("unexpected", String(error));
}

/** The event the window hears when any command finds the store itself damaged. */
export const STORE_DAMAGED_EVENT = "clinicdesk:store-damaged";

/** Is this the store's own damage (not a damaged backup file)? By code and field, never text. */
export function isStoreDamage(error: ApiError): boolean {
  return error.code === "integrity_failure" && error.field === "store";
}

export async function call<T>(command: string, args: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    const apiError = toApiError(error);
    if (isStoreDamage(apiError)) window.dispatchEvent(new CustomEvent(STORE_DAMAGED_EVENT, { detail: apiError.message }));
    throw apiError;
  }
}

/// A long command: `onProgress` hears from the shell as the work advances.
export function withProgress<T, P>(command: string, args: Record<string, unknown>, onProgress: (progress: P) => void): Promise<T> {
  const channel = new Channel<P>();
  channel.onmessage = onProgress;
  return call<T>(command, { ...args, onProgress: channel });
}
