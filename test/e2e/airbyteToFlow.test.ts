// `flowcap airbyte --patches DIR` against the nine real airbyte-to-flow patch sets in
// ../shared/fixtures/flow/airbyte-to-flow (MANIFEST.md), with the closest Airbyte specs, catalogs
// and recorded records of ../shared/fixtures/airbyte, through the replay source. What
// airbyte-to-flow would answer is written out by hand from its Rust code
// (airbyte-to-flow/src/interceptors/*.rs at estuary/airbyte 1465a983e627c51f6f10a398048aafcdc21ccc84),
// so these expectations do not restate flowcap's implementation.
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { lintOAuth } from "../../src/oauth/index.js";
import { loadPatchSet, type AirbytePatchSet } from "../../src/shims/airbyte/index.js";
import { isPlainObject } from "../../src/util/mergePatch.js";
import { catalogOfShimGolden, flowcapAirbyte, INTERNAL_SPEC, reduceSession, replayConnector, tmpDir, unary, writeScenario } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { runFlowcap } from "../helpers/cli.js";
import { fixturePath, haveSharedFixtures, readFixture } from "../helpers/fixtures.js";
import { serveInProcess } from "../helpers/inProcess.js";

type Json = Record<string, unknown>;
const SETS = ["source-facebook-marketing", "source-github", "source-google-sheets", "source-hubspot", "source-linkedin-ads", "source-notion", "source-salesforce", "source-slack", "source-zendesk-support"];
const work = haveSharedFixtures ? tmpDir("airbyte-to-flow") : "";
const setDir = (name: string) => fixturePath("flow", "airbyte-to-flow", name);
const readJson = (...parts: string[]) => JSON.parse(readFixture(...parts)) as unknown;
const optionalJson = (name: string, file: string): unknown => (readdirSync(setDir(name)).includes(file) ? readJson("flow", "airbyte-to-flow", name, file) : undefined);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const AIRBYTE_KEYWORDS = ["airbyte_hidden", "always_show", "group", "groups", "pattern_descriptor", "airbyte_type", "xml"];

/** The Airbyte spec each patch set was written against: the Oct-2022 spec of the same connector. */
function airbyteSpec(name: string): Json {
  return name === "source-google-sheets" ? (parseYaml(readFixture("flow", "airbyte-to-flow", name, "airbyte_spec.yaml")) as Json) : (readJson("airbyte", "specs", "legacy-2022", `${name}.json`) as Json);
}

/** Every schema node airbyte-to-flow visits (the root, `properties`, `items`). */
function visited(schema: unknown, out: Json[] = []): Json[] {
  if (!isPlainObject(schema)) return out;
  out.push(schema);
  if (isPlainObject(schema.properties)) for (const sub of Object.values(schema.properties)) visited(sub, out);
  if (schema.items !== undefined) visited(schema.items, out);
  return out;
}

/** The JSON records of a recorded stream, by stream. */
function records(file: string): Map<string, Json[]> {
  const out = new Map<string, Json[]>();
  for (const line of readFixture("airbyte", "records", file).split("\n")) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as Json;
    const r = (m.record ?? m) as Json;
    const list = out.get(r.stream as string) ?? [];
    list.push(r.data as Json);
    out.set(r.stream as string, list);
  }
  return out;
}

/**
 * A JSON schema for a stream of records, as an Airbyte source declares one (the recorded catalogs
 * here have empty schemas): nullable types, `format: date-time` for strings that look like one,
 * `format: date` for `YYYY-MM-DD`.
 */
function schemaOf(values: unknown[]): Json {
  const present = values.filter((v) => v !== null && v !== undefined);
  const first = present[0];
  if (first === undefined) return { type: ["null", "string"] };
  if (Array.isArray(first)) return { type: ["null", "array"], items: schemaOf(present.flatMap((v) => v as unknown[])) };
  if (isPlainObject(first)) {
    const keys = [...new Set(present.flatMap((v) => Object.keys(v as Json)))];
    return { type: ["null", "object"], properties: Object.fromEntries(keys.map((k) => [k, schemaOf(present.map((v) => (v as Json)[k]))])) };
  }
  if (typeof first === "string") {
    if (present.every((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v))) return { type: ["null", "string"], format: "date" };
    if (present.every((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v))) return { type: ["null", "string"], format: "date-time" };
    return { type: ["null", "string"] };
  }
  return { type: ["null", typeof first === "number" ? (present.every(Number.isInteger) ? "integer" : "number") : "boolean"] };
}

/** The catalog a patch set is tried with, or undefined for the spec-only sets (no catalog, no records here). */
function catalogFor(name: string): { streams: Json[] } | undefined {
  switch (name) {
    case "source-hubspot":
    case "source-notion":
    case "source-zendesk-support":
      // Real schemas: the Airbyte catalog behind Estuary's Python shim's discover golden.
      return catalogOfShimGolden(readJson("flow", "shim", name, "snapshots__discover__capture.stdout.json") as never);
    case "source-facebook-marketing":
    case "source-slack":
    case "source-github": {
      const file = readdirSync(fixturePath("airbyte", "catalogs")).find((f) => f.startsWith(`${name}__`))!;
      const recorded = name === "source-github" ? new Map<string, Json[]>() : records(`${name}__expected_records.jsonl`);
      const streams = (readJson("airbyte", "catalogs", file) as { streams: Json[] }).streams.map((s) => (s.stream ?? s) as Json);
      return {
        streams: streams.map((s) => {
          const keys = ((s.source_defined_primary_key as string[][] | undefined) ?? []).map((k) => k[0]!);
          const rows = recorded.get(s.name as string) ?? [Object.fromEntries(keys.map((k) => [k, "x"]))];
          return { ...s, json_schema: { $schema: "http://json-schema.org/draft-07/schema#", ...schemaOf(rows) } };
        }),
      };
    }
    case "source-salesforce": {
      const recorded = records("source-salesforce__expected_records.jsonl");
      return { streams: [...recorded].map(([stream, rows]) => ({ name: stream, json_schema: schemaOf(rows), supported_sync_modes: ["full_refresh", "incremental"], source_defined_primary_key: [["Id"]], default_cursor_field: ["SystemModstamp"] })) };
    }
  }
  return undefined;
}

/** The patch set without its config parts: for discover and read, whose config is not what is tested. */
async function withoutConfigPatches(name: string): Promise<AirbytePatchSet> {
  const set = await loadPatchSet(setDir(name));
  return { ...set, specPatch: undefined, specMap: undefined };
}

type Binding = { recommendedName: string; resourceConfig: Json; key: string[]; documentSchema: Json; disable?: boolean };

/** Discovers the set's catalog with the patch set (its config parts left out: the config is `{}`). */
async function discover(name: string, patches?: AirbytePatchSet) {
  patches ??= await withoutConfigPatches(name);
  const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, catalog: catalogFor(name) }, `${name}-discover.json`);
  const result = await unary(replayConnector(scenario, { patches }), { discover: { connectorType: "LOCAL", config: {} } });
  return { ...result, bindings: result.code === 0 ? (result.out[1] as { discovered: { bindings: Binding[] } }).discovered.bindings : [] };
}

describe.runIf(haveSharedFixtures)("airbyte-to-flow's patch sets (--patches), against the real-world corpus", () => {
  describe.each(SETS)("%s", (name) => {
    it("spec: the config schema patched and cleaned, the patch set's oauth2 and documentation URL, and an OAuth sign-in Flow's UI can run", async () => {
      const source = airbyteSpec(name);
      const scenario = writeScenario(work, { spec: source }, `${name}-spec.json`);
      const { code, out, last } = await unary(replayConnector(scenario, { patches: setDir(name) }), INTERNAL_SPEC);
      expect(code, JSON.stringify(last)).toBe(0);
      const spec = (out[1] as { spec: Json }).spec;
      const oauth2 = optionalJson(name, "oauth2.patch.json");
      // Empty strings are Flow's defaults, which its JSON encoding leaves out.
      expect(spec.oauth2).toEqual(Object.fromEntries(Object.entries(oauth2 as Json).filter(([, v]) => v !== "")));
      expect(spec.documentationUrl).toBe((optionalJson(name, "documentation_url.patch.json") as Json).documentation_url);
      expect(spec.resourcePathPointers).toEqual(["/namespace", "/stream"]);

      // spec.patch.json is merged: what it sets is there, what it nulls is gone.
      const patch = optionalJson(name, "spec.patch.json") as Json;
      const config = spec.configSchema as Json;
      for (const [key, value] of Object.entries((patch.properties ?? {}) as Json)) {
        if (value === null) expect((config.properties as Json)[key], key).toBeUndefined();
        else expect((config.properties as Json)[key], key).toBeDefined();
      }
      if (Array.isArray(patch.required)) expect(config.required).toEqual(patch.required);
      // Airbyte's own keywords are gone from every node airbyte-to-flow visits.
      for (const node of visited(config)) for (const k of AIRBYTE_KEYWORDS) expect(node[k], k).toBeUndefined();

      // Flow's UI can sign in: a credentials schema with the provider's x-oauth2-provider, and the
      // lint finds nothing (Facebook's token URL carries the client secret: see the next test).
      const provider = (oauth2 as Json).provider;
      expect(JSON.stringify(config.properties && (config.properties as Json).credentials)).toContain(`"x-oauth2-provider":"${provider}"`);
      const errors = lintOAuth(spec as never).filter((f) => f.severity === "error");
      if (name === "source-facebook-marketing") expect(errors.map((f) => `${f.rule} ${f.path}`)).toEqual(["secret-in-url oauth2.accessTokenUrlTemplate"]);
      else expect(errors).toEqual([]);
    });

    it.runIf(catalogFor(name) !== undefined)("discover: airbyte-to-flow's names, keys, sync modes, cursors and document schemas", async () => {
      const set = await loadPatchSet(setDir(name));
      const catalog = catalogFor(name)!;
      const { code, bindings, last } = await discover(name);
      expect(code, JSON.stringify(last)).toBe(0);
      const omitted = (optionalJson(name, "omitted_streams.json") as string[] | undefined) ?? [];
      const selected = optionalJson(name, "selected_streams.json") as string[] | undefined;
      expect(bindings.map((b) => b.resourceConfig.stream)).toEqual(catalog.streams.map((s) => s.name).filter((n) => !omitted.includes(n as string)));
      for (const b of bindings) {
        const stream = catalog.streams.find((s) => s.name === b.resourceConfig.stream)!;
        const label = `${name}/${stream.name}`;
        // stream_to_recommended_name: these stream names are already valid collection names.
        expect(b.recommendedName, label).toBe(stream.name);
        const pkFile = set.keys.get(b.recommendedName) ?? set.keys.get("*");
        const sourceKey = ((stream.source_defined_primary_key as string[][] | undefined) ?? []).map((k) => `/${k.join("/")}`);
        const key = pkFile ? pkFile.map((k) => `/${k}`) : sourceKey;
        expect(b.key, label).toEqual(key.length ? key : ["/_meta/row_id"]);
        const modes = stream.supported_sync_modes as string[];
        if (key.length) {
          expect(b.resourceConfig.syncMode, label).toBe(modes.includes("incremental") ? "incremental" : "full_refresh");
          const cursor = stream.default_cursor_field as string[] | undefined;
          expect(b.resourceConfig.cursorField, label).toEqual(cursor?.length ? cursor : key.map((k) => k.slice(1)));
        }
        expect(b.disable, label).toBe(selected && !selected.includes(stream.name as string) ? true : undefined);
        // The key's properties are required and never null; no enum is left; no Airbyte keyword.
        for (const pointer of key) {
          let node: Json = b.documentSchema;
          for (const token of pointer.slice(1).split("/")) {
            if (typeof node.$ref === "string" && isPlainObject(node.$defs)) node = node.$defs[node.$ref] as Json;
            expect(node.required, `${label} ${pointer}`).toContain(token);
            node = (node.properties as Json)[token] as Json;
            expect([node.type].flat(), `${label} ${pointer}`).not.toContain("null");
          }
        }
        for (const node of visited(b.documentSchema)) {
          expect(node.enum, label).toBeUndefined();
          for (const k of AIRBYTE_KEYWORDS) expect(node[k], label).toBeUndefined();
          if (set.schemaNormalizations.includes("date-to-datetime")) expect(node.format, label).not.toBe("date");
        }
      }
    });
  });

  it("facebook-marketing: the key of ads_insights_age_and_gender is its .pk.json, and a format nulled by a .patch.json is gone", async () => {
    const { bindings } = await discover("source-facebook-marketing");
    const age = bindings.find((b) => b.recommendedName === "ads_insights_age_and_gender")!;
    // The catalog's key is [date_start, account_id, ad_id, age, gender]; the .pk.json drops age and gender.
    expect(age.key).toEqual(["/date_start", "/account_id", "/ad_id"]);
    expect(age.documentSchema.required).toEqual(["date_start", "account_id", "ad_id"]);
    expect((age.documentSchema.properties as Json).age).toEqual({ type: ["string", "null"] });
    const ads = bindings.find((b) => b.recommendedName === "ads")!;
    expect((ads.documentSchema.properties as Json).updated_time).toEqual({ type: ["null", "string"] });
    // activities is not in this catalog; its .pk.json and .patch.json are simply unused.
  });

  it("salesforce: streams/*.patch.json applies to every stream, date becomes date-time, and unselected streams are disabled", async () => {
    const { bindings } = await discover("source-salesforce");
    expect(bindings.map((b) => [b.recommendedName, b.disable ?? false])).toEqual([
      ["Account", false],
      ["ActiveFeatureLicenseMetric", true],
      ["ActivePermSetLicenseMetric", true],
    ]);
    for (const b of bindings) expect(b.documentSchema.reduce).toEqual({ strategy: "merge" });
    const account = bindings[0]!.documentSchema.properties as Json;
    expect(account.CreatedDate).toEqual({ type: ["null", "string"], format: "date-time" });
    const metric = bindings[1]!.documentSchema.properties as Json;
    expect(metric.MetricsDate).toEqual({ type: ["null", "string"], format: "date-time" });
  });

  it("zendesk-support: a .pk.json naming a property the schema lacks fails discover, naming stream and key (as airbyte-to-flow's does)", async () => {
    const set = await withoutConfigPatches("source-zendesk-support");
    const catalog = catalogFor("source-zendesk-support")!;
    catalog.streams.push({ name: "attribute_definitions", json_schema: { type: ["null", "object"], properties: { title: { type: ["null", "string"] } } }, supported_sync_modes: ["full_refresh"] });
    const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, catalog }, "zendesk-attribute-definitions.json");
    const { code, last } = await unary(replayConnector(scenario, { patches: set }), { discover: { connectorType: "LOCAL", config: {} } });
    expect(code).not.toBe(0);
    expect(last?.message).toMatch(/stream "attribute_definitions", key \/subject: the document schema has no property "subject"/);
  });

  describe("records: what airbyte-to-flow writes, with flowcap's _meta", () => {
    it.each(["source-facebook-marketing", "source-salesforce", "source-slack", "source-hubspot", "source-notion"])("%s", async (name) => {
      const patches = await withoutConfigPatches(name);
      const recorded = records(`${name}__expected_records.jsonl`);
      const { bindings: discovered } = await discover(name, patches);
      const bound = discovered.filter((b) => recorded.has(b.resourceConfig.stream as string));
      expect(bound.length).toBeGreaterThan(0);
      const bindings = bound.map((b) => ({
        resourceConfig: b.resourceConfig,
        resourcePath: [b.resourceConfig.stream as string],
        backfill: 0,
        collection: { name: `acmeCo/${b.recommendedName}`, key: b.key, writeSchema: b.documentSchema },
        stateKey: encodeURIComponent(b.resourceConfig.stream as string),
      }));
      const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { file: fixturePath("airbyte", "records", `${name}__expected_records.jsonl`) } }, `${name}-read.json`);
      const run = serveInProcess(replayConnector(scenario, { patches }));
      run.send(INTERNAL_SPEC);
      // Facebook's run_interval_minutes.json would keep the read up for an hour (see the run interval test).
      run.send({ open: { capture: { name: "acmeCo/source", connectorType: "LOCAL", config: { _atf_skip_interval: true }, bindings }, version: "v1", range: { keyEnd: 4294967295, rClockEnd: 4294967295 }, state: {} } });
      const code = await run.exitCode;
      run.end();
      expect(code, JSON.stringify(run.logs().at(-1))).toBe(0);
      const session = reduceSession(run.stdout.json);
      for (const [i, b] of bound.entries()) {
        const docs = session.docs.filter((d) => d.binding === i).map((d) => d.doc);
        const input = recorded.get(b.resourceConfig.stream as string)!;
        expect(docs.length, b.recommendedName).toBe(input.length);
        for (const [j, doc] of docs.entries()) {
          const { _meta, ...data } = doc;
          expect(_meta).toMatchObject({ op: "u" });
          // Every value the schema declares date-time is RFC 3339 now (these recordings have no
          // unreadable ones), and everything else is as the source wrote it.
          const original = structuredClone(input[j]!);
          for (const { path, value } of dateTimeValues(b.documentSchema, data)) {
            expect(value, `${b.recommendedName} ${path}`).toMatch(RFC3339);
            setAt(original, path, value);
          }
          expect(data, b.recommendedName).toEqual(original);
        }
      }
      if (name === "source-salesforce") {
        const account = session.docs.find((d) => d.binding === 0)!.doc;
        // "2021-03-12T09:23:53.000+0000" as airbyte-to-flow writes it; a date field as a date-time at midnight.
        expect(account.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        const metric = session.docs.find((d) => d.binding === 1)!.doc;
        expect(metric.MetricsDate).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
      }
      if (name === "source-facebook-marketing") {
        // ads.patch.json nulls the format of created_time: it stays as Facebook wrote it.
        const ad = session.docs.find((d) => (d.doc as Json).bid_type !== undefined)!.doc;
        expect(ad.created_time).toBe("2021-02-11T18:24:12-0800");
      }
    });
  });

  it("run_interval_minutes.json: after the read is committed the capture stays up until the interval has passed, or it is stopped, or the config skips it", async () => {
    const set = await withoutConfigPatches("source-linkedin-ads");
    expect(set.runIntervalMinutes).toBe(60);
    const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, read: { counter: { total: 2, every: 1, type: "STREAM" } } }, "interval.json");
    const binding = { resourceConfig: { stream: "numbers", syncMode: "incremental" }, resourcePath: ["numbers"], backfill: 0, collection: { name: "acmeCo/numbers", key: ["/id"], writeSchema: { type: "object" } }, stateKey: "numbers" };
    const open = (config: Json) => ({ open: { capture: { name: "acmeCo/source", connectorType: "LOCAL", config, bindings: [binding] }, version: "v1", range: { keyEnd: 4294967295, rClockEnd: 4294967295 }, state: {} } });

    const waiting = serveInProcess(replayConnector(scenario, { patches: set }));
    waiting.send(INTERNAL_SPEC);
    waiting.send(open({}));
    // Wait on the event (the log line that says it waits), not on a clock.
    await expect.poll(() => waiting.logs().some((l) => /^waiting \d+ s before exiting, so that reads start at most every 60 minute/.test(l.message)), { timeout: 60_000, interval: 50 }).toBe(true);
    const committed = reduceSession(waiting.stdout.json);
    expect(committed.docs).toHaveLength(2);
    expect(committed.uncommitted).toBe(0);
    const settled = await Promise.race([waiting.exitCode.then(() => "exited"), new Promise((r) => setTimeout(() => r("still up"), 300))]);
    expect(settled).toBe("still up");
    waiting.end(); // Flow closes stdin to stop it: the wait ends at once.
    expect(await waiting.exitCode).toBe(0);

    const skipping = serveInProcess(replayConnector(scenario, { patches: set }));
    skipping.send(INTERNAL_SPEC);
    skipping.send(open({ _atf_skip_interval: true }));
    expect(await skipping.exitCode).toBe(0);
    skipping.end();
    expect(skipping.logs().some((l) => l.message.includes("_atf_skip_interval"))).toBe(true);
  });

  it("the CLI: `flowcap airbyte --patches` answers spec from the folder, and `flowcap oauth lint` passes once spec.patch.json waives Facebook's secret in the token URL", async () => {
    // The patch set as a team would keep it, plus the waiver its spec.patch.json gains.
    const dir = path.join(work, "facebook-patches");
    cpSync(setDir("source-facebook-marketing"), dir, { recursive: true });
    const scenario = writeScenario(work, { spec: airbyteSpec("source-facebook-marketing") }, "fb-cli.json");
    const specOf = async () => {
      const run = spawnConnector(flowcapAirbyte(["--patches", dir]), { env: { REPLAY_SCENARIO: scenario } });
      run.send(INTERNAL_SPEC);
      run.end();
      const { code } = await run.exit;
      expect(code, JSON.stringify(run.logs().at(-1))).toBe(0);
      const file = path.join(work, "fb-spec.json");
      writeFileSync(file, JSON.stringify(run.stdout.json[0]));
      return file;
    };
    const before = await runFlowcap(["oauth", "lint", "--spec", await specOf()]);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/error\s+secret-in-url\s+oauth2.accessTokenUrlTemplate/);

    const patch = JSON.parse(readFileSync(path.join(dir, "spec.patch.json"), "utf8")) as Json;
    const reason = "graph.facebook.com's token endpoint takes client_id and client_secret as query parameters (Meta's documented flow)";
    patch["x-flowcap-lint-waivers"] = [{ rule: "secret-in-url", path: "oauth2.accessTokenUrlTemplate", reason }];
    writeFileSync(path.join(dir, "spec.patch.json"), JSON.stringify(patch));
    const after = await runFlowcap(["oauth", "lint", "--spec", await specOf()]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toContain(`waived  secret-in-url`);
    expect(after.stdout).toContain(`(waived error: ${reason})`);
    expect(after.stdout).toMatch(/OAuth looks right \(1 finding\(s\) waived by the spec\)/);
  });

  it("config: spec.map.json moves Flow's config into the source's shape (facebook: credentials.access_token → access_token)", async () => {
    const set = await withoutConfigPatches("source-facebook-marketing");
    const log = path.join(work, "fb-config.log");
    const scenario = writeScenario(work, { spec: { connectionSpecification: { type: "object" } }, catalog: { streams: [] }, log }, "fb-config.json");
    const { code } = await unary(replayConnector(scenario, { patches: { ...set, specMap: (await loadPatchSet(setDir("source-facebook-marketing"))).specMap } }), {
      discover: { connectorType: "LOCAL", config: { account_id: "1", credentials: { access_token: "tok" } } },
    });
    expect(code).toBe(0);
    const calls = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Json);
    expect(calls.find((c) => c.command === "discover")!.config).toEqual({ account_id: "1", credentials: {}, access_token: "tok" });
  });
});

/** The values at the schema's date-time paths (`*` = every array item), with their concrete paths. */
function dateTimeValues(schema: unknown, doc: unknown): { path: (string | number)[]; value: unknown }[] {
  const out: { path: (string | number)[]; value: unknown }[] = [];
  const walk = (s: unknown, d: unknown, at: (string | number)[]) => {
    if (!isPlainObject(s)) return;
    if (s.format === "date-time" && at.length && d !== undefined && d !== null) out.push({ path: at, value: d });
    if (isPlainObject(s.properties) && isPlainObject(d)) for (const [k, sub] of Object.entries(s.properties)) walk(sub, d[k], [...at, k]);
    if (s.items !== undefined && Array.isArray(d)) d.forEach((item, i) => walk(s.items, item, [...at, i]));
  };
  walk(schema, doc, []);
  return out;
}

function setAt(doc: unknown, path: (string | number)[], value: unknown): void {
  let cur = doc as Record<string | number, unknown>;
  for (const t of path.slice(0, -1)) cur = cur[t] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
}
