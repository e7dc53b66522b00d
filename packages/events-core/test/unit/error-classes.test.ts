// One class per code: walks every known ErrorCode, the default code of each class, and every
// `new <X>Error({ code: "..." })` in the packages' sources, against errorClassOf.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as core from "../../src/index.js";
import { errorClassOf, type KnownErrorCode } from "../../src/index.js";

const packagesDir = fileURLToPath(new URL("../../..", import.meta.url));
const classes = Object.fromEntries(
  Object.entries(core).filter(([, v]) => typeof v === "function" && (v === core.EventsError || v.prototype instanceof core.EventsError)),
) as Record<string, typeof core.EventsError>;

// Codes whose message core's factories build (error-factories.ts): built nowhere else.
const factoryCodes = new Set(["QUEUE_FULL", "EVENT_TOO_LARGE", "PUBLISHER_CLOSED", "AUTH_FAILED"]);

interface Site {
  where: string;
  cls: string;
  code: string | undefined;
}

function sources(): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts") && !path.endsWith(".d.ts")) out.push([path.slice(packagesDir.length), readFileSync(path, "utf8")]);
    }
  };
  for (const pkg of readdirSync(packagesDir)) {
    if (statSync(join(packagesDir, pkg)).isDirectory() && readdirSync(join(packagesDir, pkg)).includes("src"))
      walk(join(packagesDir, pkg, "src"));
  }
  return out;
}

function sites(): Site[] {
  const out: Site[] = [];
  for (const [where, text] of sources()) {
    for (const m of text.matchAll(/new (\w*Error)\(\{/g)) {
      // the top level of the options object only: a nested `code` (a cause's, a detail's) is not the error's
      let depth = 1;
      let top = "";
      for (let i = (m.index ?? 0) + m[0].length; i < text.length && depth > 0; i++) {
        const ch = text[i] as string;
        if ("{[(".includes(ch)) depth++;
        else if ("}])".includes(ch)) depth--;
        else if (depth === 1) top += ch;
      }
      const line = text.slice(0, m.index).split("\n").length;
      out.push({ where: `${where}:${line}`, cls: m[1] as string, code: /\bcode:\s*"([A-Z_]+)"/.exec(top)?.[1] });
    }
  }
  return out;
}

describe("one error class per code", () => {
  it("every known code has a class, and each class's own default code maps back to it", () => {
    for (const [code, cls] of Object.entries(errorClassOf)) {
      expect(cls.prototype instanceof core.EventsError || cls === core.EventsError, code).toBe(true);
    }
    const defaults: [string, () => core.EventsError][] = [
      ["ConfigError", () => new core.ConfigError({ message: "m" })],
      ["ConnectionError", () => new core.ConnectionError({ message: "m" })],
      ["PublishError", () => new core.PublishError({ message: "m" })],
      ["ValidationError", () => new core.ValidationError({ message: "m", issues: [] })],
      ["BackendNotInstalledError", () => new core.BackendNotInstalledError({ backend: "x", packageName: "y" })],
    ];
    for (const [name, make] of defaults) {
      const error = make();
      expect(errorClassOf[error.code as KnownErrorCode], `${name}'s default code ${error.code}`).toBe(classes[name]);
    }
  });

  it("every site that builds a known code builds it with that code's class", () => {
    const all = sites();
    expect(all.length).toBeGreaterThan(50);
    const wrong = all
      .filter((s) => s.code !== undefined && Object.hasOwn(errorClassOf, s.code))
      .filter((s) => classes[s.cls] !== undefined && classes[s.cls] !== errorClassOf[s.code as KnownErrorCode])
      .map((s) => `${s.where.replace(/:\d+$/, "")} ${s.code} ${s.cls}`);
    expect(wrong).toEqual([]);
    // a backend's own code (not in the map) is thrown as the base class
    const own = all.filter((s) => s.code !== undefined && !Object.hasOwn(errorClassOf, s.code));
    for (const s of own) expect(s.cls, `${s.where} ${s.code}`).toBe("EventsError");
  });

  it("the shared messages are built in one place: core's factories", () => {
    const elsewhere = sites()
      .filter((s) => s.code !== undefined && factoryCodes.has(s.code))
      .filter((s) => !s.where.startsWith("events-core/src/error-factories.ts:"))
      .map((s) => `${s.where} ${s.code}`);
    expect(elsewhere).toEqual([]);
    // "publish failed: <the client's message>" is toPublishError's; no other source writes it.
    const texts = sources().filter(([path, text]) => !path.endsWith("error-factories.ts") && /publish failed: \$\{/.test(text));
    expect(texts.map(([path]) => path)).toEqual([]);
  });
});
