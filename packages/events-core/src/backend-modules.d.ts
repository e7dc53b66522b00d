// Core does not depend on the backend packages (an app installs only the one it uses); these
// declarations type the loader's literal import() calls without that dependency.
declare module "@kaireon/events-redis" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
declare module "@kaireon/events-kafka" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
declare module "@kaireon/events-msk" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
declare module "@kaireon/events-eventbridge" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
declare module "@kaireon/events-kinesis" {
  export const backend: import("./backend.js").BackendDescriptor<any>;
}
