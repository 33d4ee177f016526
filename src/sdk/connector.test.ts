import { describe, expect, it } from "vitest";
import { openRequest, serveInProcess } from "../../test/helpers/inProcess.js";
import { ConfigError } from "../util/errors.js";
import { defineConnector } from "./connector.js";
import { defineResource } from "./resource.js";

const configSchema = {
  type: "object",
  properties: {
    limit: { type: "integer", minimum: 1, default: 3 },
    token: { type: "string", secret: true },
    region: { enum: ["eu", "us"] },
  },
  required: ["token"],
  additionalProperties: false,
} as const;

const counter = (name: string) =>
  defineResource({
    name,
    key: ["/id"],
    schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
    initialState: { next: 1, seen: [] as number[] },
    async *capture(ctx) {
      for (let i = 0; i < 2; i++) {
        const id = ctx.state.next;
        yield { id };
        yield ctx.checkpoint({ next: id + 1 });
      }
    },
  });

const connector = defineConnector({
  documentationUrl: "https://example.com",
  config: configSchema,
  resources: (config) => [counter("alpha"), counter(`beta-${config.limit}`)],
});

function run(...requests: object[]) {
  const r = serveInProcess(connector);
  for (const q of requests) r.send(q);
  r.end();
  return r;
}

describe("defineConnector", () => {
  it("derives spec from the config schema with the default resource config", async () => {
    const r = run({ spec: { config: {} } });
    expect(await r.exitCode).toBe(0);
    expect(r.stdout.json[0]).toEqual({
      spec: {
        protocol: 3032023,
        configSchema,
        resourceConfigSchema: expect.objectContaining({ required: ["name"], additionalProperties: false }),
        documentationUrl: "https://example.com",
        resourcePathPointers: ["/name"],
      },
    });
    const rc = (r.stdout.json[0] as { spec: { resourceConfigSchema: { properties: object } } }).spec.resourceConfigSchema;
    expect(Object.keys(rc.properties)).toContain("_meta");
  });

  it("discovers one binding per resource, with config defaults applied", async () => {
    const r = run({ discover: { config: { token: "t0ken-value" } } });
    expect(await r.exitCode).toBe(0);
    expect(r.stdout.json[0]).toEqual({
      discovered: {
        bindings: [
          { recommendedName: "alpha", resourceConfig: { name: "alpha" }, documentSchema: expect.any(Object), key: ["/id"], resourcePath: ["alpha"] },
          { recommendedName: "beta-3", resourceConfig: { name: "beta-3" }, documentSchema: expect.any(Object), key: ["/id"], resourcePath: ["beta-3"] },
        ],
      },
    });
  });

  it("reports every config problem with its path, readably", async () => {
    const r = run({ discover: { config: { limit: 0, region: "mars", extra: true } } });
    expect(await r.exitCode).toBe(1);
    const last = r.logs().at(-1)!;
    expect(last.message).toBe(
      [
        "endpoint config: 4 problems:",
        " - token: is required",
        " - extra: is not a known property",
        " - limit: must be >= 1",
        ' - region: must be one of "eu", "us"',
      ].join("\n"),
    );
    expect(JSON.stringify(last.fields)).not.toContain("stack");
  });

  it("validates bindings: unknown resources and bad resource configs are named, all at once", async () => {
    const binding = (resourceConfig: object) => ({ resourceConfig, collection: { name: "acmeCo/x", key: ["/id"] } });
    const r = run({
      validate: {
        name: "acmeCo/cap",
        config: { token: "t0ken-value" },
        bindings: [binding({ name: "alpha" }), binding({ name: "gamma" }), binding({ nme: "alpha" }), binding({ name: "beta-3", _meta: { path: ["beta-3"] } })],
      },
    });
    expect(await r.exitCode).toBe(1);
    expect(r.logs().at(-1)!.message).toBe(
      [
        "3 problems:",
        ' - bindings[1].resourceConfig.name: no resource named "gamma" (this connector has: "alpha", "beta-3")',
        " - bindings[2].resourceConfig.name: is required",
        " - bindings[2].resourceConfig.nme: is not a known property",
      ].join("\n"),
    );
    const ok = run({ validate: { name: "acmeCo/cap", config: { token: "t0ken-value" }, bindings: [binding({ name: "beta-3", _meta: { path: ["x"] } })] } });
    expect(await ok.exitCode).toBe(0);
    expect(ok.stdout.json[0]).toEqual({ validated: { bindings: [{ resourcePath: ["beta-3"] }] } });
  });

  it("takes back at validate the resource configs it discovered, when resourceConfigSchema declares their fields", async () => {
    const ticks = defineResource({ name: "ticks", key: ["/id"], schema: { type: "object" }, resourceConfig: { interval: "PT5M" }, async *capture() {} });
    const withInterval = defineConnector({
      documentationUrl: "https://example.com",
      config: { type: "object" },
      resourceConfigSchema: {
        type: "object",
        properties: { name: { type: "string" }, interval: { type: "string", format: "duration" } },
        required: ["name"],
        additionalProperties: false,
      },
      resources: [ticks],
    });
    const discover = serveInProcess(withInterval);
    discover.send({ spec: { config: {} } });
    discover.send({ discover: { config: {} } });
    discover.end();
    expect(await discover.exitCode).toBe(0);
    const [spec, discovered] = discover.stdout.json as [{ spec: { resourceConfigSchema: { properties: object } } }, { discovered: { bindings: { resourceConfig: Record<string, unknown> }[] } }];
    expect(Object.keys(spec.spec.resourceConfigSchema.properties)).toEqual(["name", "interval", "_meta"]);
    const resourceConfig = discovered.discovered.bindings[0]!.resourceConfig;
    expect(resourceConfig).toEqual({ interval: "PT5M", name: "ticks" });

    const validate = serveInProcess(withInterval);
    const binding = { resourceConfig: { ...resourceConfig, _meta: { path: ["ticks"] } }, collection: { name: "acmeCo/ticks", key: ["/id"] } };
    validate.send({ validate: { name: "acmeCo/cap", config: {}, bindings: [binding] } });
    validate.end();
    expect(await validate.exitCode, validate.stderr.lines.join("\n")).toBe(0);
    expect(validate.stdout.json[0]).toEqual({ validated: { bindings: [{ resourcePath: ["ticks"] }] } });

    const open = serveInProcess(withInterval);
    const request = openRequest({}, ["ticks"]);
    request.open.capture.bindings[0]!.resourceConfig = resourceConfig as { name: string };
    open.send(request);
    expect(await open.exitCode, open.stderr.lines.join("\n")).toBe(0);
  });

  it("refuses at discover a resource config that its resourceConfigSchema does not declare, naming the field", async () => {
    const undeclared = defineConnector({
      documentationUrl: "https://example.com",
      config: { type: "object" },
      resources: [defineResource({ name: "ticks", key: ["/id"], schema: { type: "object" }, resourceConfig: { region: "eu" }, async *capture() {} })],
    });
    const r = serveInProcess(undeclared);
    r.send({ discover: { config: {} } });
    r.end();
    expect(await r.exitCode).toBe(1);
    expect(r.logs().at(-1)!.message).toMatch(/resource ticks: resourceConfig.region: is not a known property/);
  });

  it("refuses a resourceConfigSchema without a string name", () => {
    expect(() => defineConnector({ documentationUrl: "https://x", config: { type: "object" }, resourceConfigSchema: { type: "object", properties: { stream: { type: "string" } } }, resources: [] })).toThrow(/must declare a string property "name"/);
  });

  it("runs the connector's check at validate, with its ConfigError shown to the user", async () => {
    const checked = defineConnector({
      documentationUrl: "https://example.com",
      config: configSchema,
      resources: [],
      check(config) {
        if (config.token !== "good-token") throw new ConfigError("the API rejected the token (HTTP 401): check it is current");
      },
    });
    const r = serveInProcess(checked);
    r.send({ validate: { name: "a/b", config: { token: "bad-token" }, bindings: [] } });
    r.end();
    expect(await r.exitCode).toBe(1);
    expect(r.logs().at(-1)!.message).toBe("the API rejected the token (HTTP 401): check it is current");
  });

  it("keeps each binding's state under bindingStateV1[stateKey] as merge patches, and resumes from it", async () => {
    const r = serveInProcess(connector);
    r.send(openRequest({ token: "t0ken-value" }, ["alpha", "beta-3"], { bindingStateV1: { "beta-3": { next: 10 } } }));
    expect(await r.exitCode).toBe(0);
    const out = r.stdout.json;
    expect(out[0]).toEqual({ opened: {} });
    const alpha = out.filter((m) => "captured" in m && !("binding" in (m.captured as object))).map((m) => (m.captured as { doc: { id: number } }).doc.id);
    const beta = out.filter((m) => "captured" in m && (m.captured as { binding?: number }).binding === 1).map((m) => (m.captured as { doc: { id: number } }).doc.id);
    expect(alpha).toEqual([1, 2]);
    expect(beta).toEqual([10, 11]);
    const checkpoints = out.filter((m) => "checkpoint" in m).map((m) => (m.checkpoint as { state: unknown }).state);
    expect(checkpoints).toContainEqual({ updated: { bindingStateV1: { alpha: { next: 3 } } }, mergePatch: true });
    expect(checkpoints).toContainEqual({ updated: { bindingStateV1: { "beta-3": { next: 12 } } }, mergePatch: true });
  });

  it("uses a binding's backfill counter in its state key, so a backfill starts afresh, and removes the state of former counters", async () => {
    const r = serveInProcess(connector);
    const open = openRequest({ token: "t0ken-value" }, ["alpha"], { bindingStateV1: { alpha: { next: 50 } } });
    const b = open.open.capture.bindings[0]! as Record<string, unknown>;
    delete b.stateKey;
    b.backfill = 2;
    r.send(open);
    expect(await r.exitCode).toBe(0);
    expect(r.stdout.json[1]).toEqual({ checkpoint: { state: { updated: { bindingStateV1: { alpha: null } }, mergePatch: true } } });
    expect(r.stdout.json[2]).toEqual({ captured: { doc: { id: 1 } } });
    expect(r.stdout.json[3]).toEqual({ checkpoint: { state: { updated: { bindingStateV1: { "alpha.v2": { next: 2 } } }, mergePatch: true } } });
  });

  it("turns a replace checkpoint into a merge patch of the binding's state only", async () => {
    const replacer = defineConnector({
      documentationUrl: "https://example.com",
      config: { type: "object" },
      resources: [
        defineResource({
          name: "r",
          key: ["/id"],
          schema: { type: "object" },
          initialState: { cursor: "a", pages: { p1: true } } as { cursor: string; pages?: Record<string, boolean> },
          async *capture(ctx) {
            yield ctx.checkpoint({ cursor: "b" }, { replace: true });
          },
        }),
      ],
    });
    const r = serveInProcess(replacer);
    r.send(openRequest({}, ["r"], { bindingStateV1: { r: { cursor: "a", pages: { p1: true } }, other: { keep: 1 } } }));
    expect(await r.exitCode).toBe(0);
    expect(r.stdout.json[1]).toEqual({ checkpoint: { state: { updated: { bindingStateV1: { r: { cursor: "b", pages: null } } }, mergePatch: true } } });
  });

  it("fails open for a binding of an unknown resource", async () => {
    const r = serveInProcess(connector);
    r.send(openRequest({ token: "t0ken-value" }, ["nope"]));
    expect(await r.exitCode).toBe(1);
    expect(r.logs().at(-1)!.message).toMatch(/^bindings\[0\].resourceConfig.name: no resource named "nope"/);
    expect(r.stdout.lines).toEqual([]);
  });
});

describe("defineResource", () => {
  it("refuses a key that is not a list of JSON pointers", () => {
    expect(() => defineResource({ name: "x", key: ["id"], schema: { type: "object" }, async *capture() {} })).toThrow(/is not a JSON pointer/);
    expect(() => defineResource({ name: "x", key: [], schema: { type: "object" }, async *capture() {} })).toThrow(/needs a key/);
  });
});
