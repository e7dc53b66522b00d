/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The live page in a real browser: Debian's chromium, driven headless by playwright-core (no browser
// download; tooling/services/chromium.sh installs the package). The demo
// runs on the embedded default; the traffic generator drives journeys; the page's counts must rise,
// and the terminal tail must print the same events. Screenshots of the page at desktop and phone
// widths go to apps/demo/test-artifacts/ (gitignored), for a person to look at.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryBus, silentLogger } from "@kaireon/events-core";
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

const artifacts = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-artifacts");

it("the live page: chart, lag and backlog figures update, filters narrow the list, an event opens; desktop and phone screenshots", async () => {
  // Its own demo and bus: the broker is made to fail for a while, so the outbox backlog shows.
  const bus = new MemoryBus(10_000);
  const dir = mkdtempSync(join(tmpdir(), "kaireon-demo-browser-page-"));
  const live = await startDemo(
    { PORT: "0", DEMO_DATA_DIR: dir, OUTBOX_RETRY_BASE_MS: "50", OUTBOX_RETRY_MAX_MS: "300", OUTBOX_MAX_ATTEMPTS: "1000" },
    { logger: silentLogger, tail: () => {}, memoryBus: bus },
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const text = (selector: string) => page.locator(selector).textContent({ timeout: 2000 });
  try {
    await page.goto(`${live.url}/live`);
    await expect.poll(() => text("#status"), { timeout: 15_000 }).toBe("live");
    await expect.poll(() => text("#backlog"), { timeout: 15_000 }).toBe("0");
    expect(await text("#lag-p50")).toBe("–");
    expect(await text("#origin")).toMatch(/^live since /);

    // The broker is down: the backlog and the oldest pending age rise, the failures show their code.
    bus.setOutage(true);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${live.url}/api/v1/respond`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tenantId: "t-out", customerId: `c${i}`, offerId: "o1", channelId: "web", interactionType: "click" }),
      });
      expect(res.status).toBe(201);
    }
    await expect.poll(() => text("#backlog"), { timeout: 15_000 }).toBe("5");
    await expect.poll(() => text("#oldest"), { timeout: 15_000 }).toMatch(/\d+(\.\d)? (ms|s)$/);
    await expect.poll(() => text("#failures"), { timeout: 15_000 }).toMatch(/CONNECTION_FAILED \d+/);
    bus.setOutage(false);
    await expect.poll(() => text("#backlog"), { timeout: 30_000 }).toBe("0");
    await expect.poll(() => text("#oldest"), { timeout: 15_000 }).toBe("none");

    const report = await runTraffic({
      url: live.url,
      journeys: 40,
      durationMs: 60_000,
      tenants: 3,
      customers: 30,
      concurrency: 4,
      seed: 3,
      thinkMs: 0,
    });
    expect(report.failures).toBe(0);
    const stored = await live.store.counts();
    await expect.poll(() => countOf(page, "decision.made.v1"), { timeout: 20_000 }).toBe(stored.decisions);
    // The lag figures hold values now, and the chart has drawn lines that leave the baseline.
    await expect.poll(() => text("#lag-p50"), { timeout: 15_000 }).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await text("#lag-p99")).toMatch(/^\d+(\.\d)? (ms|s)$/);
    const drawn = () =>
      page.evaluate(() =>
        [...document.querySelectorAll("#rate-chart path.series")].map((p) => ({
          topic: p.getAttribute("data-topic"),
          height: (p as SVGGraphicsElement).getBBox().height,
        })),
      );
    await expect.poll(async () => (await drawn()).filter((p) => p.height > 0).length, { timeout: 15_000 }).toBe(2);
    expect(Number(await text("#rate-now"))).toBeGreaterThan(0);

    // Filters narrow the list; each shown event matches them.
    const shown = () => page.evaluate(() => [...document.querySelectorAll("#events li")].map((li) => ({ ...(li as HTMLElement).dataset })));
    const all = await shown();
    expect(all.length).toBeGreaterThan(10);
    await page.selectOption("#f-topic", "decision.made.v1");
    await expect.poll(async () => (await shown()).every((e) => e.topic === "decision.made.v1")).toBe(true);
    const decisions = await shown();
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.length).toBeLessThan(all.length);
    await page.selectOption("#f-tenant", "tenant-2");
    await expect.poll(async () => (await shown()).every((e) => e.topic === "decision.made.v1" && e.tenant === "tenant-2")).toBe(true);
    expect((await shown()).length).toBeLessThanOrEqual(decisions.length);
    await page.selectOption("#f-topic", "");
    await page.selectOption("#f-tenant", "");
    await page.selectOption("#f-type", "impression");
    await expect.poll(async () => (await shown()).every((e) => e.interaction === "impression")).toBe(true);
    expect((await shown()).length).toBeGreaterThan(0);

    // Clicking an event opens its whole CloudEvent.
    const first = page.locator("#events li").first();
    const id = await first.getAttribute("data-id");
    await first.click();
    await expect.poll(() => page.locator("#detail").isVisible()).toBe(true);
    const cloudEvent = JSON.parse((await text("#detail-json")) ?? "{}");
    expect(cloudEvent).toMatchObject({ specversion: "1.0", id, type: "interaction.recorded.v1", data: { interactionType: "impression" } });
    expect(typeof cloudEvent.source).toBe("string");

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "live-desktop-detail.png"), fullPage: true });
    await page.click("#detail-close");
    await page.selectOption("#f-type", "");
    await page.screenshot({ path: join(artifacts, "live-desktop.png"), fullPage: true });
    // Phone width: nothing wider than the screen, and the event still opens.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: join(artifacts, "live-phone.png"), fullPage: true });
    await page.locator("#events li").first().click();
    await expect.poll(() => page.locator("#detail").isVisible()).toBe(true);
    await page.screenshot({ path: join(artifacts, "live-phone-detail.png") });
  } finally {
    await page.close();
    await live.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
