// EventsError's `retryable` and `sent`, core's shared error factories and the one AWS classifier.
import { describe, expect, it } from "vitest";
import {
  authFailedError,
  ConnectionError,
  classifyAwsError,
  EventsError,
  errorClassOf,
  eventTooLargeError,
  isRetryable,
  PublishError,
  publisherClosedError,
  queueFullError,
  toPublishError,
  ValidationError,
} from "../../src/kit.js";

describe("EventsError.retryable and .sent", () => {
  it("are fields, given or read from details (kept there as before), else the code's default", () => {
    const given = new PublishError({ message: "m", retryable: true, sent: "unknown", details: { a: 1 } });
    expect(given).toMatchObject({ retryable: true, sent: "unknown", details: { a: 1, retryable: true, sent: "unknown" } });
    const fromDetails = new PublishError({ message: "m", details: { retryable: false, sent: false } });
    expect(fromDetails).toMatchObject({ retryable: false, sent: false });
    const plain = new PublishError({ message: "m" });
    expect([plain.retryable, plain.sent, plain.details]).toEqual([undefined, undefined, undefined]);
  });

  it("an event refused for itself is not retryable by default; every other code is unknown", () => {
    const refused = ["VALIDATION_FAILED", "UNKNOWN_TOPIC", "EVENT_TOO_LARGE", "MALFORMED_MESSAGE"];
    for (const code of Object.keys(errorClassOf)) {
      const error = new EventsError({ code, message: "m" });
      expect(error.retryable, code).toBe(refused.includes(code) ? false : undefined);
    }
    expect(new ValidationError({ message: "m", issues: [] }).retryable).toBe(false);
  });

  it("isRetryable is true only for an EventsError that says so", () => {
    expect(isRetryable(new PublishError({ message: "m", retryable: true }))).toBe(true);
    expect(isRetryable(new PublishError({ message: "m" }))).toBe(false);
    expect(isRetryable(Object.assign(new Error("x"), { retryable: true }))).toBe(false);
  });
});

describe("shared error factories", () => {
  it("QUEUE_FULL: a publisher's is not sent and retryable; a subscriber's names the dropped message", () => {
    const pub = queueFullError({ backend: "x", limit: 5, waitingFor: "broker", fix: "raise X_MAX or slow down" });
    expect(pub).toBeInstanceOf(PublishError);
    expect(pub).toMatchObject({ code: "QUEUE_FULL", sent: false, retryable: true, details: { maxQueued: 5, sent: false } });
    expect(pub.message).toBe("[x] 5 events are already waiting for the broker — the broker is slow or down; raise X_MAX or slow down");
    const sub = queueFullError({ backend: "x", limit: 5, waitingFor: "handler", fix: "make the handler faster" });
    expect(sub).toMatchObject({ code: "QUEUE_FULL", sent: undefined });
    expect(sub.message).toMatch(/^\[x\] 5 messages are already waiting for the handler; this one was dropped — make the handler faster$/);
  });

  it("EVENT_TOO_LARGE names the event, the size, the limit (or its variable); nothing was sent", () => {
    const plain = eventTooLargeError({ backend: "x", size: 11, limit: 10 });
    expect(plain.message).toBe("[x] event is 11 bytes, over the 10-byte limit of one request — make the payload smaller; nothing was sent");
    const named = eventTooLargeError({
      backend: "k",
      size: 11,
      limit: 10,
      limitName: "K_MAX",
      eventId: "e1",
      measured: "data + key",
      hint: "(or raise it)",
    });
    expect(named.message).toBe(
      "[k] event e1 is 11 bytes (data + key), over K_MAX=10 — make the payload smaller (or raise it); nothing was sent",
    );
    expect(named).toMatchObject({ code: "EVENT_TOO_LARGE", sent: false, retryable: false, details: { size: 11, limit: 10, sent: false } });
  });

  it("PUBLISHER_CLOSED, publish failed and AUTH_FAILED", () => {
    expect(publisherClosedError("x")).toMatchObject({ code: "PUBLISHER_CLOSED", sent: false });
    const wrapped = toPublishError("x", new TypeError("boom"));
    expect(wrapped).toMatchObject({ code: "PUBLISH_FAILED", message: "[x] publish failed: boom" });
    const coded = new ConnectionError({ message: "m" });
    expect(toPublishError("x", coded)).toBe(coded);
    const auth = authFailedError({ backend: "x", message: "[x] refused" });
    expect(auth).toBeInstanceOf(ConnectionError);
    expect(auth.code).toBe("AUTH_FAILED");
  });
});

describe("classifyAwsError", () => {
  const aws = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} said no`), { name, ...extra });

  it("a refused connection (also as a cause) was never sent and is retryable; a reset may have landed", () => {
    const refused = Object.assign(new Error("connect"), { code: "ECONNREFUSED" });
    expect(classifyAwsError(new Error("wrapped", { cause: refused }))).toMatchObject({
      kind: "network",
      networkCode: "ECONNREFUSED",
      sent: false,
      retryable: true,
    });
    const reset = classifyAwsError(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    expect(reset).toMatchObject({ kind: "network", sent: "unknown" });
    expect(reset.retryable).toBeUndefined();
  });

  it("timeouts, credentials, a missing resource, throttling and 5xx", () => {
    expect(classifyAwsError(aws("TimeoutError"))).toMatchObject({ kind: "timeout", sent: "unknown" });
    for (const name of [
      "AccessDeniedException",
      "ExpiredTokenException",
      "IncompleteSignature",
      "NotAuthorizedForSourceException",
      "SomeCredentialError",
    ]) {
      expect(classifyAwsError(aws(name)).kind, name).toBe("auth");
    }
    expect(classifyAwsError(aws("ResourceNotFoundException")).kind).toBe("not-found");
    expect(classifyAwsError(aws("ThrottlingException"))).toMatchObject({ kind: "other", retryable: true });
    expect(classifyAwsError(aws("Weird", { $metadata: { httpStatusCode: 503 } }))).toMatchObject({ kind: "other", retryable: true });
    const validation = classifyAwsError(aws("ValidationException", { $metadata: { httpStatusCode: 400 } }));
    expect(validation).toMatchObject({ kind: "other", name: "ValidationException", detail: "ValidationException said no" });
    expect(validation.retryable).toBeUndefined();
  });
});
