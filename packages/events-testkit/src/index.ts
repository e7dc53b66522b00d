export {
  type ConformanceCapabilities,
  type ConformanceOptions,
  describeBackendConformance,
  describeDeliveryConformance,
  describeFaultConformance,
  describeOrderingConformance,
  describePublishConformance,
  describePublisherConformance,
  describeReplayConformance,
  describeSubscriberConformance,
} from "./conformance/index.js";
export { sampleDecision, sampleInteraction, uniqueTenant } from "./fixtures.js";
export { configErrorOf, type LogLine, type RecordingLogger, recordingLogger, silentLogger, uniqueName } from "./helpers.js";
export { requireService, type ServiceSpec } from "./services.js";
export { createEventSpy, type EventSpy } from "./spy.js";
export { type SwitchableProxy, switchableProxy } from "./switchable-proxy.js";
export {
  type Toxic,
  type ToxicType,
  Toxiproxy,
  ToxiproxyProxy,
  type WireFault,
  type WireFaultName,
  wireFaults,
} from "./toxiproxy.js";
export { describeWireFaults, type WireFaultContext, type WireFaultOptions } from "./wire-faults.js";
