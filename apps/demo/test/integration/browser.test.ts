// The live page in a real browser: Debian's chromium, driven headless by playwright-core (no browser
// download; tooling/services/chromium.sh installs the package). The demo
// runs on the embedded default; the traffic generator drives journeys; the page's counts must rise,
// and the terminal tail must print the same events.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@kaireon/events-core";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Container, startDemo } from "../../src/container.js";
import { runTraffic } from "../../src/traffic.js";

let demo: Container;
let browser: Browser;
let dataDir: string;
const tailLines: string[] = [];

beforeAll(async () => {
  // CHROMIUM_PATH when set (tooling/services/chromium.sh exports it), else Debian's location; turbo's
  // strict env mode may not pass CHROMIUM_PATH through, the file is there all the same.
  const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(
      `${executablePath} is missing: this test needs Debian's chromium — run it through tooling/with-services.sh (tooling/services/chromium.sh installs it) or apt-get install chromium`,
    );
  }
  dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-browser-"));
  demo = await startDemo({ PORT: "0", DEMO_DATA_DIR: dataDir }, { logger: silentLogger, tail: (line) => tailLines.push(line) });
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function countOf(page: import("playwright-core").Page, topic: string): Promise<number> {
  const text = await page
    .locator(`[id="count-${topic}"] td.count`)
    .textContent({ timeout: 1000 })
    .catch(() => null);
  return Number(text ?? 0);
}

it("opens the live page, runs traffic, and sees the counts rise", async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.url}/live`);
  await expect.poll(() => page.locator("#status").textContent(), { timeout: 15_000 }).toBe("live");
  expect(await page.locator("#backend").textContent()).toBe("memory");
  const before = await countOf(page, "interaction.recorded.v1");

  const report = await runTraffic({
    url: demo.url,
    journeys: 30,
    durationMs: 60_000,
    tenants: 3,
    customers: 50,
    concurrency: 4,
    seed: 7,
    thinkMs: 0,
  });
  expect(report.failures).toBe(0);
  expect(report.journeys).toBe(30);

  // Every decision and interaction the server stored shows up on the page, through the stream.
  const stored = await demo.store.counts();
  expect(stored.decisions).toBe(30);
  await expect.poll(() => countOf(page, "decision.made.v1"), { timeout: 20_000 }).toBe(stored.decisions);
  await expect.poll(() => countOf(page, "interaction.recorded.v1"), { timeout: 20_000 }).toBe(stored.interactions);
  expect(stored.interactions).toBeGreaterThan(before);
  expect(await page.locator("#events li").count()).toBeGreaterThan(0);
  expect(Number(await page.locator('[id="type-impression"] td.count').textContent())).toBe(30);

  // The terminal tail printed one line per event.
  expect(tailLines.length).toBe(stored.decisions + stored.interactions);
  expect(tailLines.some((l) => l.includes("decision.made.v1"))).toBe(true);
});

it("with DEMO_LIVE_TOKEN: the page opened with ?token= streams (its EventSource passes the token on); without it, 401", async () => {
  const token = "browser-live-token-0123456789abcdef";
  const guardedDir = mkdtempSync(join(tmpdir(), "kaireon-demo-browser-token-"));
  const guarded = await startDemo(
    { PORT: "0", DEMO_DATA_DIR: guardedDir, DEMO_LIVE_TOKEN: token },
    { logger: silentLogger, tail: () => {} },
  );
  const page = await browser.newPage();
  try {
    expect((await page.goto(`${guarded.url}/live`))?.status()).toBe(401);
    await page.goto(`${guarded.url}/live?token=${token}`);
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 15_000 }).toBe("live");
    const res = await fetch(`${guarded.url}/api/v1/respond`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenantId: "t1", customerId: "c1", offerId: "o1", channelId: "web", interactionType: "click" }),
    });
    expect(res.status).toBe(201);
    await expect.poll(() => countOf(page, "interaction.recorded.v1"), { timeout: 20_000 }).toBe(1);
  } finally {
    await page.close();
    await guarded.stop();
    rmSync(guardedDir, { recursive: true, force: true });
  }
});
