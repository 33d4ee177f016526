import { describe, expect, it } from "vitest";
import { airbyteBinding, INTERNAL_SPEC, openRequest } from "../../../test/helpers/airbyte.js";
import { serveInProcess } from "../../../test/helpers/inProcess.js";
import { ConfigError } from "../../util/errors.js";
import { createAirbyteConnector } from "./connector.js";
import { farosSource, type FarosSourceLike } from "./faros.js";

/** What faros-airbyte-cdk sources throw on purpose (verror's VError), without depending on it. */
class VError extends Error {
  override name = "VError";
}

/** A faros-airbyte-cdk source in memory whose read (or onBeforeRun) throws `error`. */
function failingSource(error: unknown, where: "read" | "onBeforeRun" = "read"): FarosSourceLike {
  return {
    spec: async () => ({ spec: { connectionSpecification: { type: "object" } } }),
    check: async () => ({ connectionStatus: { status: "SUCCEEDED" } }),
    discover: async () => ({ catalog: { streams: [] } }),
    async *read() {
      if (where === "read") throw error;
    },
    async onBeforeRun(config: never) {
      if (where === "onBeforeRun") throw error;
      return config;
    },
  };
}

/** Opens a capture of the source in-process; returns its exit code and last log line. */
async function open(source: FarosSourceLike) {
  const run = serveInProcess(createAirbyteConnector(farosSource(source, { label: "source-x", cdk: {} })));
  run.send(INTERNAL_SPEC);
  run.send(openRequest({}, [airbyteBinding("users")]));
  const code = await run.exitCode;
  run.end();
  return { code, last: run.logs().at(-1), logs: run.logs() };
}

describe("farosSource: how a source's failure reaches Flow", () => {
  it("shows what the source reports on purpose (a bad config, refused credentials) as the user's error, without a stack", async () => {
    for (const where of ["read", "onBeforeRun"] as const) {
      const { code, last, logs } = await open(failingSource(new VError("Please provide a valid api_url"), where));
      expect(code).toBe(1);
      expect(last).toMatchObject({ level: "error", message: `source-x failed in ${where}: Please provide a valid api_url`, fields: { code: "SOURCE_FAILED", source: "source-x" } });
      expect(last!.fields).not.toHaveProperty("error");
      // The stack is not lost: it is logged at debug level.
      expect(logs).toContainEqual(expect.objectContaining({ level: "debug", message: `source-x failed in ${where}`, fields: expect.objectContaining({ error: expect.arrayContaining([expect.stringContaining("VError: Please provide a valid api_url")]) }) }));
    }
  });

  it("reports a bug in the source (a TypeError) with its stack", async () => {
    const { code, last } = await open(failingSource(new TypeError("Cannot read properties of undefined (reading 'token')")));
    expect(code).toBe(1);
    expect(last?.message).toBe("source-x failed in read: Cannot read properties of undefined (reading 'token')");
    expect(last?.fields.error).toMatchObject({ name: "FlowcapError", cause: { name: "TypeError" } });
  });

  it("passes flowcap's own errors through as they are", async () => {
    for (const where of ["read", "onBeforeRun"] as const) {
      const { code, last } = await open(failingSource(new ConfigError("token: is required", { subject: "endpoint config" }), where));
      expect(code).toBe(1);
      expect(last, where).toMatchObject({ level: "error", message: "endpoint config: token: is required", fields: { code: "CONFIG_INVALID" } });
    }
  });
});
