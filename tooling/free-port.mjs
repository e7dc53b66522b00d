// Prints TCP ports nothing listens on right now on 127.0.0.1 (one per line; `node free-port.mjs 3`
// for three), for tooling/helpers.sh `free_port`.
//
// Two rules, both because the kernel's own pick (listen on port 0) broke a CI run: asked eleven times
// in a row for Kafka's listeners, it gave 35231 twice (the first socket was already closed), and
// Kafka refused to start.
// - A port given once in a run is never given again in that run: each is recorded in
//   $KAIREON_RUN_DIR/ports-given (under a lock file holding the picker's pid; a lock whose process
//   is gone is taken over), and pickers read the record first.
// - Ports come from the 10,000 below the kernel's ephemeral range (/proc/sys/net/ipv4/
//   ip_local_port_range), so an outgoing connection opened between the pick and the service's bind
//   cannot take the port. Where that range starts too low to leave them (below 11,024), the kernel
//   picks (listen on port 0), from the ephemeral range.
import { appendFileSync, closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
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

/** The pid in a lock file, and whether that process still runs (a lock left by a killed picker does not). */
function holder(lock) {
  let pid;
  try {
    pid = Number(readFileSync(lock, "utf8"));
  } catch {
    return { pid: undefined, alive: true }; // gone meanwhile, or being written: try again
  }
  if (!Number.isInteger(pid) || pid <= 0) return { pid: undefined, alive: true };
  try {
    process.kill(pid, 0);
    return { pid, alive: true };
  } catch (error) {
    return { pid, alive: error.code === "EPERM" };
  }
}

async function withLock(path, work) {
  const lock = `${path}.lock`;
  for (let tries = 0; ; tries += 1) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const { pid, alive } = holder(lock);
      if (!alive) {
        rmSync(lock, { force: true }); // its picker was killed while holding it
        continue;
      }
      if (tries > 500) {
        console.error(`[free-port] ${lock} is still held${pid ? ` by process ${pid}` : ""} after 5 s; if no free_port runs, remove that file`);
        process.exit(1);
      }
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
