// The text of asyncapi/kaireon-events.asyncapi.json, from the built package: the generator writes
// it and the drift test compares the checked-in file with it.
export async function asyncApiText() {
  const { asyncApiDocument } = await import("../dist/index.js");
  return `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
}
