// The seam's keyed partitioner for @platformatic/kafka (javaPartitioner: murmurhash's MurmurHash2 in
// integer arithmetic) against the two it must agree with: the library's own compatibilityPartitioner
// (the same hash on BigInt) and kafkajs' default partitioner (Java's). Keys of every length 0–48
// bytes, ASCII and multi-byte UTF-8, from a seeded generator so a failure is reproducible.
// test/integration/kafka-partitioning.test.ts shows the same against a broker, with both clients.

import { compatibilityPartitioner } from "@platformatic/kafka";
import { Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import { javaPartitioner } from "../../src/kafka-client-platformatic.js";

function keys(count: number): Buffer[] {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  return Array.from({ length: count }, (_, i) => {
    let text = "";
    for (let j = 0; j < i % 49; j++) {
      const r = next();
      text += String.fromCodePoint(
        r < 0.85 ? 32 + Math.floor(next() * 95) : r < 0.95 ? 0x80 + Math.floor(next() * 0x780) : 0x800 + Math.floor(next() * 0xd000),
      );
    }
    return Buffer.from(text, "utf8");
  });
}

describe("javaPartitioner", () => {
  const sample = keys(20_000);

  it("gives compatibilityPartitioner's hash for every key", () => {
    const differ = sample.filter((key) => javaPartitioner(undefined, key) !== compatibilityPartitioner(undefined as never, key));
    expect(differ.map((key) => key.toString("hex"))).toEqual([]);
  });

  it("puts every key on kafkajs' (Java's) partition", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 7, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      }));
      const differ = sample.filter(
        (key) => javaPartitioner(undefined, key) % partitions !== kafkajs({ topic: "t", partitionMetadata, message: { key, value: null } }),
      );
      expect(differ.length, `${partitions} partitions`).toBe(0);
    }
  });

  it("a record without a key goes to partition 0, as with compatibilityPartitioner", () => {
    expect(javaPartitioner(undefined, undefined)).toBe(0);
    expect(compatibilityPartitioner(undefined as never, undefined as never)).toBe(0);
  });
});
