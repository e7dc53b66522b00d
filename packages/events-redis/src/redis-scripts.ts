// The Lua scripts that publish a batch in one command each. A script call costs the client one
// command instead of one per message (about half the client CPU per event, measured in the bench).
// Messages are passed as runs of one key, in order: `key, count, message…` (pub/sub: the channel in
// ARGV — channels are not keys) or `keyIndex, count, message…` with every stream key in KEYS (Redis
// Cluster routes and checks a call by its KEYS, so one call's keys must hash to one slot there).
// redis.pcall keeps one message's error (WRONGTYPE, OOM) to that message, as in a pipeline.
// A stream is trimmed once per run of its messages: MAXLEN ~ on the run's last XADD only. That is the
// bound MAXLEN ~ on every XADD gives, since nobody sees the stream inside the atomic call, for less of
// Redis's time per message (Streams ready / raw 1.54 → 1.69, means of three alternating pairs), with
// no command beyond XADD (an ACL that allows XADD allows it) and any error on a message's own reply.
// (A stream far above its bound — the bound lowered — shrinks by at most one trim's worth per run.)

import { createHash } from "node:crypto";

export interface ScriptSource {
  readonly lua: string;
  readonly sha: string;
}

function source(lua: string): ScriptSource {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

// What a call returns is as short as it can be, since the client decodes every element of a reply:
// PUBLISH's receiver count once when every message of the call had the same one (one channel, or
// channels with as many subscribers: the script runs atomically, so no subscriber comes or goes
// within it), else one per message; XADD's entry ids as one string, separated by spaces, when
// every message was stored, else one reply per message (an error keeps to its message). Decoding
// one reply instead of a hundred was ~8 % of the client's CPU per event on pub/sub (profiled).
export const PUBLISH_SCRIPT = source(`local out, i, n, same, uniform = {}, 1, #ARGV, nil, true
while i <= n do
  local channel, last = ARGV[i], i + 1 + tonumber(ARGV[i + 1])
  for j = i + 2, last do
    local r = redis.pcall('PUBLISH', channel, ARGV[j])
    out[#out + 1] = r
    if same == nil then same = r elseif r ~= same then uniform = false end
  end
  i = last + 1
end
if uniform and type(same) == 'number' then return same end
return out`);

export const XADD_SCRIPT = source(`local out, maxlen, i, n, stored = {}, ARGV[1], 2, #ARGV, true
while i <= n do
  local key, last = KEYS[tonumber(ARGV[i])], i + 1 + tonumber(ARGV[i + 1])
  for j = i + 2, last - 1 do
    local r = redis.pcall('XADD', key, '*', 'event', ARGV[j])
    out[#out + 1] = r
    if type(r) ~= 'string' then stored = false end
  end
  local r = redis.pcall('XADD', key, 'MAXLEN', '~', maxlen, '*', 'event', ARGV[last])
  out[#out + 1] = r
  if type(r) ~= 'string' then stored = false end
  i = last + 1
end
if stored then return table.concat(out, ' ') end
return out`);

/**
 * One reply per message of a script call of `count` messages, from what the call returned (see
 * above): a number (every message's receiver count), a string (the entry ids), or one reply each.
 */
export function repliesOf(reply: unknown, count: number): unknown[] {
  if (typeof reply === "number") return new Array(count).fill(reply);
  if (typeof reply === "string") return reply.split(" ");
  return Array.isArray(reply) ? reply : [];
}

interface Message {
  key: string;
  json: string;
}

/** EVALSHA's arguments after the sha (numkeys, KEYS…, ARGV…) for `messages`, in their order. */
export function scriptArgs(streams: boolean, messages: readonly Message[], maxLen: number): [number, ...(string | number)[]] {
  const keys: string[] = [];
  const argv: (string | number)[] = streams ? [maxLen] : [];
  let runKey: string | undefined;
  let countAt = -1;
  for (const { key, json } of messages) {
    if (key !== runKey) {
      runKey = key;
      if (streams) {
        let index = keys.indexOf(key);
        if (index < 0) index = keys.push(key) - 1;
        argv.push(index + 1);
      } else {
        argv.push(key);
      }
      countAt = argv.push(0) - 1;
    }
    argv.push(json);
    (argv[countAt] as number)++;
  }
  return [keys.length, ...keys, ...argv];
}

/** The server refuses scripting itself (disabled, renamed away, denied by ACL), not this call. */
export function isScriptingRefused(error: unknown): boolean {
  return /unknown command|NOPERM/i.test((error as Error)?.message ?? "");
}

export function isNoScript(error: unknown): boolean {
  return /^NOSCRIPT/.test((error as Error)?.message ?? "");
}
