// The HTTP API (Hono). Every body is validated by a zod schema before anything else runs: a bad body
// is a 400 naming each field path, and nothing is stored or published. A route never publishes to the
// broker itself: it hands the event to the store, which puts it in the outbox in the row's transaction.

import { createHash, timingSafeEqual } from "node:crypto";
import { zValidator } from "@hono/zod-validator";
import { createEvent, type DecisionMadeV1, type InteractionRecordedV1, type Logger, uuidv7 } from "@kaireon/events-core";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import type { z } from "zod";
import { livePage } from "./live-page.js";
import { LiveStreams } from "./live-stream.js";
import type { LiveView } from "./live-view.js";
import { DEFAULT_DECISION_FLOW, rankOffers } from "./ranking.js";
import { behaviourEventBodySchema, recommendBodySchema, respondBodySchema } from "./schemas.js";
import type { DemoStore } from "./store.js";
import { requestSpans } from "./telemetry.js";

export interface AppDeps {
  store: DemoStore;
  /** False: rows are stored without events (the benchmark's baseline). */
  eventsEnabled: boolean;
  /** Envelope `source` (EVENT_SOURCE). */
  source: string;
  bodyLimit: number;
  logger: Logger;
  liveView?: LiveView | undefined;
  /** What /health reports beyond the basics (backend, relay backlog…). */
  health?: () => Promise<Record<string, unknown>>;
  /** Aborted at shutdown: open live streams end so the server can close. */
  closing?: AbortSignal;
  /** The live page's stream connections (bounded queues); the container reads their stats for /health. */
  liveStreams?: LiveStreams;
  /** DEMO_LIVE_TOKEN: when set, /live, /live/stream, /live/status and the full /health need it. */
  liveToken?: string | undefined;
  /** The server's own outbox figures (backlog, oldest pending age), whichever process relays it. */
  outboxStats?: () => Promise<unknown>;
  /** The OpenTelemetry metrics in Prometheus text format, for /metrics (undefined: OTEL_SDK_DISABLED). */
  prometheusText?: (() => Promise<string>) | undefined;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Whether the request carries `token` (Authorization: Bearer, or ?token= — the browser's
 * EventSource cannot send headers). Compared in constant time: both sides are hashed to one length
 * first, so neither the length nor a matching prefix shows in the timing.
 */
function hasToken(c: Context, token: string): boolean {
  const bearer = /^Bearer[ \t]+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  const presented = bearer ?? c.req.query("token");
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

/**
 * Ready: the relay's publisher says so and the relay runs — or both are in their own process
 * (DEMO_RELAY=separate), and then this server, which only writes rows and outbox entries, is ready.
 */
function isReady(report: Record<string, unknown>): boolean {
  if (report.relayMode === "separate") return true;
  const publisher = report.publisher as { ready?: unknown } | undefined;
  const relay = report.relay as { running?: unknown } | string | undefined;
  const relayOk = typeof relay === "object" && relay !== null && relay.running === true;
  return typeof publisher === "object" && publisher !== null && publisher.ready === true && relayOk;
}

export interface FieldIssue {
  path: string;
  message: string;
}

function fieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  const at = (path: readonly PropertyKey[]) => path.map(String).join(".") || "(body)";
  return issues.flatMap((issue) =>
    // An unknown field is reported at its own path, so the caller sees which one to remove.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}

function validated<S extends z.ZodType>(schema: S) {
  return zValidator("json", schema, (result, c) => {
    if (!result.success) {
      const issues = fieldIssues(result.error.issues);
      return c.json({ error: "VALIDATION_FAILED", message: issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues }, 400);
    }
  });
}

/**
 * hono's bodyLimit, without its cost on the usual request: one that declares its length
 * (content-length, no transfer-encoding — Node's parser reads exactly that many bytes) is judged by
 * the header alone. hono's middleware first asks `c.req.raw.body`, which makes @hono/node-server
 * build a full fetch Request (web streams, an AbortSignal that undici tracks with a
 * FinalizationRegistry) instead of reading the body straight from the socket: each request's
 * objects then survived the young-generation GCs until the next full one (~6 KB per request
 * promoted at 2,000 req/s), and every scavenge copied them. A chunked body still goes through hono's.
 */
export function bodyLimitByLength(maxSize: number): MiddlewareHandler {
  const onError = (c: Context) => c.json({ error: "PAYLOAD_TOO_LARGE", message: `request body is over ${maxSize} bytes` }, 413);
  const streamed = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    if (Number.parseInt(length, 10) > maxSize) return onError(c);
    await next();
  };
}

export function createApp(deps: AppDeps) {
  const { store, eventsEnabled, source, logger } = deps;
  const app = new Hono();

  app.use("/api/*", requestSpans());
  app.use("/api/*", bodyLimitByLength(deps.bodyLimit));
  // The validator reads JSON only from a JSON request; say so instead of reporting every field missing.
  app.use("/api/*", async (c, next) => {
    if (c.req.method === "POST" && !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(c.req.header("content-type") ?? "")) {
      return c.json({ error: "UNSUPPORTED_MEDIA_TYPE", message: "send the body as JSON with content-type: application/json" }, 415);
    }
    await next();
  });

  const liveStreams = deps.liveStreams ?? new LiveStreams(logger);
  const token = deps.liveToken;
  const unauthorized = (c: Context) => {
    c.header("WWW-Authenticate", 'Bearer realm="kaireon-demo"');
    return c.json(
      {
        error: "UNAUTHORIZED",
        message: "this endpoint needs the DEMO_LIVE_TOKEN: send Authorization: Bearer <token>, or open /live?token=<token>",
      },
      401,
    );
  };
  app.use("/live", async (c, next) => (token === undefined || hasToken(c, token) ? next() : unauthorized(c)));
  app.use("/live/*", async (c, next) => (token === undefined || hasToken(c, token) ? next() : unauthorized(c)));

  // Without the token (when one is set) /health says whether the service is ready and nothing else:
  // no backend, no counts, no relay figures — enough for a load balancer or `docker` health check.
  app.get("/health", async (c) => {
    const extra = (await deps.health?.().catch((error: unknown) => ({ healthError: String(error) }))) ?? {};
    const report = { store: store.kind, events: eventsEnabled, ...extra, live: liveStreams.stats() };
    const ready = isReady(report);
    if (token !== undefined && !hasToken(c, token)) {
      return c.json({
        status: "ok",
        ready,
        detail: "readiness only: send the DEMO_LIVE_TOKEN (Authorization: Bearer) for the full report",
      });
    }
    return c.json({ status: "ok", ready, ...report });
  });

  app.get("/metrics", async (c) => {
    if (!deps.prometheusText) {
      return c.text("# metrics are off: OTEL_SDK_DISABLED=true\n", 503, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    }
    return c.text(await deps.prometheusText(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.post("/api/v1/respond", validated(respondBodySchema), async (c) => {
    const body = c.req.valid("json");
    const data: InteractionRecordedV1 = {
      tenantId: body.tenantId,
      customerId: body.customerId,
      offerId: body.offerId,
      creativeId: body.creativeId ?? null,
      channelId: body.channelId,
      interactionType: body.interactionType,
      outcomeTypeKey: body.outcomeTypeKey ?? body.interactionType,
      campaignId: body.campaignId ?? null,
      recommendationId: body.recommendationId ?? null,
      // One canonical form (UTC, milliseconds), so the row read back and the event carry the same text.
      timestamp: (body.timestamp ? new Date(body.timestamp) : new Date()).toISOString(),
    };
    const event = eventsEnabled ? createEvent("interaction.recorded.v1", data, { source }) : null;
    const interaction = await store.recordInteraction({ interactionId: uuidv7(), ...data }, event);
    return c.json({ interaction }, 201);
  });

  app.post("/api/v1/recommend", validated(recommendBodySchema), async (c) => {
    const body = c.req.valid("json");
    const decisionFlowKey = body.decisionFlowKey ?? DEFAULT_DECISION_FLOW;
    const offers = rankOffers({ ...body, decisionFlowKey }, body.limit ?? 3);
    const top = offers[0];
    const decision: DecisionMadeV1 = {
      tenantId: body.tenantId,
      customerId: body.customerId,
      recommendationId: uuidv7(),
      offersReturned: offers.length,
      topOfferId: top?.offerId ?? null,
      topPropensity: top?.propensity ?? null,
      decisionFlowKey,
      timestamp: new Date().toISOString(),
    };
    const event = eventsEnabled ? createEvent("decision.made.v1", decision, { source }) : null;
    const row = await store.recordDecision({ ...decision, offers }, event);
    return c.json({ decision: row }, 201);
  });

  // Inbound customer behaviour events: stored for the platform, never fed to the domain event stream.
  app.post("/api/v1/events", validated(behaviourEventBodySchema), async (c) => {
    const body = c.req.valid("json");
    const receivedAt = new Date().toISOString();
    const row = await store.recordBehaviourEvent({
      eventId: uuidv7(),
      tenantId: body.tenantId,
      customerId: body.customerId,
      eventType: body.eventType,
      properties: body.properties ?? {},
      occurredAt: body.occurredAt ? new Date(body.occurredAt).toISOString() : receivedAt,
      receivedAt,
    });
    return c.json({ accepted: row }, 202);
  });

  app.get("/", (c) => c.redirect("/live"));
  app.get("/live", (c) => {
    if (!deps.liveView) return c.json({ error: "NOT_FOUND", message: "the live view is off (DEMO_LIVE_VIEW=false)" }, 404);
    // The token may sit in this page's address: no referrer carries it elsewhere, no cache keeps it.
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-store");
    return c.html(livePage);
  });
  // The live page's figures, polled: the /health report (backend, readiness, relay, publisher
  // counters, stored counts) with the outbox's backlog and the view's lag and rates.
  app.get("/live/status", async (c) => {
    const live = deps.liveView;
    if (!live) return c.json({ error: "NOT_FOUND", message: "the live view is off (DEMO_LIVE_VIEW=false)" }, 404);
    const [extra, outbox] = await Promise.all([
      deps.health?.().catch((error: unknown) => ({ healthError: String(error) })) ?? {},
      deps.outboxStats?.().catch((error: unknown) => `outbox.stats() failed: ${(error as Error)?.message ?? String(error)}`),
    ]);
    const report = { store: store.kind, events: eventsEnabled, ...extra, live: liveStreams.stats() };
    c.header("Cache-Control", "no-store");
    return c.json({
      ready: isReady(report),
      ...report,
      outbox,
      view: { origin: live.origin, counts: { ...live.counts }, lag: live.lag(), rates: live.rates() },
      at: new Date().toISOString(),
    });
  });
  app.get("/live/stream", (c) => {
    const live = deps.liveView;
    if (!live) return c.json({ error: "NOT_FOUND", message: "the live view is off (DEMO_LIVE_VIEW=false)" }, 404);
    return streamSSE(c, (stream) =>
      liveStreams.serve((text) => stream.write(text), live, {
        left: c.req.raw.signal,
        onLeft: (listener) => stream.onAbort(listener),
        closing: deps.closing,
        // A dropped client's socket is destroyed: a graceful end would wait for it to read.
        disconnect: () => (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing?.destroy(),
      }),
    );
  });

  app.notFound((c) => c.json({ error: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 400 ? "MALFORMED_BODY" : status === 413 ? "PAYLOAD_TOO_LARGE" : "HTTP_ERROR";
      return c.json({ error: code, message: error.message || "bad request" }, status);
    }
    logger.error(`[demo] ${c.req.method} ${c.req.path} failed: ${(error as Error)?.message}`);
    return c.json({ error: "INTERNAL", message: "the request failed on the server; nothing was committed" }, 500);
  });

  return app;
}
