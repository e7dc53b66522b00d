// A plain Redis subscriber with no client library (RESP over a socket), so the consumer test reads
// what the published package really sent, not what our own subscriber makes of it.
//   node redis-listen.mjs <channel> <timeout-ms>   (REDIS_URL from the environment)
// Prints "ready" once subscribed, then the first message's payload, and exits 0; exits 1 on timeout.
import { connect } from "node:net";

const [channel, timeoutArg = "20000"] = process.argv.slice(2);
const url = new URL(process.env.REDIS_URL ?? "");
if (url.protocol !== "redis:") throw new Error("redis-listen: REDIS_URL must be redis:// (no TLS here)");
const command = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
setTimeout(() => {
  console.error(`redis-listen: no message on ${channel} within ${timeoutArg} ms`);
  process.exit(1);
}, Number(timeoutArg)).unref?.();

// Parses one RESP value at `at`; returns [value, next] or undefined when more bytes are needed.
function parse(buf, at) {
  const end = buf.indexOf("\r\n", at);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString("utf8", at + 1, end);
  if (type === "+" || type === ":") return [line, end + 2];
  if (type === "-") throw new Error(`redis-listen: ${line}`);
  if (type === "$") {
    const len = Number(line);
    if (len < 0) return [null, end + 2];
    if (buf.length < end + 2 + len + 2) return undefined;
    return [buf.toString("utf8", end + 2, end + 2 + len), end + 2 + len + 2];
  }
  if (type === "*") {
    const items = [];
    let next = end + 2;
    for (let i = 0; i < Number(line); i++) {
      const r = parse(buf, next);
      if (!r) return undefined;
      items.push(r[0]);
      next = r[1];
    }
    return [items, next];
  }
  throw new Error(`redis-listen: unexpected reply type ${type}`);
}

const socket = connect(Number(url.port || 6379), url.hostname, () => {
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (password) socket.write(user ? command("AUTH", user, password) : command("AUTH", password));
  const db = url.pathname.replace("/", "");
  if (db) socket.write(command("SELECT", db));
  socket.write(command("SUBSCRIBE", channel));
});
let buf = Buffer.alloc(0);
socket.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const r = parse(buf, 0);
    if (!r) return;
    buf = buf.subarray(r[1]);
    const [kind, , payload] = Array.isArray(r[0]) ? r[0] : [];
    if (kind === "subscribe") console.log("ready");
    if (kind === "message") {
      console.log(payload);
      socket.end();
      process.exit(0);
    }
  }
});
socket.on("error", (error) => {
  console.error(`redis-listen: ${error.message}`);
  process.exit(1);
});
