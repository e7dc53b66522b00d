// Writes asyncapi/kaireon-events.asyncapi.json (AsyncAPI 3.0: every topic on every backend) from the
// built package; run after `pnpm --filter @kaireon/events-core build`. The drift test fails when the
// checked-in file differs.
import { writeFileSync } from "node:fs";
import { asyncApiText } from "./asyncapi-text.mjs";

writeFileSync(new URL("../asyncapi/kaireon-events.asyncapi.json", import.meta.url), await asyncApiText());
console.log("wrote asyncapi/kaireon-events.asyncapi.json");
