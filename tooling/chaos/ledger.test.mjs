// The ledger's arithmetic (node --test tooling/chaos/ledger.test.mjs): a ledger that cannot count a
// missing, duplicated or reordered event would report 0 for all of them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareLedger, ledgerLine } from "./ledger.mjs";

const stored = [
  { id: "a", topic: "t", key: "k1", seq: 1 },
  { id: "b", topic: "t", key: "k1", seq: 2 },
  { id: "c", topic: "t", key: "k1", seq: 3 },
  { id: "d", topic: "t", key: "k2", seq: 4 },
  { id: "e", topic: "u", key: "k1", seq: 5 },
];
const at = (...ids) => ids.map((id) => ({ id, part: "p" }));

test("everything delivered once, in order: all zero", () => {
  const c = compareLedger(stored, at("a", "d", "b", "e", "c"));
  assert.deepEqual([c.stored, c.distinct, c.missing, c.duplicates, c.outOfOrder, c.unexpected], [5, 5, 0, 0, 0, 0]);
});

test("a missing event is counted and named, and a gap is not a reordering", () => {
  const c = compareLedger(stored, at("a", "c", "d", "e"));
  assert.equal(c.missing, 1);
  assert.deepEqual(
    c.missingEvents.map((e) => e.id),
    ["b"],
  );
  assert.equal(c.outOfOrder, 0);
});

test("re-sends are duplicates, not reorderings: a b a b c", () => {
  const c = compareLedger(stored, at("a", "b", "a", "b", "c", "d", "e"));
  assert.equal(c.duplicates, 2);
  assert.equal(c.outOfOrder, 0);
});

test("a later event of the same (topic, key) first delivered before an earlier one is out of order", () => {
  const c = compareLedger(stored, at("b", "a", "c", "d", "e"));
  assert.equal(c.outOfOrder, 1);
  assert.match(c.outOfOrderSamples[0], /seq 1 after 2/);
});

test("order is per (topic, key): other keys and topics interleave freely", () => {
  const c = compareLedger(stored, at("e", "d", "a", "b", "c"));
  assert.equal(c.outOfOrder, 0);
});

test("ids the store does not hold are counted apart; ids compare case-insensitively", () => {
  const c = compareLedger([{ id: "AB-1", topic: "t", key: "k", seq: 1 }], at("ab-1", "zz"));
  assert.equal(c.distinct, 1);
  assert.equal(c.unexpected, 1);
});

test("the line has exactly the issue's shape", () => {
  const c = compareLedger(stored, at("a", "a", "b", "d", "c"));
  assert.equal(
    ledgerLine("kafka/sqlite", c, 3),
    "ledger kafka/sqlite: 5 stored, 4 delivered, 1 missing, 1 duplicates, 0 out of order, 3 failed requests",
  );
});
