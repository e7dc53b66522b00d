// The sample subscriber: prints every domain event it receives from Redis pub/sub, with ioredis
// alone (no Kaireon package needed on the consumer side). Run it, then publish:
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/subscriber.mjs
//
// REDIS_CHANNEL_PREFIX must match the publisher's (default: none). Pub/sub keeps nothing: only
// events published while this runs arrive. For replay use REDIS_MODE=streams and
// createRedisSubscriber (see the README).
import { Redis } from "ioredis";

const prefix = process.env.REDIS_CHANNEL_PREFIX ?? "";
const channels = ["interaction.recorded.v1", "decision.made.v1"].map((topic) => `${prefix}${topic}`);
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

redis.on("message", (channel, message) => {
  try {
    const event = JSON.parse(message); // a CloudEvents 1.0 envelope; the payload is event.data
    console.log(`${channel} ${event.id} tenant=${event.tenantid} customer=${event.subject}`, event.data);
  } catch {
    console.error(`${channel}: not JSON: ${message}`);
  }
});
await redis.subscribe(...channels);
console.log(`listening on ${channels.join(", ")} — Ctrl+C to stop`);
process.on("SIGINT", () => redis.quit().then(() => process.exit(0)));
