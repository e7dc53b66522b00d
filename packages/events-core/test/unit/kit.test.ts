import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as root from "../../src/index.js";
import * as kit from "../../src/kit.js";

describe("@kaireon/events-core/backend", () => {
  it("re-exports the root's objects, not copies (instanceof and identity hold across entries)", () => {
    const rootExports = new Map(Object.entries(root));
    // Names only backend authors need (the error factories, the AWS classifier) are the kit's alone.
    const shared = Object.entries(kit).filter(([name]) => rootExports.has(name));
    // the errors, the envelope helpers, loggers, redaction, telemetry and the topic registry
    expect(shared.map(([name]) => name)).toEqual(
      expect.arrayContaining(["EventsError", "ConnectionError", "serializeEvent", "redactUrl", "silentLogger", "topicNames"]),
    );
    for (const [name, value] of shared) expect(rootExports.get(name), name).toBe(value);
  });

  it("holds what a backend is built from and nothing of the application-only API", () => {
    for (const name of [
      "PublisherBase",
      "SubscriberBase",
      "Batcher",
      "sendWithPartialRetry",
      "backoffDelay",
      "sleep",
      "redactUrl",
      "parseEnv",
      "defineBackend",
      "ConnectionError",
    ])
      expect(kit, name).toHaveProperty(name);
    for (const name of ["loadPublisher", "loadSubscriber", "loadBackend", "createEvent", "createMemoryPublisher", "eventPublisherValues"])
      expect(kit, name).not.toHaveProperty(name);
  });

  it("is the only entry of the backend-author API: the root, the application's, has none of it", () => {
    for (const name of [
      "PublisherBase",
      "SubscriberBase",
      "Batcher",
      "sendWithPartialRetry",
      "backoffDelay",
      "sleep",
      "parseEnv",
      "envBoolean",
      "envInt",
      "envList",
      "envString",
      "readConfigFile",
      "defineBackend",
      "backendOptions",
      "classifyAwsError",
      "queueFullError",
    ])
      expect(root, name).not.toHaveProperty(name);
  });

  it("reaches neither the loader, the backend registry nor a backend package, however deep (the loader imports every backend: a cycle)", () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(new URL(`../../src/${file}`, import.meta.url), "utf8");
      for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^@kaireon\//);
        if (spec?.startsWith("./")) walk(spec.slice(2).replace(/\.js$/, ".ts"));
      }
    };
    walk("kit.ts");
    expect(seen).toContain("subscriber-base.ts");
    expect([...seen].filter((f) => /^(loader|backend-registry|config|memory-backend|disabled-publisher)\.ts$/.test(f))).toEqual([]);
  });

  it("is the ./backend subpath of the package, types first", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(Object.keys(manifest.exports["./backend"])).toEqual(["types", "default"]);
    expect(manifest.exports["./backend"].default).toBe("./dist/kit.js");
  });
});
