// Every published package's zod peer range starts at 4.4.0: earlier 4.x copy an input's own
// `__proto__` key through looseObject / passthrough / catchall into the parsed result, replacing its
// prototype (fixed by colinhacks/zod#5898, first released in 4.4.0). And the zod installed for the
// workspace's own tests satisfies that floor.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FLOOR = [4, 4, 0] as const;
const packagesDir = join(dirname(fileURLToPath(import.meta.url)), "../../..");

interface Manifest {
  name: string;
  private?: boolean;
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifests = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join(packagesDir, entry.name, "package.json"))
  .flatMap((file) => {
    try {
      return [{ file, manifest: JSON.parse(readFileSync(file, "utf8")) as Manifest }];
    } catch {
      return [];
    }
  })
  .filter(({ manifest }) => !manifest.private);

// `catalog:` stands for the range pnpm-workspace.yaml's catalog gives (what pnpm writes when it packs).
const catalogZod = /^ {2}"?zod"?: *"([^"]+)"/m.exec(readFileSync(join(packagesDir, "..", "pnpm-workspace.yaml"), "utf8"))?.[1];

/** The lowest version a `^x.y.z` / `>=x.y.z …` range admits; undefined for a range this test cannot read. */
function floorOf(given: string): number[] | undefined {
  const range = given === "catalog:" ? (catalogZod ?? given) : given;
  const match = /^(?:\^|>=\s*)(\d+)\.(\d+)\.(\d+)(?:\s+<\s*5(?:\.0\.0)?)?$/.exec(range.trim());
  return match ? match.slice(1, 4).map(Number) : undefined;
}

function atLeast(version: readonly number[], floor: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if ((version[i] ?? 0) !== (floor[i] ?? 0)) return (version[i] ?? 0) > (floor[i] ?? 0);
  }
  return true;
}

describe("zod peer floor", () => {
  it("finds the published packages", () => {
    expect(manifests.map((m) => m.manifest.name)).toContain("@kaireon/events-core");
    expect(manifests.length).toBeGreaterThanOrEqual(5);
  });

  it(`every published package that uses zod asks for zod ≥ ${FLOOR.join(".")} (a peer of a library, a dependency of an application)`, () => {
    const wrong = manifests
      .filter(({ manifest }) => manifest.peerDependencies?.zod !== undefined || manifest.dependencies?.zod !== undefined)
      // A library has zod as a peer; an application (the CLI) may depend on it: the floor holds either way.
      .map(({ manifest }) => ({ name: manifest.name, range: (manifest.peerDependencies?.zod ?? manifest.dependencies?.zod) as string }))
      .filter(({ range }) => {
        const floor = floorOf(range);
        return floor === undefined || !atLeast(floor, FLOOR);
      });
    expect(wrong).toEqual([]);
  });

  it("the zod installed for the tests satisfies the floor", () => {
    const require = createRequire(import.meta.url);
    const { version } = require("zod/package.json") as { version: string };
    expect(
      atLeast(
        version.split(".").map((n) => Number.parseInt(n, 10)),
        FLOOR,
      ),
    ).toBe(true);
  });
});
