// Secrets never reach a log line or an error message. These helpers strip them from what we print.

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. Unparseable input is hidden whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable url>";
  }
}

/** Replaces every occurrence of each secret in `text` with `***`. Empty secrets are ignored. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}
