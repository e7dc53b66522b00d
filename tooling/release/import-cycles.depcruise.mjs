// dependency-cruiser rules for check-packages.mjs: no import cycle among the built modules of every
// package — across packages (core's registry import()s each backend, which must reach only core's
// /backend entry, never the root that leads back to the registry) and within one. The built .js are
// cruised, not the sources: they are what Node loads, import() and package "exports" included.
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

export default {
  forbidden: [
    {
      name: "no-import-cycle",
      severity: "error",
      comment:
        "A cycle between packages runs through core's loader: a backend imports @kaireon/events-core/backend, never the root. Within a package, move what both files need into a third.",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: "^(packages|apps)/[^/]+/dist/.*\\.js$",
    moduleSystems: ["es6"],
    // Workspace packages resolve through their node_modules links to the real folders.
    preserveSymlinks: false,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "node", "default"], mainFields: ["main"] },
    // Core's registry import()s the backends without depending on them (at run time they resolve
    // from the application): pnpm's hoisted folder stands in for the application's node_modules.
    webpackConfig: { fileName: `${here}import-cycles.resolve.cjs` },
  },
};
