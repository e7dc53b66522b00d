// Used when the chosen backend is not configured (redis without REDIS_URL): the application keeps
// working, publishes are validated and accepted, nothing is sent. It says why, once, at start.

import type { Logger, ReadinessReport } from "./ports.js";
import type { Delivery } from "./publisher-base.js";
import { PublisherBase } from "./publisher-base.js";

export class DisabledPublisher extends PublisherBase {
  constructor(
    backend: string,
    private readonly reason: string,
    options: { source?: string; logger?: Logger } = {},
  ) {
    super({ backend, ...options });
    this.logger.warn(`[${backend}] event stream disabled: ${reason}`);
  }

  protected deliver(): Promise<Delivery> {
    return Promise.resolve({ status: "disabled" });
  }
  ready(): Promise<ReadinessReport> {
    // The application is healthy without the stream; readiness says so but does not fail.
    return Promise.resolve({ ready: true, backend: this.backend, disabled: true, detail: `disabled: ${this.reason}` });
  }
}
