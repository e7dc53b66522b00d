// tooling/helpers.sh free_port: never the same port twice in one run, never one from the kernel's
// ephemeral range. On the old free_port (the kernel's pick, listen on port 0) all 100 picks below
// were from the ephemeral range, and 300 held several repeats: CI lost a run to one (Kafka given
// 35231 for two listeners).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const helpers = join(dirname(fileURLToPath(import.meta.url)), "helpers.sh");

test("100 ports asked one by one in a run are all different, and none is in the ephemeral range", () => {
  const runDir = mkdtempSync(join(tmpdir(), "free-port-"));
  try {
    const out = execFileSync("bash", ["-c", `source "${helpers}"; for i in $(seq 100); do free_port; done`], {
      env: { ...process.env, KAIREON_RUN_DIR: runDir },
      encoding: "utf8",
    });
    const ports = out.trim().split("\n").map(Number);
    assert.equal(ports.length, 100);
    const repeats = ports.filter((p, i) => ports.indexOf(p) !== i);
    assert.deepEqual(repeats, [], "ports given twice in one run");
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low - 1024 >= 10_000) {
      const inRange = ports.filter((p) => p >= low && p <= high);
      assert.deepEqual(inRange, [], `ports from the ephemeral range ${low}-${high}`);
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test("a lock left by a picker that was killed is taken over (on the first version free_port failed after 5 s)", () => {
  const runDir = mkdtempSync(join(tmpdir(), "free-port-"));
  try {
    // The pid of a process that has exited: a picker killed while it held the lock.
    const gone = execFileSync("bash", ["-c", "sleep 0 & echo $!; wait"], { encoding: "utf8" }).trim();
    writeFileSync(join(runDir, "ports-given.lock"), gone);
    const port = execFileSync("bash", ["-c", `source "${helpers}"; free_port`], {
      env: { ...process.env, KAIREON_RUN_DIR: runDir },
      encoding: "utf8",
    });
    assert.match(port.trim(), /^\d+$/);
    assert.equal(readFileSync(join(runDir, "ports-given"), "utf8").trim(), port.trim());
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});
