// Unsaved forms that must survive an automatic logoff. Forms register how to read their state;
// the app saves them (encrypted, in the store) before the session ends.
type Provider = () => unknown | null;

const providers = new Map<string, Provider>();

export function keepDraft(formKey: string, read: Provider): () => void {
  providers.set(formKey, read);
  return () => providers.delete(formKey);
}

export function pendingDrafts(): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  for (const [key, read] of providers) {
    const payload = read();
    if (payload !== null && payload !== undefined) found.push([key, payload]);
  }
  return found;
}
