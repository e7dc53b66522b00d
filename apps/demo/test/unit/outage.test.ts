// Broker down while requests keep coming: every request still succeeds (the rows and their events
// commit to the database), and once the broker is back every event is delivered — counted by id.
// The broker here is the in-memory backend made to fail (MemoryBus.setOutage); the same scenario
// against a real broker runs in test/integration when that backend is installed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBus, silentLogger } from "@kaireon/events-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Container, startDemo } from "../../src/container.js";

let demo: Container;
let dataDir: string;
const bus = new MemoryBus(10_000);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-outage-"));
  demo = await startDemo(
    {
      PORT: "0",
      DEMO_DATA_DIR: dataDir,
      EVENT_PUBLISHER: "memory",
      OUTBOX_RETRY_BASE_MS: "50",
      OUTBOX_RETRY_MAX_MS: "500",
      OUTBOX_MAX_ATTEMPTS: "1000",
    },
    { logger: silentLogger, tail: () => {}, memoryBus: bus },
  );
});

afterAll(async () => {
  await demo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it("accepts every request while the broker is down and delivers every event after it returns", async () => {
  bus.setOutage(true);
  const ids: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${demo.url}/api/v1/respond`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            tenantId: `t${i % 3}`,
            customerId: `c${batch}-${i}`,
            offerId: "o1",
            channelId: "web",
            interactionType: "impression",
          }),
        }),
      ),
    );
    for (const res of responses) {
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { interaction: { eventId: string } }).interaction.eventId);
    }
  }
  expect(demo.liveView?.snapshot().counts["interaction.recorded.v1"]).toBe(0);
  expect((await demo.store.counts()).interactions).toBe(200);

  bus.setOutage(false);
  const seen = new Set<string>();
  demo.liveView!.onEvent((e) => {
    seen.add(e.id);
  });
  await expect.poll(() => ids.filter((id) => seen.has(id)).length, { timeout: 30_000, interval: 100 }).toBe(200);
  expect(new Set(ids).size).toBe(200);
});
