// End to end on Redis (pub/sub): the real redis-server started by tooling/services/redis.sh.
import { requireService } from "@kaireon/events-testkit";
import { it } from "vitest";
import { runBackendScenario } from "./e2e-support.js";

it("respond → the event arrives at a Redis subscriber, equal to the stored row", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  await runBackendScenario({ EVENT_PUBLISHER: "redis", REDIS_URL }, "redis");
});
