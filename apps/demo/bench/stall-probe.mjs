// Preloaded into each demo server the bench starts (NODE_OPTIONS=--import): the server's own stalls
// over a window, so a latency tail can be told apart from the load tool's or the machine's. SIGUSR2
// starts a window; the next SIGUSR2 writes it to $BENCH_STALLS_FILE (JSON) and starts the next one.
// Measured on the server's main thread (the request thread): event-loop delay (perf_hooks'
// monitorEventLoopDelay, sampled every 5 ms, so it shows stalls, not µs), its utilisation, and the
// garbage collector's pauses. SIGUSR2, not SIGUSR1: Node reserves SIGUSR1 for its inspector.

import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

const out = process.env.BENCH_STALLS_FILE;
if (isMainThread && out) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let gc = { pauses: 0, totalMs: 0, maxMs: 0, over5ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.pauses++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.duration > 5) gc.over5ms++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  let open = false;
  let utilisation = performance.eventLoopUtilization();
  // The histogram holds each whole sampling interval (5 ms and the delay): the delay is what is over 5 ms.
  const ms = (ns) => Math.max(0, Math.round((ns - 5e6) / 1e4) / 100);
  const start = () => {
    delay.reset();
    delay.enable();
    gc = { pauses: 0, totalMs: 0, maxMs: 0, over5ms: 0 };
    utilisation = performance.eventLoopUtilization();
    open = true;
  };
  process.on("SIGUSR2", () => {
    if (open) {
      const stats = {
        delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), samples: delay.count },
        utilisation: performance.eventLoopUtilization(utilisation).utilization,
        gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
      };
      writeFileSync(out, JSON.stringify(stats));
    }
    start();
  });
}
