import { mergeConfig } from "vitest/config";
import base from "../../tooling/vitest-base.mjs";

// The integration files share one broker and the fault test stops it: never run two files at once.
export default mergeConfig(base, { test: { fileParallelism: false } });
