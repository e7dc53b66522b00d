// close() while the publisher's lazy connect is still pending. The first publish starts the connect;
// a gate in front of the real broker holds the bootstrap connection, so the publish times out and
// close() runs before the connect is done. Then the gate opens and the connect completes for real.
// Nothing may be connected once close() resolved, and nothing may be sent after it.

import net from "node:net";
import { EventsError, silentLogger } from "@kaireon/events-core";
import { sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, type KafkaOptions, resolveKafkaOptions } from "../../src/index.js";
import { brokerOptions, connectionsTo, plainKafka, prepareTopics, testClients, timeoutNegativeWarnings, uniquePrefix } from "./helpers.js";

/** A TCP relay to the broker that holds every connection until open(); counts the connections still open. */
async function gatedRelay(target: string) {
  const [host, port] = target.split(":") as [string, string];
  const waiting: Array<() => void> = [];
  let isOpen = false;
  let open = 0;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted++;
    open++;
    sockets.add(client);
    client.pause();
    let upstream: net.Socket | undefined;
    const done = () => {
      if (!sockets.delete(client)) return;
      open--;
      upstream?.destroy();
      client.destroy();
    };
    client.on("close", done);
    client.on("error", done);
    const relay = () => {
      if (client.destroyed) return;
      upstream = net.connect(Number(port), host, () => {
        client.pipe(upstream as net.Socket);
        (upstream as net.Socket).pipe(client);
        client.resume();
      });
      upstream.on("close", done);
      upstream.on("error", done);
    };
    if (isOpen) relay();
    else waiting.push(relay);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${address.port}`,
    open() {
      isOpen = true;
      for (const relay of waiting.splice(0)) relay();
    },
    get connections() {
      return { accepted, open };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const topic = "decision.made.v1";
for (const client of testClients())
  describe(`client ${client}`, () => {
    let direct: KafkaOptions;
    let relay: Awaited<ReturnType<typeof gatedRelay>>;

    beforeAll(async () => {
      direct = await brokerOptions("plaintext", uniquePrefix(`close-${client}`), { client });
      await prepareTopics(direct, 1);
      relay = await gatedRelay(direct.brokers[0] as string);
    });
    afterAll(async () => {
      await relay?.close();
    });

    async function recordsIn(options: KafkaOptions): Promise<number> {
      const admin = plainKafka({ brokers: options.brokers, clientId: "kaireon-test-close" }).admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(options.topicPrefix + topic);
        return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      } finally {
        await admin.disconnect();
      }
    }

    describe("kafka publisher close() during the lazy connect", () => {
      it("disconnects what got connected and sends nothing after close() resolved", async () => {
        const options = resolveKafkaOptions({ ...direct, brokers: [relay.address], publishTimeoutMs: 1000 });
        const brokerPort = Number((direct.brokers[0] as string).split(":")[1]);
        // Earlier clients of this file (the topic set-up) may still hold one: count from here.
        const before = connectionsTo(brokerPort);
        const publisher = createKafkaPublisher(options, { logger: silentLogger });
        // The first publish starts the connect, which the gate holds: the publish times out meanwhile.
        const first = await publisher.publish(topic, sampleDecision({ tenantId: uniqueTenant("close") })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(EventsError.isInstance(first) && first.code, String(first)).toBe("PUBLISH_TIMEOUT");
        expect(relay.connections.accepted).toBeGreaterThan(0);
        const closing = publisher.close();
        // close() has nothing left to drain (the publish timed out), so it is releasing the connections
        // well before this: only then may the connect complete, against the real broker.
        await new Promise((r) => setTimeout(r, 300));
        relay.open();
        await closing;
        // Whatever the connect opened (through the relay, then to the broker it advertises) is closed now
        // or within moments (kafkajs' disconnect resolves once it ended its sockets, before the kernel
        // closed them); a leaked producer would keep its connection and send what it still had.
        const open = () => ({ relay: relay.connections.open, broker: Math.max(0, connectionsTo(brokerPort) - before) });
        const deadline = Date.now() + 5000;
        while ((open().relay > 0 || open().broker > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(open(), "connections still open after close() resolved").toEqual({ relay: 0, broker: 0 });
        await new Promise((r) => setTimeout(r, 1000));
        expect(open(), "connections opened after close() resolved").toEqual({ relay: 0, broker: 0 });
        expect(await recordsIn(direct), "records written after close()").toBe(0);
      });
    });
  });

// Runs last: the publishers above may run on platformatic only (KAFKA_TEST_CLIENTS), and the plain
// kafkajs admin that counts the records used to re-arm kafkajs' negative-delay idle poll.
describe("plain kafkajs beside our clients", () => {
  it("prints no TimeoutNegativeWarning", () => {
    expect(timeoutNegativeWarnings()).toEqual([]);
  });
});
