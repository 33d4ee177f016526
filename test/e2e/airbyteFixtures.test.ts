// The Airbyte shim against the real-world corpus in ../shared/fixtures (MANIFEST.md), through the
// replay source: a Python process that plays each fixture as an Airbyte source would. The shim
// runs in this process (serve() on in-memory streams) and spawns the replay source per command.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import draft07 from "ajv/dist/refs/json-schema-draft-07.json" with { type: "json" };
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { createSchemaCompiler } from "../../src/protocol/index.js";
import { checkWithSchema } from "../../src/sdk/index.js";
import { RESOURCE_CONFIG_SCHEMA } from "../../src/shims/airbyte/index.js";
import { parsePointer } from "../../src/util/jsonPointer.js";
import { airbyteBinding, catalogOfShimGolden, INTERNAL_SPEC, openRequest, reduceSession, replayConnector, tmpDir, unary, writeScenario } from "../helpers/airbyte.js";
import { fixturePath, haveSharedFixtures, readFixture } from "../helpers/fixtures.js";
import { serveInProcess } from "../helpers/inProcess.js";

/** Flow's collection name grammar: tokens of letters, digits, `-_.`, separated by `/`. */
const FLOW_NAME = /^[\p{L}\p{N}\-_.]+(\/[\p{L}\p{N}\-_.]+)*$/u;
const SHIM_CONNECTORS = ["source-airtable", "source-asana", "source-google-ads", "source-hubspot", "source-notion", "source-zendesk-support"];

type Json = Record<string, unknown>;
const work = haveSharedFixtures ? tmpDir("airbyte-fixtures") : "";

function readJson(...parts: string[]): unknown {
  return JSON.parse(readFixture(...parts));
}

/** An AirbyteCatalog from a fixture that may be a configured catalog. */
function asCatalog(catalog: { streams: Json[] }): { streams: Json[] } {
  return { streams: catalog.streams.map((s) => (s.stream && s.sync_mode !== undefined ? (s.stream as Json) : s)) };
}

/** The rule by which a `_meta.op: "d"` document deletes its row, as Estuary's shims write it. */
const DELETION_RULE = {
  if: { required: ["_meta"], properties: { _meta: { required: ["op"], properties: { op: { const: "d" } } } } },
  then: { reduce: { strategy: "merge", delete: true } },
};

/**
 * A golden document schema as flowcap writes it. The estuary-cdk Airbyte shim adds to every
 * binding (airtable, asana, google-ads and notion were snapshotted with it; hubspot and
 * zendesk-support before it) `x-infer-schema: true`, a per-connector switch of Estuary's for its
 * UI's schema inference, which flowcap does not; and the deletion rule on streams with a key of
 * their own, which flowcap adds to full-refresh streams only (a complete refresh deletes the
 * keys it no longer has; incremental streams never delete), with their root `required` reduced
 * to the key's properties (the rest under `else`), so a deletion carrying only its key is valid.
 * The golden's rule is removed only where it is exactly that rule.
 */
function withoutEstuaryAdditions(schema: Json, key: string[], syncMode: unknown): Json {
  const { "x-infer-schema": _infer, if: ifRule, then: thenRule, ...rest } = schema;
  void _infer;
  const keyedRule = key[0] !== "/_meta/row_id" && JSON.stringify({ if: ifRule, then: thenRule }) === JSON.stringify(DELETION_RULE);
  if (!keyedRule && ifRule !== undefined) return { ...rest, if: ifRule, then: thenRule };
  if (key[0] === "/_meta/row_id" || syncMode !== "full_refresh") return rest;
  const keys = key.map((p) => parsePointer(p)).filter((t) => t.length === 1).map((t) => t[0]!);
  const { required, ...others } = rest;
  const rest_required = (Array.isArray(required) ? (required as string[]) : []).filter((r) => !keys.includes(r));
  return { ...others, ...(keys.length ? { required: keys } : {}), ...DELETION_RULE, ...(rest_required.length ? { else: { required: rest_required } } : {}) };
}

type Bound = ReturnType<typeof airbyteBinding>;
const streamOf = (b: Bound) => b.resourceConfig.stream as string;

/**
 * What a source's STATE messages leave each binding, by the Airbyte protocol: the stream_state
 * of the last STREAM state naming the stream (or of the last GLOBAL one), or the stream's entry
 * in the last LEGACY blob; and the blob's other entries, which no stream owns.
 */
function lastStateOfEachStream(states: Json[], bindings: Bound[]) {
  const streams: Record<string, unknown> = {};
  let legacyRest: Json | undefined;
  for (const state of states) {
    const type = state.type ?? (state.stream ? "STREAM" : state.global ? "GLOBAL" : "LEGACY");
    const entries = type === "STREAM" ? [state.stream as Json] : type === "GLOBAL" ? ((state.global as Json).stream_states as Json[]) : [];
    for (const e of entries) streams[((e.stream_descriptor as Json).name as string)] = e.stream_state;
    if (type === "LEGACY") {
      const data = state.data as Json;
      for (const b of bindings) streams[streamOf(b)] = data[streamOf(b)];
      legacyRest = Object.fromEntries(Object.entries(data).filter(([k]) => !bindings.some((b) => streamOf(b) === k)));
    }
  }
  return { streams: Object.fromEntries(bindings.map((b) => [streamOf(b), streams[streamOf(b)] ?? null])), legacyRest: legacyRest && Object.keys(legacyRest).length ? legacyRest : null };
}

/** The same, as Flow's state holds it after a read (see AirbyteStateKeeper). */
function keptStates(state: Json, bindings: Bound[]) {
  const slots = (state.bindingStateV1 ?? {}) as Record<string, Json>;
  const streams = Object.fromEntries(bindings.map((b) => [streamOf(b), slots[b.stateKey]?.stream ?? slots[b.stateKey]?.legacy ?? null]));
  return { streams, legacyRest: ((state.airbyte as Json | undefined)?.legacy as Json | undefined) ?? null };
}

/** Runs a capture session in-process to its end; returns the exit code and the reduced session. */
async function capture(scenario: string, bindings: ReturnType<typeof airbyteBinding>[], state: Json = {}, config: Json = {}) {
  const run = serveInProcess(replayConnector(scenario));
  run.send(INTERNAL_SPEC);
  run.send(openRequest(config, bindings, state));
  const code = await run.exitCode;
  run.end();
  return { code, run, session: code === 0 ? reduceSession(run.stdout.json, state) : undefined, logs: run.logs() };
}

describe.runIf(haveSharedFixtures)("the Airbyte shim over the real-world corpus", () => {
  describe("every spec in airbyte/specs gives a valid Flow spec whose configSchema compiles", () => {
    const files = [
      ...readdirSync(fixturePath("airbyte", "specs")).filter((f) => f.endsWith(".json")),
      ...readdirSync(fixturePath("airbyte", "specs", "legacy-2022")).map((f) => `legacy-2022/${f}`),
    ];
    const derived = new Set<string>();
    it.each(files)("%s", async (file) => {
      const airbyte = readJson("airbyte", "specs", file) as Json;
      const { code, out, logs } = await unary(replayConnector(writeScenario(work, { spec: airbyte }, `spec-${path.basename(file)}`)), INTERNAL_SPEC);
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      expect(out).toHaveLength(2);
      const spec = (out[1] as { spec: Json }).spec;
      expect(spec.protocol).toBe(3032023);
      expect(spec.configSchema).toEqual(airbyte.connectionSpecification);
      expect(spec.resourceConfigSchema).toEqual(RESOURCE_CONFIG_SCHEMA);
      expect(spec.resourcePathPointers).toEqual(["/namespace", "/stream"]);
      expect(spec.documentationUrl).toBe(airbyte.documentationUrl ?? "https://docs.airbyte.com/integrations/");
      const ajv = createSchemaCompiler();
      // Many specs name draft 07 by its https URI, which ajv knows only as http.
      ajv.addMetaSchema({ ...draft07, $id: "https://json-schema.org/draft-07/schema" });
      expect(() => ajv.compile(spec.configSchema as object)).not.toThrow();
      // OAuth: derived when the source's declarative OAuth allows it, otherwise a log line says why.
      const declares = airbyte.advanced_auth !== undefined || airbyte.authSpecification !== undefined;
      if (spec.oauth2) {
        derived.add(file);
        const oauth2 = spec.oauth2 as Json;
        expect(oauth2.authUrlTemplate).toMatch(/^https:\/\//);
        expect(oauth2.authUrlTemplate).toContain("{{{ state }}}");
        expect(Object.keys(oauth2.accessTokenResponseMap as Json).length).toBeGreaterThan(0);
      } else if (declares) {
        expect(logs.some((l) => l.message.startsWith("no oauth2 in the spec: "))).toBe(true);
      }
    });

    it("derived oauth2 exactly where the declarative OAuth maps soundly onto Flow's", () => {
      // ticktick is declarative too, but puts its token under `authorization`, not `credentials`.
      expect([...derived].sort()).toEqual(["source-microsoft-sharepoint.json", "source-zendesk-support.json"]);
    });
  });

  describe("the six connectors of Estuary's Python shim: spec and discover equal Estuary's goldens", () => {
    it.each(SHIM_CONNECTORS)("%s", async (name) => {
      const dir = path.join("flow", "shim", name);
      const airbyteSpec = (readdirSync(fixturePath(dir)).includes("airbyte_spec.json") ? readJson(dir, "airbyte_spec.json") : parseYaml(readFixture(dir, "airbyte_spec.yaml"))) as Json;
      const goldenSpec = (readJson(dir, "snapshots__spec__capture.stdout.json") as Json[])[0]!;
      const golden = readJson(dir, "snapshots__discover__capture.stdout.json") as { recommendedName: string; resourceConfig: Json; key: string[]; documentSchema: Json }[];

      const catalog = catalogOfShimGolden(golden);
      const scenario = writeScenario(work, { spec: airbyteSpec, catalog }, `${name}.json`);

      // With Estuary's oauth2 given (Estuary's shim takes it from the connector's code), the whole spec is Estuary's.
      const withOAuth = await unary(replayConnector(scenario, { oauth2: goldenSpec.oauth2 as never }), INTERNAL_SPEC);
      expect(withOAuth.code).toBe(0);
      expect((withOAuth.out[1] as { spec: Json }).spec).toEqual(goldenSpec);
      // Without it, the spec's advanced_auth is not declarative, and a log line says so.
      const without = await unary(replayConnector(scenario), INTERNAL_SPEC);
      expect((without.out[1] as { spec: Json }).spec.oauth2).toBeUndefined();
      expect(without.logs.some((l) => /^no oauth2 in the spec: the source's advanced_auth does not name the provider's endpoints/.test(l.message))).toBe(true);

      // Discover with a spec any config fits: the shim checks the config against the spec first.
      const discoverScenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, catalog }, `${name}-discover.json`);
      const discovered = await unary(replayConnector(discoverScenario), { discover: { connectorType: "LOCAL", config: {} } });
      expect(discovered.code, JSON.stringify(discovered.last)).toBe(0);
      const bindings = (discovered.out[1] as { discovered: { bindings: { recommendedName: string; resourceConfig: Json; key: string[]; documentSchema: Json }[] } }).discovered.bindings;
      expect(bindings.map((b) => ({ recommendedName: b.recommendedName, resourceConfig: b.resourceConfig, key: b.key }))).toEqual(
        golden.map((b) => ({ recommendedName: b.recommendedName, resourceConfig: b.resourceConfig, key: b.key })),
      );
      // And the document schemas, where the golden has one: equal, but for what the later
      // estuary-cdk shim adds to every binding of four of the six, and the deletion rule of
      // keyed full-refresh streams (see withoutEstuaryAdditions).
      for (const [i, b] of golden.entries()) {
        if (b.documentSchema !== undefined) expect(bindings[i]!.documentSchema, b.recommendedName).toEqual(withoutEstuaryAdditions(b.documentSchema, b.key, b.resourceConfig.syncMode));
      }
    });
  });

  describe("every catalog in airbyte/catalogs gives valid bindings", () => {
    const files = readdirSync(fixturePath("airbyte", "catalogs"));
    it.each(files)("%s", async (file) => {
      const catalog = asCatalog(readJson("airbyte", "catalogs", file) as { streams: Json[] });
      const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, catalog }, `catalog-${file}`);
      const { code, out, logs } = await unary(replayConnector(scenario), { discover: { connectorType: "LOCAL", config: {} } });
      // The runtime checks the response against Flow's schema before writing it: a code of 0 means it is valid.
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      const bindings = (out[1] as { discovered: { bindings: { recommendedName: string; resourceConfig: Json; key: string[]; documentSchema: Json; resourcePath: string[] }[] } }).discovered.bindings;
      const leftOut = logs.filter((l) => l.level === "warn" && l.message.startsWith("leaving out stream"));
      expect(bindings.length + leftOut.length).toBe(catalog.streams.length);
      const names = new Set<string>();
      for (const [i, b] of bindings.entries()) {
        const stream = catalog.streams.find((s) => s.name === b.resourceConfig.stream && (s.namespace ?? undefined) === b.resourceConfig.namespace)!;
        expect(stream, b.recommendedName).toBeDefined();
        expect(b.recommendedName).toMatch(FLOW_NAME);
        expect(names.has(b.recommendedName)).toBe(false);
        names.add(b.recommendedName);
        expect(checkWithSchema(RESOURCE_CONFIG_SCHEMA, b.resourceConfig, `bindings[${i}]`)).toEqual([]);
        expect(b.key.length).toBeGreaterThan(0);
        for (const pointer of b.key) expect(pointer).toMatch(/^(\/([^~/]|~[01])*)+$/);
        const pk = stream.source_defined_primary_key as unknown[] | undefined;
        if (pk?.length) expect(b.key.map((p) => parsePointer(p))).toEqual(pk.map((c) => (typeof c === "string" ? [c] : c)));
        else expect(b.key).toEqual(["/_meta/row_id"]);
        expect((b.documentSchema.properties as Json)._meta).toMatchObject({ properties: { row_id: { type: "integer" } }, required: ["row_id"] });
        expect(b.resourcePath).toEqual(b.resourceConfig.namespace ? [b.resourceConfig.namespace, b.resourceConfig.stream] : [b.resourceConfig.stream]);
        const cursor = stream.default_cursor_field as string | string[] | undefined;
        if (cursor?.length) expect(b.resourceConfig.cursorField).toEqual(typeof cursor === "string" ? [cursor] : cursor);
      }
    });
  });

  describe("every record stream in airbyte/records is captured: each RECORD exactly once, each STATE checkpointed and kept", () => {
    const files = readdirSync(fixturePath("airbyte", "records"));
    it.each(files)("%s", async (file) => {
      const lines = readFixture("airbyte", "records", file)
        .split("\n")
        .filter((l) => l.trim());
      const expected: { stream: string; namespace?: string; data: Json }[] = [];
      let states = 0;
      const lastStates: Json[] = [];
      for (const line of lines) {
        let m: Json;
        try {
          m = JSON.parse(line) as Json;
        } catch {
          continue; // a comment in the fixture: the source's log output
        }
        if (m.type === "STATE") {
          states++;
          lastStates.push(m.state as Json);
        }
        const record = (m.type === "RECORD" ? m.record : m.type === undefined && "stream" in m ? m : undefined) as { stream: string; namespace?: string; data: Json } | undefined;
        if (record) expected.push(record);
      }
      const streams = [...new Map(expected.map((r) => [`${r.namespace ?? ""}/${r.stream}`, r])).values()];
      const bindings = streams.map((r) => airbyteBinding(r.stream, { namespace: r.namespace || undefined }));
      const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { file: fixturePath("airbyte", "records", file) } }, `records-${file}.json`);
      const { code, session, logs } = await capture(scenario, bindings);
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      expect(session!.uncommitted).toBe(0);
      expect(session!.checkpoints).toBe(states + 1); // one per STATE, and the final one
      expect(keptStates(session!.state, bindings)).toEqual(lastStateOfEachStream(lastStates, bindings));
      expect(session!.docs).toHaveLength(expected.length);
      const nextRow = new Map<number, number>();
      session!.docs.forEach(({ binding, doc }, i) => {
        const want = expected[i]!;
        const b = bindings[binding]!;
        expect(b.resourceConfig.stream).toBe(want.stream);
        const { _meta, ...data } = doc;
        expect(data).toEqual(want.data);
        expect(_meta).toEqual({ op: "u", row_id: nextRow.get(binding) ?? 0 });
        nextRow.set(binding, (nextRow.get(binding) ?? 0) + 1);
      });
    });

    it("passes integers beyond 2^53 through to Flow byte for byte", async () => {
      const file = fixturePath("airbyte", "records", "source-convex__expected_records.jsonl");
      const big = /"_ts": (\d{17,})/.exec(readFileSync(file, "utf8"))![1]!;
      const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { file } }, "records-big.json");
      const { code, run } = await capture(scenario, [airbyteBinding("users"), airbyteBinding("messages")]);
      expect(code).toBe(0);
      expect(run.stdout.lines.some((l) => l.includes(`"_ts": ${big}`))).toBe(true);
      expect(String(JSON.parse(big))).not.toBe(big); // JSON.parse would have rounded it
    });
  });

  describe("every state in airbyte/states round-trips through Flow's state to the next read", () => {
    const files = readdirSync(fixturePath("airbyte", "states"));
    it.each(files)("%s", async (file) => {
      const given = readJson("airbyte", "states", file);
      const messages: Json[] = Array.isArray(given) ? (given as Json[]) : [{ data: given }];
      const descriptors: { name: string; namespace?: string }[] = Array.isArray(given)
        ? (given as Json[]).flatMap((m) => (m.type === "GLOBAL" ? ((m.global as Json).stream_states as Json[]).map((s) => s.stream_descriptor) : [(m.stream as Json).stream_descriptor])) as { name: string; namespace?: string }[]
        : Array.isArray((given as Json).streams)
          ? ((given as Json).streams as Json[]).map((s) => ({ name: s.stream_name as string }))
          : Object.keys(given as Json).map((name) => ({ name }));
      const bindings = descriptors.map((d) => airbyteBinding(d.name, { namespace: d.namespace ?? undefined }));
      const stream = path.join(work, `states-${file}.jsonl`);
      writeFileSync(stream, messages.map((m) => JSON.stringify({ type: "STATE", state: m })).join("\n") + "\n");
      const first = await capture(writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { file: stream } }, `states-${file}`), bindings);
      expect(first.code, JSON.stringify(first.logs.at(-1))).toBe(0);
      expect(first.session!.checkpoints).toBe(messages.length + 1);

      // The next read is given back what the source wrote, in the form it wrote it.
      const log = path.join(work, `states-${file}.log.jsonl`);
      const empty = path.join(work, "empty.jsonl");
      writeFileSync(empty, "");
      const second = await capture(writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { file: empty }, log }, `states2-${file}`), bindings, first.session!.state);
      expect(second.code).toBe(0);
      const reads = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { command: string; state?: unknown });
      const handed = reads.find((r) => r.command === "read")!.state;
      const sortByStream = (list: Json[]) => [...list].sort((a, b) => JSON.stringify((a.stream as Json)?.stream_descriptor).localeCompare(JSON.stringify((b.stream as Json)?.stream_descriptor)));
      if (!Array.isArray(given)) expect(handed).toEqual(given);
      else if ((given as Json[])[0]!.type === "GLOBAL") expect(handed).toEqual(given);
      else expect(sortByStream(handed as Json[])).toEqual(sortByStream(given as Json[]));
    });
  });
});
