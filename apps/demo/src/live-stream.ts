// The live page's server-sent-event connections. Each connection has its own bounded queue of
// messages not yet taken by its socket: a client that stops reading (a stalled tab, a script that
// never reads) would otherwise make the server hold every event for it, without end. Past the bound
// the client is dropped — logged, counted, its connection closed — and the others carry on.

import type { Logger } from "@kaireon/events-core";
import type { LiveView } from "./live-view.js";

export interface LiveStreamLimits {
  /** Bytes queued for one client (written to its socket but not yet taken) before it is dropped. */
  maxQueuedBytes: number;
  /** Messages queued for one client before it is dropped. */
  maxQueuedMessages: number;
}

/** About 500 events of a normal size: a page that reads catches up with any burst the demo makes. */
export const DEFAULT_LIVE_STREAM_LIMITS: LiveStreamLimits = { maxQueuedBytes: 1024 * 1024, maxQueuedMessages: 1000 };

/** A comment line now and then, so proxies keep an idle stream open. */
const HEARTBEAT_MS = 15_000;

export interface LiveStreamStats {
  /** Open live streams. */
  clients: number;
  /** Clients dropped because they stopped reading, since start. */
  dropped: number;
  /** Queued now, over all clients. */
  queuedBytes: number;
  queuedMessages: number;
  /** The most one client ever had queued, since start (stays within the limits). */
  peakQueuedBytes: number;
  peakQueuedMessages: number;
}

type Ending = "left" | "closing" | "dropped";

/** One connection: its queue, the loop that writes it out one message at a time, and how it ended. */
class LiveClient {
  queuedBytes = 0;
  private readonly queue: Array<{ text: string; bytes: number }> = [];
  private writing = false;
  private ending: Ending | undefined;
  private settle!: (ending: Ending) => void;
  readonly ended = new Promise<Ending>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly write: (text: string) => Promise<unknown>,
    private readonly limits: LiveStreamLimits,
  ) {}

  get queuedMessages(): number {
    return this.queue.length;
  }

  /** Queues `text`; false when it would go over a limit (the caller drops the client). */
  send(text: string): boolean {
    if (this.ending) return true;
    const bytes = Buffer.byteLength(text);
    if (this.queue.length + 1 > this.limits.maxQueuedMessages || this.queuedBytes + bytes > this.limits.maxQueuedBytes) return false;
    this.queue.push({ text, bytes });
    this.queuedBytes += bytes;
    if (!this.writing) void this.pump();
    return true;
  }

  private async pump(): Promise<void> {
    this.writing = true;
    // A message stays counted until the socket took it: that is what the server holds for this client.
    while (!this.ending && this.queue.length > 0) {
      const next = this.queue[0] as { text: string; bytes: number };
      await this.write(next.text).catch(() => {});
      this.queue.shift();
      this.queuedBytes -= next.bytes;
    }
    this.writing = false;
  }

  /** Ends the connection's loop; what is still queued is discarded. Idempotent. */
  end(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.settle(ending);
  }
}

export class LiveStreams {
  private readonly clients = new Set<LiveClient>();
  private dropped = 0;
  private peakQueuedBytes = 0;
  private peakQueuedMessages = 0;

  constructor(
    private readonly logger: Logger,
    readonly limits: LiveStreamLimits = DEFAULT_LIVE_STREAM_LIMITS,
  ) {}

  stats(): LiveStreamStats {
    let queuedBytes = 0;
    let queuedMessages = 0;
    for (const client of this.clients) {
      queuedBytes += client.queuedBytes;
      queuedMessages += client.queuedMessages;
    }
    return {
      clients: this.clients.size,
      dropped: this.dropped,
      queuedBytes,
      queuedMessages,
      peakQueuedBytes: this.peakQueuedBytes,
      peakQueuedMessages: this.peakQueuedMessages,
    };
  }

  /**
   * Streams `view` to one client (a snapshot, then each event) until the client leaves (`left`), the
   * server shuts down (`closing`), or the client is dropped — then `disconnect` closes its connection,
   * since a socket nobody reads would never finish a graceful end. Every listener it adds is removed
   * when it returns.
   */
  async serve(
    write: (text: string) => Promise<unknown>,
    view: LiveView,
    options: { left: AbortSignal; closing?: AbortSignal | undefined; onLeft?: (listener: () => void) => void; disconnect: () => void },
  ): Promise<void> {
    const client = new LiveClient(write, this.limits);
    this.clients.add(client);
    const send = (text: string) => {
      if (!client.send(text)) this.drop(client, text);
      this.peakQueuedBytes = Math.max(this.peakQueuedBytes, client.queuedBytes);
      this.peakQueuedMessages = Math.max(this.peakQueuedMessages, client.queuedMessages);
    };
    const onLeft = () => client.end("left");
    const onClosing = () => client.end("closing");
    const off = view.onEvent((event, totals) => send(sseMessage("event", { event, ...totals })));
    const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
    try {
      send(sseMessage("snapshot", view.snapshot()));
      options.left.addEventListener("abort", onLeft, { once: true });
      options.closing?.addEventListener("abort", onClosing, { once: true });
      options.onLeft?.(onLeft);
      if (options.left.aborted) onLeft();
      if (options.closing?.aborted) onClosing();
      if ((await client.ended) === "dropped") options.disconnect();
    } finally {
      clearInterval(heartbeat);
      off();
      options.left.removeEventListener("abort", onLeft);
      options.closing?.removeEventListener("abort", onClosing);
      this.clients.delete(client);
    }
  }

  private drop(client: LiveClient, refused: string): void {
    this.dropped++;
    this.logger.warn(
      `[demo] live stream: dropped a client that stopped reading (${client.queuedMessages} messages, ${client.queuedBytes} bytes queued, ` +
        `${Buffer.byteLength(refused)} more refused; bound ${this.limits.maxQueuedMessages} messages / ${this.limits.maxQueuedBytes} bytes)`,
    );
    client.end("dropped");
  }
}

/** One server-sent event; `data` is JSON on one line (JSON.stringify escapes newlines). */
function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
