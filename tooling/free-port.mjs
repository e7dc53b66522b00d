// Prints TCP ports nothing listens on right now on 127.0.0.1 (one per line; `node free-port.mjs 3`
// for three), for tooling/helpers.sh `free_port`.
//
// Two rules, both because the kernel's own pick (listen on port 0) broke a CI run: asked eleven times
// in a row for Kafka's listeners, it gave 35231 twice (the first socket was already closed), and
// Kafka refused to start.
// - A port given once in a run is never given again in that run: each is recorded in
//   $KAIREON_RUN_DIR/ports-given (under a lock file), and pickers read the record first.
// - Ports come from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), so
//   an outgoing connection opened between the pick and the service's bind cannot take the port.
//   Where that range leaves fewer than 1,000 ports below it, the kernel picks (listen on port 0).
import { appendFileSync, closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const count = Number(process.argv[2] ?? 1);
if (!Number.isInteger(count) || count < 1) {
  console.error(`free-port: the count must be a whole number ≥ 1, got ${process.argv[2]}`);
  process.exit(2);
}

function ephemeralLow() {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    return Number(low) || 0;
  } catch {
    return 0; // not Linux: no range to keep out of
  }
}

const low = ephemeralLow();
const range = low - 1024 >= 10_000 ? { from: low - 10_000, to: low - 1 } : undefined;

function listen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function withLock(path, work) {
  const lock = `${path}.lock`;
  for (let tries = 0; ; tries += 1) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch (error) {
      if (error.code !== "EEXIST" || tries > 500) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

async function pick() {
  const record = process.env.KAIREON_RUN_DIR ? join(process.env.KAIREON_RUN_DIR, "ports-given") : undefined;
  const given = new Set();
  if (record) {
    try {
      for (const line of readFileSync(record, "utf8").split("\n")) if (line) given.add(Number(line));
    } catch (error) {
      if (error.code !== "ENOENT") throw error;
    }
  }
  const held = []; // every listener stays open until the end, so no port is picked twice here
  const picked = [];
  try {
    for (let tries = 0; picked.length < count; tries += 1) {
      if (tries > 5_000) throw new Error(`free-port: found ${picked.length} of ${count} free ports`);
      const wanted = range ? range.from + Math.floor(Math.random() * (range.to - range.from + 1)) : 0;
      if (given.has(wanted)) continue;
      const server = await listen(wanted);
      if (!server) continue;
      held.push(server);
      const port = server.address().port;
      if (given.has(port)) continue;
      given.add(port);
      picked.push(port);
    }
    if (record) appendFileSync(record, picked.map((p) => `${p}\n`).join(""));
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  return picked;
}

const ports = process.env.KAIREON_RUN_DIR
  ? await withLock(join(process.env.KAIREON_RUN_DIR, "ports-given"), pick)
  : await pick();
console.log(ports.join("\n"));
