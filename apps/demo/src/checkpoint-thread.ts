// The SQLite WAL checkpoints of a relay, on a thread (and a connection) of their own: a checkpoint
// copies the committed pages into the database file and fsyncs it — 3 ms at the median on the
// bench's disk, up to 20 ms — and better-sqlite3 runs it synchronously, so on the relay's own thread
// every event that arrives meanwhile waits for the fsync: that wait was the relay's end-to-end p99.
// PASSIVE: never blocks the server's writes or the relay's reads; a busy or failed one is retried at
// the next tick, and the server's fallback automatic checkpoint bounds the WAL if this thread stops.

import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new Database(file, { fileMustExist: true });
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or closing: the next tick tries again.
  }
}, everyMs);

// stop: the connection closed, then nothing keeps the thread alive and it exits.
parentPort?.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
