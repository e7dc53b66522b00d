// The OTLP metric reader the demo makes itself: its export interval and timeout come from the
// standard variables (the SDK configures only the readers it makes).
import { describe, expect, it } from "vitest";
import { metricExportTiming } from "../../src/telemetry.js";

describe("metricExportTiming", () => {
  it("the spec's defaults when unset", () => {
    expect(metricExportTiming({})).toEqual({ exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
  });
  it("OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT, the timeout never beyond the interval", () => {
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: "500" })).toEqual({ exportIntervalMillis: 500, exportTimeoutMillis: 500 });
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: "10000", OTEL_METRIC_EXPORT_TIMEOUT: "2000" })).toEqual({
      exportIntervalMillis: 10_000,
      exportTimeoutMillis: 2000,
    });
  });
  it("a value that is no positive whole number: an error naming the variable and the fix", () => {
    expect(() => metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: "5s" })).toThrow(
      /OTEL_METRIC_EXPORT_INTERVAL="5s".*set e\.g\. OTEL_METRIC_EXPORT_INTERVAL=60000/,
    );
    expect(() => metricExportTiming({ OTEL_METRIC_EXPORT_TIMEOUT: "-1" })).toThrow(/OTEL_METRIC_EXPORT_TIMEOUT/);
  });
});
