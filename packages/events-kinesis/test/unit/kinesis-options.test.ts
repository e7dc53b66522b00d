import { createHash } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { ListShardsCommand } from "@aws-sdk/client-kinesis";
import { ConfigError } from "@kaireon/events-core";
import { configErrorOf } from "@kaireon/events-testkit";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { describe, expect, it } from "vitest";
import {
  backend,
  createKinesisClient,
  KINESIS_LIMITS,
  kinesisOptions,
  kinesisOptionsFromEnv,
  kinesisPartitionKey,
  streamParams,
} from "../../src/index.js";

describe("kinesis options", () => {
  it("code and the environment get the same defaults, from the one schema", () => {
    expect(kinesisOptions({ stream: "s" })).toEqual(kinesisOptionsFromEnv({ KINESIS_STREAM: "s" }));
    expect(kinesisOptions({ stream: "s", ordering: "strict", lingerMs: undefined })).toEqual(
      kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_ORDERING: "strict" }),
    );
  });

  it("a missing KINESIS_STREAM is a ConfigError naming the variable", () => {
    const error = configErrorOf(() => kinesisOptionsFromEnv({}));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("KINESIS_STREAM");
    expect(() => backend.fromEnv({ EVENT_PUBLISHER: "kinesis" })).toThrow(/KINESIS_STREAM/);
  });

  it("defaults follow the Kinesis limits", () => {
    expect(kinesisOptionsFromEnv({ KINESIS_STREAM: "events" })).toMatchObject({
      stream: "events",
      ordering: "none",
      maxRecordsPerRequest: 500,
      maxRequestBytes: 5 * 1024 * 1024,
      maxRecordBytes: 1024 * 1024,
      endpoint: undefined,
    });
  });

  it("rejects values outside the limits and unknown orderings, naming the variable", () => {
    expect(() => kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_MAX_REQUEST_BYTES: String(6 * 1024 * 1024) })).toThrow(
      /KINESIS_MAX_REQUEST_BYTES/,
    );
    expect(() => kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_MAX_RECORDS_PER_REQUEST: "501" })).toThrow(
      /KINESIS_MAX_RECORDS_PER_REQUEST/,
    );
    expect(() => kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_ORDERING: "total" })).toThrow(/KINESIS_ORDERING/);
    expect(() =>
      kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_MAX_REQUEST_BYTES: "2048", KINESIS_MAX_RECORD_BYTES: "4096" }),
    ).toThrow(/KINESIS_MAX_RECORD_BYTES/);
    expect(kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_ORDERING: "STRICT" }).ordering).toBe("strict");
  });

  it("endpoint: KINESIS_ENDPOINT_URL, then AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL", () => {
    const base = { KINESIS_STREAM: "s", AWS_ENDPOINT_URL: "http://a", AWS_ENDPOINT_URL_KINESIS: "http://b" };
    expect(kinesisOptionsFromEnv({ ...base, KINESIS_ENDPOINT_URL: "http://c" }).endpoint).toBe("http://c");
    expect(kinesisOptionsFromEnv(base).endpoint).toBe("http://b");
    expect(kinesisOptionsFromEnv({ KINESIS_STREAM: "s", AWS_ENDPOINT_URL: "http://a" }).endpoint).toBe("http://a");
  });

  it("a stream ARN is sent as StreamARN, a name as StreamName", () => {
    expect(streamParams("arn:aws:kinesis:us-east-1:123456789012:stream/events")).toEqual({
      StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/events",
    });
    expect(streamParams("events")).toEqual({ StreamName: "events" });
  });

  it("an endpoint override gets an HTTP/1.1 handler; without one the SDK keeps its own (HTTP/2)", () => {
    const local = createKinesisClient({ endpoint: "http://127.0.0.1:5000" }, { region: "us-east-1" });
    const aws = createKinesisClient({ endpoint: undefined }, { region: "us-east-1" });
    expect(local.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(aws.config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    expect(aws.config.requestHandler.constructor.name).toBe("NodeHttp2Handler");
    local.destroy();
    aws.destroy();
  });
});

describe("kinesis client request timeout", () => {
  /** A local peer that accepts and reads, and never answers. */
  async function silentPeer(): Promise<{ url: string; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {});
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it("KINESIS_REQUEST_TIMEOUT_MS: default 5000, bounded, named when wrong", () => {
    expect(kinesisOptionsFromEnv({ KINESIS_STREAM: "s" }).requestTimeoutMs).toBe(5_000);
    expect(kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_REQUEST_TIMEOUT_MS: "800" }).requestTimeoutMs).toBe(800);
    expect(() => kinesisOptionsFromEnv({ KINESIS_STREAM: "s", KINESIS_REQUEST_TIMEOUT_MS: "10" })).toThrow(/KINESIS_REQUEST_TIMEOUT_MS/);
  });

  it("a request to a silent peer fails with a TimeoutError on both handlers (HTTP/1.1 with an endpoint, the SDK's HTTP/2 without)", async () => {
    const peer = await silentPeer();
    const credentials = { accessKeyId: "t", secretAccessKey: "t" };
    const local = createKinesisClient({ endpoint: peer.url, requestTimeoutMs: 200 }, { region: "us-east-1", credentials, maxAttempts: 1 });
    // The endpoint through `extra` only: the handler stays the one chosen for AWS (HTTP/2, cleartext here).
    const aws = createKinesisClient(
      { endpoint: undefined, requestTimeoutMs: 200 },
      { region: "us-east-1", credentials, maxAttempts: 1, endpoint: peer.url },
    );
    try {
      expect(aws.config.requestHandler.constructor.name).toBe("NodeHttp2Handler");
      for (const client of [local, aws]) {
        const error = await client.send(new ListShardsCommand({ StreamName: "s" })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ name: "TimeoutError" });
      }
    } finally {
      local.destroy();
      aws.destroy();
      await peer.close();
    }
  }, 20_000);
});

describe("partition key", () => {
  it("keeps keys of up to 256 characters as they are", () => {
    expect(kinesisPartitionKey("tenant-1:cust-1")).toBe("tenant-1:cust-1");
    const max = "k".repeat(KINESIS_LIMITS.maxPartitionKeyLength);
    expect(kinesisPartitionKey(max)).toBe(max);
    // 256 characters outside the BMP are 512 UTF-16 units but still 256 characters for Kinesis.
    const emoji = "😀".repeat(256);
    expect(kinesisPartitionKey(emoji)).toBe(emoji);
  });

  it("hashes a longer key to sha256:<64 hex>, deterministically, distinct keys to distinct hashes", () => {
    const long = `tenant:${"c".repeat(300)}`;
    const hashed = kinesisPartitionKey(long);
    expect(hashed).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashed).toBe(`sha256:${sha256(long)}`);
    expect(kinesisPartitionKey(long)).toBe(hashed);
    expect(kinesisPartitionKey(`${long}x`)).not.toBe(hashed);
    expect(kinesisPartitionKey("k".repeat(257))).toMatch(/^sha256:/);
  });
});

function sha256(text: string): string {
  return createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
}
