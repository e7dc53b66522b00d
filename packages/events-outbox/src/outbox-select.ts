// Picks the rows a relay may send from a scan in insertion order, so that order per partition key
// holds: a key whose oldest pending row is waiting for a retry (or is held by another relay) is
// blocked, and none of its later rows is sent before it.

export interface ScannedRow {
  partitionKey: string;
  /** Due now (next_attempt_at has passed). */
  ready: boolean;
}

/**
 * Walks `rows` (ascending insertion order) and returns the indexes of the rows to send, at most
 * `limit`. `blocked` collects keys that must wait; pass the same set across consecutive windows.
 */
export function selectSendable(rows: readonly ScannedRow[], limit: number, blocked: Set<string>): number[] {
  const picked: number[] = [];
  for (let i = 0; i < rows.length && picked.length < limit; i++) {
    const row = rows[i] as ScannedRow;
    if (blocked.has(row.partitionKey)) continue;
    if (!row.ready) {
      blocked.add(row.partitionKey);
      continue;
    }
    picked.push(i);
  }
  return picked;
}
