// Unsaved forms that must survive an automatic logoff. Forms register how to read their state;
// the app saves them (encrypted, in the store) before the session ends.
import type { JsonValue } from "./bindings";

type Provider = () => JsonValue | null;

const providers = new Map<string, Provider>();

export function keepDraft(formKey: string, read: Provider): () => void {
  providers.set(formKey, read);
  return () => providers.delete(formKey);
}

export function pendingDrafts(): Array<[string, JsonValue]> {
  const found: Array<[string, JsonValue]> = [];
  for (const [key, read] of providers) {
    const payload = read();
    if (payload !== null && payload !== undefined) found.push([key, payload]);
  }
  return found;
}
