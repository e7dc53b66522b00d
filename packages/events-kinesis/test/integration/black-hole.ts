// A real TCP peer in front of moto that the test switches between forwarding and a black hole: it
// accepts, reads and never answers — what a hung server or a dead NAT entry looks like to a client.
// No mock: the SDK's own HTTP handler sees a socket that is open and silent.

import { connect, createServer, type Socket } from "node:net";

export interface SwitchableProxy {
  /** http://127.0.0.1:<port>, to use as the endpoint. */
  readonly url: string;
  /** Bytes swallowed so far: proof that a request really went into the hole. */
  readonly swallowed: number;
  /** From now on nothing is forwarded, on new and on open connections; nothing is ever answered. */
  blackHole(): void;
  /** New connections (and open ones that never fell into the hole) go to the target again. */
  forward(): void;
  close(): Promise<void>;
}

export async function switchableProxy(target: string): Promise<SwitchableProxy> {
  const { hostname, port } = new URL(target);
  let mode: "forward" | "black-hole" = "forward";
  let swallowed = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    let upstream: Socket | undefined;
    // A connection that swallowed part of a request can never be forwarded again: the target would see half of it.
    let lost = false;
    const drop = () => {
      client.destroy();
      upstream?.destroy();
      sockets.delete(client);
      if (upstream) sockets.delete(upstream);
    };
    client.on("data", (chunk) => {
      if (lost || mode === "black-hole") {
        lost = true;
        swallowed += chunk.length;
        return;
      }
      if (!upstream) {
        upstream = connect(Number(port), hostname);
        sockets.add(upstream);
        upstream.on("data", (answer) => client.write(answer));
        upstream.on("error", drop);
        upstream.on("close", drop);
      }
      upstream.write(chunk);
    });
    client.on("error", drop);
    client.on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    get swallowed() {
      return swallowed;
    },
    blackHole() {
      mode = "black-hole";
    },
    forward() {
      mode = "forward";
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
