// Package-level promises: importing the package loads no database driver, the selection keeps order
// per key, and the env options are checked.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { serializeEvent } from "@kaireon/events-core";
import { describe, expect, it } from "vitest";
import { readOutboxConfig } from "../../src/index.js";
import { fromPayload } from "../../src/outbox-rows.js";
import { selectSendable } from "../../src/outbox-select.js";
import { makeEvent } from "../support/outbox-suite.js";

describe("@kaireon/events-outbox", () => {
  it("never imports better-sqlite3 or pg at run time (an app brings only the driver of its store)", () => {
    const dir = join(import.meta.dirname, "../../src");
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), "utf8");
      const runtimeImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
      const dynamic = [...text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]);
      for (const name of [...runtimeImports, ...dynamic]) {
        expect(name, `${file} imports ${name}`).not.toMatch(/^(better-sqlite3|pg)(\/|$)/);
      }
    }
  });

  it("selectSendable: a key whose oldest row waits for a retry blocks its later rows, other keys go on", () => {
    const rows = [
      { partitionKey: "a", ready: true },
      { partitionKey: "b", ready: false },
      { partitionKey: "a", ready: true },
      { partitionKey: "b", ready: true },
      { partitionKey: "c", ready: true },
      { partitionKey: "a", ready: false },
      { partitionKey: "a", ready: true },
    ];
    const blocked = new Set<string>();
    expect(selectSendable(rows, 10, blocked)).toEqual([0, 2, 4]);
    expect([...blocked].sort()).toEqual(["a", "b"]);
    expect(selectSendable(rows, 2, new Set())).toEqual([0, 2]);
    expect(selectSendable([{ partitionKey: "c", ready: true }], 5, new Set(["c"]))).toEqual([]);
  });

  it("a stored payload is sent as stored: the relay does not serialise it again", () => {
    const event = makeEvent();
    // Same event, different key order than the library writes: only a kept text comes back unchanged.
    const { data, ...attributes } = event;
    const stored = JSON.stringify({ data, ...attributes });
    const restored = fromPayload(stored);
    expect(restored).toEqual({ ...event });
    expect(serializeEvent(restored)).toBe(stored);
  });

  it("reads OUTBOX_* variables and names the bad one", () => {
    expect(readOutboxConfig({})).toMatchObject({
      batchSize: 100,
      maxAttempts: 25,
      pollIntervalMs: 1000,
      lingerMs: 0,
      retention: { sentMs: 86_400_000 },
    });
    expect(readOutboxConfig({ OUTBOX_RETENTION_HOURS: "0", OUTBOX_BATCH_SIZE: "500" })).toMatchObject({ batchSize: 500, retention: false });
    expect(readOutboxConfig({ OUTBOX_LINGER_MS: "25" })).toMatchObject({ lingerMs: 25 });
    expect(() => readOutboxConfig({ OUTBOX_LINGER_MS: "-1" })).toThrow(/OUTBOX_LINGER_MS/);
    expect(() => readOutboxConfig({ OUTBOX_MAX_ATTEMPTS: "zero" })).toThrow(/OUTBOX_MAX_ATTEMPTS/);
  });
});
