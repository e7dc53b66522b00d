// The demo README's drawing of one publish ("### One publish, route to wire") stays true: at most 10
// hops, and each hop's file and function exist — `src/<file>` is apps/demo's, `<package> <file>` is
// packages/<package>/src's; `Class.method` needs the class in that file and the method in it.
//   node --test tooling/demo-path.test.mjs
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "apps/demo/README.md"), "utf8");

function hops() {
  const section = readme.split(/^### One publish, route to wire$/m)[1];
  assert.ok(section, 'apps/demo/README.md has no "### One publish, route to wire" section');
  const drawing = /```text\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(drawing, "the section has no ```text drawing");
  return drawing.split("\n").map((line) => {
    const m = /^(\d+) (?:(src\/\S+\.ts)|(events-[a-z]+) (\S+\.ts)) (\S+)/.exec(line);
    assert.ok(m, `cannot read the hop "${line}" (want: <n> src/<file>.ts <function> … or <n> events-<pkg> <file>.ts <function> …)`);
    const file = m[2] ? join(root, "apps/demo", m[2]) : join(root, "packages", m[3], "src", m[4]);
    return { line, file, fn: m[5] };
  });
}

const defines = (text, name) =>
  new RegExp(`(function\\*?\\s+${name}\\b|\\b${name}\\s*(<[^>]*>)?\\s*\\(|\\b${name}\\s*[:=]\\s*(async\\s*)?\\()`).test(text);

test("the drawing has at most 10 hops and each names a file and function that exist", () => {
  const all = hops();
  assert.ok(all.length > 0 && all.length <= 10, `the drawing has ${all.length} hops (1–10)`);
  for (const { line, file, fn } of all) {
    assert.ok(existsSync(file), `${line}\n  ${file} does not exist`);
    const text = readFileSync(file, "utf8");
    const [owner, member] = fn.includes(".") ? fn.split(".") : [undefined, fn];
    if (owner) {
      const at = text.search(new RegExp(`\\bclass ${owner}\\b`));
      assert.ok(at >= 0, `${line}\n  no class ${owner} in ${file}`);
      assert.ok(defines(text.slice(at), member), `${line}\n  class ${owner} in ${file} has no ${member}`);
    } else assert.ok(defines(text, member), `${line}\n  ${file} defines no ${member}`);
  }
});
