// The script calls' arguments and the refusals that switch a publisher to plain pipelines. The
// scripts themselves run against real servers in test/integration/send-modes.test.ts.
import { describe, expect, it } from "vitest";
import { isNoScript, isScriptingRefused, repliesOf, scriptArgs } from "../../src/redis-scripts.js";

const m = (key: string, json: string) => ({ key, json });

describe("redis script calls", () => {
  it("pub/sub: runs of one channel in order, channels as arguments (no KEYS)", () => {
    expect(scriptArgs(false, [m("a", "1"), m("a", "2"), m("b", "3"), m("a", "4")], 10)).toEqual([
      0,
      "a",
      2,
      "1",
      "2",
      "b",
      1,
      "3",
      "a",
      1,
      "4",
    ]);
  });

  it("streams: every stream key once in KEYS, runs by key index, MAXLEN first", () => {
    expect(scriptArgs(true, [m("s1", "1"), m("s2", "2"), m("s2", "3"), m("s1", "4")], 500)).toEqual([
      2,
      "s1",
      "s2",
      500,
      1,
      1,
      "1",
      2,
      2,
      "2",
      "3",
      1,
      1,
      "4",
    ]);
  });

  it("knows a server that refuses scripting from one that lost its script cache", () => {
    expect(isScriptingRefused(new Error("ERR unknown command 'evalsha', with args beginning with: 'abc'"))).toBe(true);
    expect(isScriptingRefused(new Error("NOPERM User app has no permissions to run the 'evalsha' command"))).toBe(true);
    expect(isScriptingRefused(new Error("NOSCRIPT No matching script. Please use EVAL."))).toBe(false);
    expect(isNoScript(new Error("NOSCRIPT No matching script. Please use EVAL."))).toBe(true);
    expect(isNoScript(new Error("ERR Error running script"))).toBe(false);
  });

  it("a call's short answers become one reply per message", () => {
    expect(repliesOf(3, 4)).toEqual([3, 3, 3, 3]);
    expect(repliesOf("1-0 1-1 2-0", 3)).toEqual(["1-0", "1-1", "2-0"]);
    const each = [1, new Error("WRONGTYPE"), 0];
    expect(repliesOf(each, 3)).toBe(each);
    // Anything else: no reply for any message (each then fails on its own).
    expect(repliesOf(null, 2)).toEqual([]);
  });
});
