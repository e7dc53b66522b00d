// Reads what `publish` is given: one JSON value (pretty-printed or not, an array of them) or NDJSON.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { CliFailure, UsageError } from "./cli-errors.js";
import type { CliIo } from "./cli-io.js";

export interface InputItem {
  /** `line 3` for NDJSON, `item 2` for an array. */
  where: string;
  value: unknown;
  /** Set when the line is not JSON. */
  problem?: string;
}

export interface InputProblem {
  where: string;
  message: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export async function readInputText(io: CliIo, file: string | undefined): Promise<string> {
  if (file !== undefined && file !== "-") {
    try {
      return await readFile(resolve(io.cwd, file), "utf8");
    } catch (error) {
      throw new CliFailure(
        `cannot read --file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}) — check the path`,
        "INPUT_UNREADABLE",
      );
    }
  }
  if (io.stdin.isTTY) throw new UsageError("publish: no input — pipe events in (… | kaireon-events publish <topic>) or pass --file <file>");
  return readAll(io.stdin);
}

/** The input's values in order; a line that is not JSON is an item with a `problem`. */
export function splitInput(text: string): InputItem[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError("publish: the input is empty — give one JSON payload or one per line (NDJSON)");
  try {
    const whole = JSON.parse(trimmed) as unknown;
    if (Array.isArray(whole)) return whole.map((value, i) => ({ where: `item ${i + 1}`, value }));
    return [{ where: "line 1", value: whole }];
  } catch {
    // not one JSON value: NDJSON
  }
  const items: InputItem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `line ${i + 1}`;
    try {
      items.push({ where, value: JSON.parse(line) });
    } catch (error) {
      items.push({ where, value: undefined, problem: `not JSON (${(error as Error).message})` });
    }
  });
  return items;
}
