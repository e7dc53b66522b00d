// Module resolution for import-cycles.depcruise.mjs (dependency-cruiser reads it as a webpack config):
// the usual node_modules walk, then pnpm's hoisted folder, where the workspace packages core's registry
// import()s are found as an application would find them.
const { join } = require("node:path");

module.exports = {
  resolve: {
    modules: ["node_modules", join(__dirname, "..", "..", "node_modules", ".pnpm", "node_modules")],
    extensions: [".js"],
  },
};
