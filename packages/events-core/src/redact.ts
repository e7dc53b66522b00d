// Secrets never reach a log line or an error message. These helpers strip them from what we print.
// A URL can carry a secret in two places: the userinfo (`redis://:secret@host`) and the query
// (`redis://host?password=secret`, `postgres://host/db?password=…&sslpassword=…`), which ioredis and pg
// both accept. Both are masked.

/** Query parameters whose value is a secret, whatever the client: password, token, key, signature, … */
const SECRET_PARAM = /pass|pwd|secret|token|key|sig|auth|credential/i;

/**
 * `redis://user:secret@host:6379/0?password=x` → `redis://user:***@host:6379/0?password=***`.
 * Unparseable input is hidden whole.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const name of [...new Set(parsed.searchParams.keys())]) {
      if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, "***");
    }
    // URLSearchParams encodes `*`; keep the mask readable.
    return parsed.toString().replaceAll("%2A%2A%2A", "***");
  } catch {
    return "<unparseable url>";
  }
}

/**
 * The secret strings a URL carries (userinfo password, secret query values), raw and decoded, for
 * `redactSecrets` on text that a client library built from the URL (its errors, its log lines).
 */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url]; // cannot tell what is secret in it: hide all of it
  }
  const secrets = new Set<string>();
  const add = (value: string) => {
    if (!value) return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // not %-encoded: the raw value is enough
    }
  };
  add(parsed.password);
  for (const [name, value] of parsed.searchParams) {
    if (SECRET_PARAM.test(name)) {
      add(value);
      add(encodeURIComponent(value));
    }
  }
  return [...secrets];
}

/** Replaces every occurrence of each secret in `text` with `***`. Empty secrets are ignored. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].sort((a, b) => (b?.length ?? 0) - (a?.length ?? 0))) {
    if (secret && secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}
