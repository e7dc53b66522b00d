// With @opentelemetry/api installed and no SDK registered (an application that has the API through
// some other dependency), the publish and consume paths do no span or metric work at all: not one
// call into the API. Its own file: the other telemetry tests register an SDK for the whole file.
import { createRequire } from "node:module";
import type * as Otel from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEvent } from "../../src/envelope.js";
import { silentLogger } from "../../src/logger.js";
import { MemoryBus, MemoryPublisher, MemorySubscriber } from "../../src/memory-backend.js";
import { startProcess, startSend, telemetryRegistered } from "../../src/telemetry.js";
import { decision, interaction } from "../fixtures.js";

// The copy telemetry.ts loads (require), so the spies see its calls.
const api = createRequire(import.meta.url)("@opentelemetry/api") as typeof Otel;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("OpenTelemetry API installed, no SDK registered", () => {
  it("createEvent, publish and process make no call into the API, and the hooks return nothing", async () => {
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("opentelemetry.js.api.1")]).toBeUndefined();
    const calls = [
      vi.spyOn(api.context, "active"),
      vi.spyOn(api.trace, "getTracerProvider"),
      vi.spyOn(api.trace, "getSpan"),
      vi.spyOn(api.metrics, "getMeterProvider"),
    ];
    const bus = new MemoryBus();
    const publisher = new MemoryPublisher({ bus, logger: silentLogger });
    const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
    const handled: string[] = [];
    await subscriber.subscribe(["interaction.recorded.v1"], async (event) => {
      handled.push(event.id);
    });

    const event = createEvent("decision.made.v1", decision());
    expect(event.traceparent).toBeUndefined();
    const result = await publisher.publish("interaction.recorded.v1", interaction());
    const deadline = Date.now() + 10_000;
    while (handled.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(handled).toEqual([result.id]);

    expect(telemetryRegistered()).toBe(false);
    expect(startSend("memory", [event], (e) => e.type, false)).toBeUndefined();
    expect(startProcess("memory", event, event.type, undefined)).toBeUndefined();
    for (const spy of calls) expect(spy).not.toHaveBeenCalled();
    await subscriber.close();
    await publisher.close();
  });
});
