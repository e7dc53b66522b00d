// EVENT_PUBLISHER=msk and =aws_msk load this package through core's loader (as an application does,
// resolving the package from here). Nothing connects: kafkajs connects on the first publish.
import { loadPublisher, loadSubscriber } from "@kaireon/events-core";
import { silentLogger } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";

const quiet = silentLogger;
const env = { MSK_BROKERS: "b-1.demo.kafka.us-east-1.amazonaws.com:9098" };

describe("core's loader", () => {
  for (const value of ["msk", "aws_msk", "AWS_MSK"]) {
    it(`EVENT_PUBLISHER=${value} gives the msk backend`, async () => {
      const publisher = await loadPublisher({ ...env, EVENT_PUBLISHER: value }, { logger: quiet, resolveFrom: import.meta.url });
      const subscriber = await loadSubscriber({ ...env, EVENT_PUBLISHER: value }, { logger: quiet, resolveFrom: import.meta.url });
      expect([publisher.backend, subscriber.backend]).toEqual(["msk", "msk"]);
      await Promise.all([publisher.close(), subscriber.close()]);
    });
  }

  it("a bad MSK_AUTH_MODE stops the loader with a config error listing both modes", async () => {
    await expect(
      loadPublisher({ ...env, EVENT_PUBLISHER: "msk", MSK_AUTH_MODE: "iam" }, { logger: quiet, resolveFrom: import.meta.url }),
    ).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("MSK_AUTH_MODE: must be one of: iam_role, sasl_scram"),
    });
  });
});
