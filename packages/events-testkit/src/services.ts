// Integration tests read the address of a real service from the environment (tooling/with-services.sh
// starts one and exports it). When it is missing the test fails with the way to get one: in CI
// (CI=true) a missing service is a failure, never a skip; locally the same, with a hint.

export interface ServiceSpec {
  /** The variable that points at the running service, e.g. REDIS_URL. */
  variable: string;
  /** What it is, for the message. */
  name: string;
  /** Optional: start one with testcontainers when Docker is available (users with Docker). */
  container?: () => Promise<string>;
}

export async function requireService(spec: ServiceSpec): Promise<string> {
  const value = process.env[spec.variable];
  if (value && value.trim() !== "") return value.trim();
  if (spec.container && process.env.CI !== "true" && (await dockerAvailable())) {
    const url = await spec.container();
    process.env[spec.variable] = url;
    return url;
  }
  throw new Error(
    `${spec.variable} is not set: these integration tests need a real ${spec.name}. ` +
      "Run them through `bash tooling/with-services.sh pnpm test:integration` (starts it on 127.0.0.1), " +
      `or set ${spec.variable} to a running one${spec.container ? ", or start Docker so testcontainers can run one" : ""}.`,
  );
}

async function dockerAvailable(): Promise<boolean> {
  const { access } = await import("node:fs/promises");
  const socket = process.env.DOCKER_HOST?.replace(/^unix:\/\//, "") ?? "/var/run/docker.sock";
  try {
    await access(socket);
  } catch {
    return false;
  }
  const { request } = await import("node:http");
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
