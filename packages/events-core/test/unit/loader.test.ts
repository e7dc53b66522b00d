import Module from "node:module";
import { describe, expect, it } from "vitest";
import {
  BackendNotInstalledError,
  createEvent,
  DisabledPublisher,
  EventsError,
  loadPublisher,
  loadSubscriber,
  MemoryBus,
  silentLogger,
} from "../../src/index.js";
import { decision } from "../fixtures.js";

describe("loadPublisher", () => {
  it("gives the in-memory backend for EVENT_PUBLISHER=memory, with subscribers in the same process", async () => {
    const memoryBus = new MemoryBus();
    const publisher = await loadPublisher({ EVENT_PUBLISHER: "memory", EVENT_SOURCE: "svc-a" }, { memoryBus });
    const subscriber = await loadSubscriber({ EVENT_PUBLISHER: "memory" }, { memoryBus });
    const seen: string[] = [];
    const sub = await subscriber.subscribe(["decision.made.v1"], (e) => {
      seen.push(e.source);
    });
    const result = await publisher.publish("decision.made.v1", decision());
    await sub.close();
    expect(result).toMatchObject({ backend: "memory", status: "published", receivers: 1 });
    expect(seen).toEqual(["svc-a"]);
  });

  it("names the package to install when the backend is missing", async () => {
    // The loader also resolves from the main script and NODE_PATH. Under pnpm + vitest both lead to
    // node_modules/.pnpm/node_modules, where every workspace package is hoisted, so an existing
    // backend package would be found from anywhere. Hide both for this test.
    const nodePath = process.env.NODE_PATH;
    const main = process.argv[1];
    const cjs = Module as unknown as { _initPaths(): void };
    delete process.env.NODE_PATH;
    process.argv[1] = "/nonexistent/app.js";
    cjs._initPaths();
    const error = await loadPublisher({ EVENT_PUBLISHER: "kinesis" }, { resolveFrom: "/nonexistent/app.js" })
      .catch((e) => e)
      .finally(() => {
        if (nodePath !== undefined) process.env.NODE_PATH = nodePath;
        process.argv[1] = main as string;
        cjs._initPaths();
      });
    expect(error).toBeInstanceOf(BackendNotInstalledError);
    expect(EventsError.isInstance(error)).toBe(true);
    expect(error.code).toBe("BACKEND_NOT_INSTALLED");
    expect(error.message).toBe("EVENT_PUBLISHER=kinesis needs @kaireon/events-kinesis — install it: pnpm add @kaireon/events-kinesis");
  });

  it("rejects an unknown EVENT_PUBLISHER before importing anything", async () => {
    await expect(loadPublisher({ EVENT_PUBLISHER: "nats" })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});

describe("publishers from core", () => {
  it("never lets an invalid payload reach the backend", async () => {
    const memoryBus = new MemoryBus();
    const publisher = await loadPublisher({ EVENT_PUBLISHER: "memory" }, { memoryBus });
    const subscriber = await loadSubscriber({ EVENT_PUBLISHER: "memory" }, { memoryBus });
    const received: string[] = [];
    await subscriber.subscribe(
      ["decision.made.v1"],
      (e) => {
        received.push(e.id);
      },
      { from: "earliest" },
    );
    await expect(publisher.publish("decision.made.v1", decision({ customerId: "" }))).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const handMade = { ...createEvent("decision.made.v1", decision()), data: { ...decision(), offersReturned: -1 } };
    await expect(publisher.publishEvent(handMade as never)).rejects.toThrow("data.offersReturned");
    const [bad] = await publisher.publishBatch([{ ...handMade } as never]);
    expect(bad?.status).toBe("rejected");
    expect(received).toEqual([]);
    expect(publisher.metrics()).toMatchObject({ published: 0, failed: 3, failures: { VALIDATION_FAILED: 3 } });
    await subscriber.close();
  });

  it("a disabled stream accepts valid events, rejects invalid ones, and says why once", async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const publisher = new DisabledPublisher("redis", "REDIS_URL is not set — set it to publish events", { logger });
    const result = await publisher.publish("decision.made.v1", decision());
    expect(result.status).toBe("disabled");
    await publisher.publish("decision.made.v1", decision());
    await expect(publisher.publish("decision.made.v1", decision({ topPropensity: 2 }))).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(warnings).toEqual(["[redis] event stream disabled: REDIS_URL is not set — set it to publish events"]);
    expect(publisher.metrics()).toMatchObject({ published: 0, disabled: 2, failed: 1 });
    expect(await publisher.ready()).toMatchObject({ ready: true, disabled: true });
  });
});
