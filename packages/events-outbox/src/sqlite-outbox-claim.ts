// The SQLite claim: which rows a relay sends next, and what their outcomes write. A claim reads the
// due heads of the retry table, then the log after the cursor in `seq` order; a log row whose key
// has a row waiting in the retry table joins it (in order) instead of being sent. `complete` records
// every outcome and moves the cursor in one transaction. One claim at a time per store.

import type { Claim, ClaimedRow, RowOutcome } from "./outbox-store.js";
import {
  type LogRow,
  promoteHeads,
  type RetryPayloadRow,
  type RetryScanRow,
  readState,
  type SqliteDatabaseLike,
  type SqliteStatements,
} from "./sqlite-outbox-statements.js";

// Rows read per scan of the log or the retry table, and the most one claim looks at.
const MAX_WINDOW = 2000;

const emptyClaim: Claim = { rows: [], complete: async () => {}, abandon: async () => {} };

/** Hands out claims on one SQLite outbox, one at a time. */
export class SqliteClaimer {
  /** The claim not yet completed or abandoned; no other is handed out meanwhile. */
  private open: SqliteClaim | undefined;
  /** Log rows read ahead while the open claim was out (readAhead), for the next claim. */
  private ahead: { after: number; rows: LogRow[] } | undefined;
  /**
   * The last log row this relay sent whose cursor was handed to the cursorWriter: claims start
   * after it even before the app's writer has committed it (0 after a failed cursor write: the
   * stored cursor rules again, and the rows after it are sent again).
   */
  sentUpTo = 0;
  /** A cursor write that failed since the last claim: the next claim throws it (the relay backs off). */
  private writeError: unknown;

  constructor(
    private readonly db: SqliteDatabaseLike,
    private readonly statements: () => SqliteStatements,
    private readonly now: () => number,
    private readonly cursorWriter?: (seq: number) => Promise<void>,
  ) {}

  /** Reads the log rows after `after` for the next claim (see OutboxStore.readAhead). */
  readAhead(after: number, limit: number): LogRow[] {
    this.ahead = undefined;
    if (this.db.inTransaction) return [];
    const rows = this.statements().log.all(after, Math.min(limit, MAX_WINDOW)) as LogRow[];
    if (rows.length > 0) this.ahead = { after, rows };
    return rows;
  }

  claim(limit: number): Claim {
    if (this.writeError !== undefined) {
      const error = this.writeError;
      this.writeError = undefined;
      throw error;
    }
    // A caller that opened a transaction by hand (BEGIN … await … COMMIT) shares this connection:
    // claiming now would read its uncommitted rows. Wait for it to finish.
    if (this.db.inTransaction || this.open) return emptyClaim;
    const ahead = this.ahead;
    this.ahead = undefined;
    const s = this.statements();
    const at = this.now();
    const state = readState(s, this.sentUpTo);
    const anyWaiting = state.anyRetry;
    const retries = anyWaiting ? this.dueRetries(s, limit, at) : [];
    if (!state.anyAfter && retries.length === 0) return emptyClaim;
    // Keys with a row in the retry table: their log rows queue behind it.
    const waits = new Map<string, boolean>();
    const keyWaits = (key: string) => {
      let yes = waits.get(key);
      if (yes === undefined) {
        yes = (s.keyWaits.get(key) as { yes: number }).yes === 1;
        waits.set(key, yes);
      }
      return yes;
    };
    const from = state.cursor;
    // The log after the cursor, in order. Rows of a key that waits join it instead of being sent;
    // they are recorded at complete(), with the cursor. When a whole window is such rows, they are
    // moved at once so the claim can look further.
    let cursor = from;
    const keyOf = new Map<number, string>(retries.map((r) => [r.seq, r.partition_key]));
    const picked: LogRow[] = [];
    const deferred: number[] = [];
    // Rows read ahead start right after the cursor only if the last batch was sent whole (the
    // cursor reached them); with no retry row waiting they are what the first scan would read.
    let first = ahead && !anyWaiting && ahead.after === from ? ahead.rows.slice(0, limit) : undefined;
    for (let scanned = 0; retries.length + picked.length < limit && scanned < Math.max(limit * 2, 1000); ) {
      const scan = first ?? (s.log.all(cursor, Math.min(limit - retries.length - picked.length, MAX_WINDOW)) as LogRow[]);
      first = undefined;
      if (scan.length === 0) break;
      scanned += scan.length;
      for (const row of scan) {
        keyOf.set(row.seq, row.partition_key);
        if (anyWaiting && keyWaits(row.partition_key)) deferred.push(row.seq);
        else picked.push(row);
      }
      cursor = (scan[scan.length - 1] as LogRow).seq;
      if (picked.length === 0 && retries.length === 0) {
        this.db.transaction(() => {
          for (const seq of deferred) s.park.run("pending", 0, null, at, seq);
          s.setCursor.run(cursor);
        })();
        deferred.length = 0;
      }
    }
    if (retries.length + picked.length === 0) return emptyClaim;

    const retryRows = retries.length
      ? (s.retryPayloads.all(JSON.stringify(retries.map((r) => r.seq))) as RetryPayloadRow[]).map(
          (r): ClaimedRow => ({ seq: r.seq, eventId: r.event_id, partitionKey: r.partition_key, payload: r.payload, attempts: r.attempts }),
        )
      : [];
    const claim: SqliteClaim = new SqliteClaim(
      {
        db: this.db,
        s,
        now: this.now,
        cursorWriter: this.cursorWriter,
        sent: (seq, written) => {
          this.sentUpTo = Math.max(this.sentUpTo, seq);
          written.catch((error: unknown) => {
            this.sentUpTo = 0;
            this.writeError = error ?? new Error("the cursor write failed");
          });
        },
        release: () => {
          if (this.open === claim) this.open = undefined;
        },
      },
      { from, retryRows, picked, deferred, keyOf },
    );
    this.open = claim;
    return claim;
  }

  /** Retry-table rows to send now: due heads (one per key), then the rows queued behind them. */
  private dueRetries(s: SqliteStatements, limit: number, at: number): RetryScanRow[] {
    const heads = s.dueHeads.all(at, limit) as RetryScanRow[];
    const picked = [...heads];
    for (const head of heads) {
      if (picked.length >= limit) break;
      picked.push(...(s.behind.all(head.partition_key, head.seq, limit - picked.length) as RetryScanRow[]));
    }
    return picked;
  }
}

interface ClaimContext {
  db: SqliteDatabaseLike;
  s: SqliteStatements;
  now: () => number;
  /** Moves the cursor on the app's writer (SqliteOutboxOptions.cursorWriter). */
  cursorWriter: ((seq: number) => Promise<void>) | undefined;
  /** The rows up to `seq` were sent; `written` settles when the app's writer has committed that cursor. */
  sent: (seq: number, written: Promise<void>) => void;
  /** Tells the claimer this claim is settled. */
  release: () => void;
}

interface ClaimScope {
  /** The cursor when the claim was made. */
  from: number;
  /** Due rows of the retry table, sent first. */
  retryRows: ClaimedRow[];
  /** Log rows after the cursor to send. */
  picked: LogRow[];
  /** Log rows after the cursor whose key waits: they join the retry table at complete(). */
  deferred: number[];
  /** The partition key of every row the claim covered. */
  keyOf: Map<number, string>;
}

class SqliteClaim implements Claim {
  readonly rows: readonly ClaimedRow[];
  private state: "open" | "settled" = "open";
  private readonly retrySeqs: Set<number>;
  private readonly deferredSet: Set<number>;

  constructor(
    private readonly context: ClaimContext,
    private readonly scope: ClaimScope,
  ) {
    this.retrySeqs = new Set(scope.retryRows.map((r) => r.seq));
    this.deferredSet = new Set(scope.deferred);
    this.rows = scope.retryRows.concat(
      scope.picked.map((r) => ({ seq: r.seq, eventId: r.event_id, partitionKey: r.partition_key, payload: r.payload, attempts: 0 })),
    );
  }

  async complete(outcomes: readonly RowOutcome[]): Promise<void> {
    if (this.state === "settled") return;
    const bySeq = new Map<number, RowOutcome>(outcomes.map((o) => [o.seq, o]));
    const done = this.context.now();
    try {
      const writer = this.context.cursorWriter;
      const sentUpTo = writer ? this.onlySentUpTo(bySeq) : undefined;
      // Not awaited: the next claim starts after these rows (the claimer's sentUpTo) while the
      // app's writer commits the cursor with its own next transaction.
      if (writer && sentUpTo !== undefined) {
        if (sentUpTo > this.scope.from)
          this.context.sent(
            sentUpTo,
            Promise.resolve().then(() => writer(sentUpTo)),
          );
      } else this.context.db.transaction(() => this.record(bySeq, done))();
    } finally {
      this.settle();
    }
  }

  /**
   * When all this claim records is a new cursor — no retry-table row, no deferred row, and every log
   * row up to the first one without an outcome was sent — that cursor; undefined otherwise.
   */
  private onlySentUpTo(bySeq: Map<number, RowOutcome>): number | undefined {
    if (this.retrySeqs.size > 0 || this.deferredSet.size > 0) return undefined;
    let reached = this.scope.from;
    for (const row of this.scope.picked) {
      const o = bySeq.get(row.seq);
      if (!o) break;
      if (o.status !== "sent") return undefined;
      reached = row.seq;
    }
    return reached;
  }

  async abandon(): Promise<void> {
    this.settle();
  }

  private settle(): void {
    this.state = "settled";
    this.context.release();
  }

  private record(bySeq: Map<number, RowOutcome>, done: number): void {
    const { scope } = this;
    const { s } = this.context;
    const sentRetries: number[] = [];
    // Keys whose retry rows changed, and the due time of each row scheduled for a retry.
    const touched = new Set<string>();
    const dueOf = new Map<number, number>();
    for (const seq of this.retrySeqs) {
      const o = bySeq.get(seq);
      if (!o) continue;
      touched.add(scope.keyOf.get(seq) as string);
      if (o.status === "sent") sentRetries.push(seq);
      else if (o.status === "retry") {
        s.retryAgain.run(o.attempts, o.error, done, seq);
        dueOf.set(seq, done + o.delayMs);
      } else s.retryDead.run(o.attempts, o.error, done, seq);
    }
    if (sentRetries.length > 0) s.retrySent.run(done, JSON.stringify(sentRetries));
    // Walk the log range this claim covered, in order; stop at a row without an outcome (it and
    // everything after it stay after the cursor, to be claimed again).
    let reached = scope.from;
    const log = [...scope.picked.map((r) => r.seq), ...this.deferredSet].sort((a, b) => a - b);
    for (const seq of log) {
      if (this.deferredSet.has(seq)) s.park.run("pending", 0, null, done, seq);
      else {
        const o = bySeq.get(seq);
        if (!o) break;
        if (o.status === "retry") {
          s.park.run("pending", o.attempts, o.error, done, seq);
          dueOf.set(seq, done + o.delayMs);
          touched.add(scope.keyOf.get(seq) as string);
        } else if (o.status === "dead") s.park.run("dead", o.attempts, o.error, done, seq);
      }
      reached = seq;
    }
    promoteHeads(s, touched, (seq) => dueOf.get(seq) ?? done);
    if (reached > scope.from) s.setCursor.run(reached);
  }
}
