// The in-memory backend passes the same suite as every broker.
import { createMemoryPublisher, createMemorySubscriber, MemoryBus, silentLogger } from "@kaireon/events-core";
import { describeBackendConformance } from "../../src/index.js";

const bus = new MemoryBus();

describeBackendConformance({
  name: "memory",
  createPublisher: () => createMemoryPublisher({ bus, logger: silentLogger }),
  // The memory backend delivers in the publish call: nothing queues, so there is no bound to exceed.
  createQueueBoundPublisher: () => createMemoryPublisher({ bus, logger: silentLogger }),
  createSubscriber: () => createMemorySubscriber({ bus, logger: silentLogger }),
  capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: true },
});
