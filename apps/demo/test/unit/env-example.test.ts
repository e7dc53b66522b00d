// The root .env.example is what users copy: every value in it must be accepted as it stands.
import { readFileSync } from "node:fs";
import { readOutboxConfig } from "@kaireon/events-outbox";
import { expect, it } from "vitest";
import { readDemoOptions } from "../../src/config.js";

it(".env.example: the demo's and the relay's variables parse as written", () => {
  const text = readFileSync(new URL("../../../../.env.example", import.meta.url), "utf8");
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = m[2] as string;
  }
  expect(env.DEMO_RELAY).toBeDefined();
  const options = readDemoOptions(env);
  expect(options.DEMO_RELAY).toBe(env.DEMO_RELAY);
  expect(() => readOutboxConfig(env)).not.toThrow();
});
