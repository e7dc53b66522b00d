// `tail` in a real terminal (tmux): the readable one-line format, colour on a TTY and none with
// NO_COLOR, and the status line. tmux runs on a private socket, so no other tmux session is touched.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireService, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cliEnv, runCli, unique } from "../support/cli.js";

const socket = unique("kaireon-cli-tmux");
const dir = mkdtempSync(join(tmpdir(), "kaireon-cli-tmux-"));
let redisUrl: string;

/** CI images may lack tmux: install it rather than skip (the terminal format is what this test is for). */
function ensureTmux(): void {
  if (spawnSync("tmux", ["-V"]).status === 0) return;
  // As root (containers) or with password-less sudo (CI runners).
  const sudo = process.getuid?.() === 0 ? "" : "sudo -n ";
  const apt = spawnSync("sh", ["-c", `${sudo}apt-get install -y tmux || (${sudo}apt-get update && ${sudo}apt-get install -y tmux)`], {
    stdio: "inherit",
  });
  if (apt.status !== 0 || spawnSync("tmux", ["-V"]).status !== 0)
    throw new Error("tmux is not installed and apt-get could not install it — install tmux to run this test");
}

const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });

function startInTerminal(session: string, env: Record<string, string>, args: string[]): void {
  const script = join(dir, `${session}.sh`);
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`)
    .join("\n");
  writeFileSync(script, `#!/bin/sh\n${exports}\nexec '${process.execPath}' '${BIN}' ${args.map((a) => `'${a}'`).join(" ")}\n`);
  chmodSync(script, 0o755);
  tmux("new-session", "-d", "-s", session, "-x", "220", "-y", "40", script);
}

const screen = (session: string, escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session);

async function waitForScreen(session: string, predicate: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = screen(session);
    if (predicate(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  redisUrl = await requireService({ variable: "REDIS_URL", name: "Redis" });
  ensureTmux();
});
afterAll(() => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  rmSync(dir, { recursive: true, force: true });
});

const redisEnv = (prefix: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  TERM: "xterm-256color",
  EVENT_PUBLISHER: "redis",
  REDIS_URL: redisUrl,
  REDIS_CHANNEL_PREFIX: prefix,
  ...extra,
});

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

describe("tail in a terminal", () => {
  it("one readable, coloured line per event, and a status line with counts and rate", async () => {
    const prefix = `${unique("cli-tty")}:`;
    const tenantId = uniqueTenant();
    const session = unique("tail");
    startInTerminal(session, redisEnv(prefix), ["tail", "--tenant", tenantId]);
    try {
      await waitForScreen(session, (t) => t.includes("tail: listening"), "the tail to listen");
      const pub = await runCli(["publish", "interaction.recorded.v1"], {
        env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix }),
        input: `${JSON.stringify(sampleInteraction({ tenantId, customerId: "c-42", interactionType: "click", offerId: "offer-7" }))}\n`,
      });
      expect(pub.code).toBe(0);
      const pubDecision = await runCli(["publish", "decision.made.v1"], {
        env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix }),
        input: `${JSON.stringify(sampleDecision({ tenantId, customerId: "c-42", decisionFlowKey: "flow-a", offersReturned: 3, topOfferId: "offer-7", topPropensity: 0.82 }))}\n`,
      });
      expect(pubDecision.code).toBe(0);
      const text = await waitForScreen(
        session,
        (t) => t.includes("decision.made.v1") && /2 shown/.test(t),
        "two event lines and the status line",
      );
      expect(text).toMatch(
        new RegExp(
          `^\\d{2}:\\d{2}:\\d{2}\\.\\d{3}  interaction\\.recorded\\.v1  tenant=${tenantId}  customer=c-42  click offer=offer-7 channel=email  ${UUID}$`,
          "m",
        ),
      );
      expect(text).toMatch(
        new RegExp(
          `^\\d{2}:\\d{2}:\\d{2}\\.\\d{3}  decision\\.made\\.v1  tenant=${tenantId}  customer=c-42  flow=flow-a offers=3 top=offer-7 \\(0\\.82\\)  ${UUID}$`,
          "m",
        ),
      );
      expect(text).toMatch(/2 shown · 2 received · \d+\.\d\/s/);
      // A terminal gets colour (SGR escapes) when NO_COLOR is not set.
      expect(screen(session, true)).toContain("\x1b[");
    } finally {
      tmux("send-keys", "-t", session, "C-c");
      await new Promise((r) => setTimeout(r, 500));
      spawnSync("tmux", ["-L", socket, "kill-session", "-t", session]);
    }
  });

  it("NO_COLOR: the same line without escapes", async () => {
    const prefix = `${unique("cli-tty")}:`;
    const tenantId = uniqueTenant();
    const session = unique("tail-nocolor");
    startInTerminal(session, redisEnv(prefix, { NO_COLOR: "1" }), ["tail", "--tenant", tenantId]);
    try {
      await waitForScreen(session, (t) => t.includes("tail: listening"), "the tail to listen");
      await runCli(["publish", "interaction.recorded.v1"], {
        env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix }),
        input: `${JSON.stringify(sampleInteraction({ tenantId }))}\n`,
      });
      await waitForScreen(session, (t) => t.includes(`tenant=${tenantId}  customer=`), "the event line");
      const line = screen(session, true)
        .split("\n")
        .find((l) => l.includes(`tenant=${tenantId}  customer=`));
      expect(line).toBeDefined();
      expect(line).not.toContain("\x1b[");
    } finally {
      spawnSync("tmux", ["-L", socket, "kill-session", "-t", session]);
    }
  });
});
