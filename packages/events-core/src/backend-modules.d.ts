// Core does not depend on the backend packages (an app installs only the one it uses); this
// declaration types the registry's literal import() calls without that dependency. A pattern, so the
// list of backends stays in backend-registry.ts alone (TypeScript uses a pattern ambient module only
// for names that do not resolve, so core's own name is untouched).
declare module "@kaireon/events-*" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
