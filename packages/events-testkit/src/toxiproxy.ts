// A few lines over Toxiproxy's HTTP API (https://github.com/Shopify/toxiproxy#http-api): proxies in
// front of a real service, and the faults a network produces. tooling/services/toxiproxy.sh starts
// the server and exports TOXIPROXY_URL.

import { requireService } from "./services.js";

export type ToxicType = "latency" | "timeout" | "reset_peer" | "bandwidth" | "slicer" | "limit_data" | "slow_close";

export interface Toxic {
  type: ToxicType;
  /** `downstream` (server → client, default) or `upstream` (client → server). */
  stream?: "upstream" | "downstream";
  /** Share of connections it applies to, 0–1. Default 1. */
  toxicity?: number;
  attributes: Record<string, number>;
}

/**
 * The faults of the wire, by name. `down` and `flap` are not toxics: the proxy refuses connections
 * (disabled), always or every other `flapMs`.
 */
export const wireFaults = {
  /** Connection refused. */
  down: { kind: "down" },
  /**
   * Accepted, never answered: data is dropped both ways and the connection stays open (a half-open
   * socket). Nothing reaches the service.
   */
  blackHole: {
    kind: "toxics",
    toxics: [
      { type: "timeout", stream: "upstream", attributes: { timeout: 0 } },
      { type: "timeout", stream: "downstream", attributes: { timeout: 0 } },
    ],
  },
  /** Requests reach the service, answers never come back: the client cannot know whether it was stored. */
  lostAnswers: { kind: "toxics", toxics: [{ type: "timeout", stream: "downstream", attributes: { timeout: 0 } }] },
  /** A few seconds of latency each way. */
  slow: {
    kind: "toxics",
    toxics: [
      { type: "latency", stream: "downstream", attributes: { latency: 2_000, jitter: 200 } },
      { type: "latency", stream: "upstream", attributes: { latency: 500, jitter: 100 } },
    ],
  },
  /** TCP RST shortly after data starts flowing back: a reset in the middle of a response. */
  reset: { kind: "toxics", toxics: [{ type: "reset_peer", stream: "downstream", attributes: { timeout: 50 } }] },
  /** A few KB/s each way, answers cut into small pieces. */
  trickle: {
    kind: "toxics",
    toxics: [
      { type: "bandwidth", stream: "downstream", attributes: { rate: 4 } },
      { type: "bandwidth", stream: "upstream", attributes: { rate: 4 } },
      { type: "slicer", stream: "downstream", attributes: { average_size: 64, size_variation: 32, delay: 2_000 } },
    ],
  },
  /** Down and up again every `flapMs`. */
  flap: { kind: "flap", flapMs: 1_000 },
} as const satisfies Record<string, WireFault>;

export type WireFault = { kind: "down" } | { kind: "toxics"; toxics: readonly Toxic[] } | { kind: "flap"; flapMs: number };
export type WireFaultName = keyof typeof wireFaults;

export class ToxiproxyProxy {
  constructor(
    private readonly api: Toxiproxy,
    readonly name: string,
    /** host:port clients connect to. */
    readonly listen: string,
    readonly upstream: string,
  ) {}

  async setEnabled(enabled: boolean): Promise<void> {
    await this.api.request("POST", `/proxies/${this.name}`, { enabled });
  }

  async addToxic(name: string, toxic: Toxic): Promise<void> {
    await this.api.request("POST", `/proxies/${this.name}/toxics`, {
      name,
      type: toxic.type,
      stream: toxic.stream ?? "downstream",
      toxicity: toxic.toxicity ?? 1,
      attributes: toxic.attributes,
    });
  }

  async removeToxic(name: string): Promise<void> {
    await this.api.request("DELETE", `/proxies/${this.name}/toxics/${name}`);
  }

  /** Every toxic removed and the proxy enabled: the link is healthy again. */
  async heal(): Promise<void> {
    const toxics = (await this.api.request("GET", `/proxies/${this.name}/toxics`)) as Array<{ name: string }>;
    for (const toxic of toxics) await this.removeToxic(toxic.name);
    await this.setEnabled(true);
  }

  /**
   * Applies a fault and returns the function that ends it (heals the link). `flap` toggles the proxy
   * until it is ended.
   */
  async apply(fault: WireFault): Promise<() => Promise<void>> {
    if (fault.kind === "down") {
      await this.setEnabled(false);
      return () => this.heal();
    }
    if (fault.kind === "toxics") {
      let i = 0;
      for (const toxic of fault.toxics) await this.addToxic(`fault-${i++}`, toxic);
      return () => this.heal();
    }
    let up = true;
    let stopped = false;
    let toggling: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      up = !up;
      toggling = toggling.then(() => (stopped ? undefined : this.setEnabled(up))).catch(() => {});
    }, fault.flapMs);
    await this.setEnabled(false);
    up = false;
    return async () => {
      stopped = true;
      clearInterval(timer);
      await toggling;
      await this.heal();
    };
  }

  async delete(): Promise<void> {
    await this.api.request("DELETE", `/proxies/${this.name}`).catch(() => {});
  }
}

export class Toxiproxy {
  constructor(readonly url: string) {}

  /** The server tooling/with-services.sh started (TOXIPROXY_URL); a clear failure when there is none. */
  static async fromEnv(): Promise<Toxiproxy> {
    return new Toxiproxy(await requireService({ variable: "TOXIPROXY_URL", name: "Toxiproxy server" }));
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** A new proxy on a free port of 127.0.0.1 in front of `upstream` (host:port). */
  async createProxy(name: string, upstream: string): Promise<ToxiproxyProxy> {
    const created = (await this.request("POST", "/proxies", { name, listen: "127.0.0.1:0", upstream, enabled: true })) as {
      listen: string;
    };
    return new ToxiproxyProxy(this, name, created.listen, upstream);
  }

  /** A proxy made by the service scripts (e.g. `kafka`, whose broker advertises the proxy's address). */
  async proxy(name: string): Promise<ToxiproxyProxy> {
    const found = (await this.request("GET", `/proxies/${name}`)) as { listen: string; upstream: string };
    return new ToxiproxyProxy(this, name, found.listen, found.upstream);
  }
}
