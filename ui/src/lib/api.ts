// The desktop shell's commands, typed: `api` is the generated `commands` (commands.ts, from the
// Rust functions); nothing here names a command by hand.
export { commands as api } from "./commands";
export { ApiError, isStoreDamage, STORE_DAMAGED_EVENT, toApiError } from "./ipc";
