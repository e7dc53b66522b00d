export { type ConformanceCapabilities, type ConformanceOptions, describePublisherConformance } from "./conformance.js";
export { sampleDecision, sampleInteraction, uniqueTenant } from "./fixtures.js";
export { requireService, type ServiceSpec } from "./services.js";
export { createEventSpy, type EventSpy } from "./spy.js";
