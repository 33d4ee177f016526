// The Singer shim against the real-world corpus in ../shared/fixtures (MANIFEST.md), through the
// replay tap: a Python process that plays each fixture as a Singer tap would. The shim runs in
// this process (serve() on in-memory streams) and spawns the replay tap per command.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createSchemaCompiler } from "../../src/protocol/index.js";
import { describe, expect, it } from "vitest";
import { checkWithSchema } from "../../src/sdk/index.js";
import { RESOURCE_CONFIG_SCHEMA } from "../../src/shims/singer/index.js";
import { escapePointerToken, parsePointer } from "../../src/util/jsonPointer.js";
import { INTERNAL_SPEC, openRequest, reduceSession, tmpDir, unary, writeScenario } from "../helpers/airbyte.js";
import { fixturePath, haveSharedFixtures, readFixture } from "../helpers/fixtures.js";
import { serveInProcess } from "../helpers/inProcess.js";
import { reduceCollection, replayTap, singerBinding } from "../helpers/singer.js";

type Json = Record<string, unknown>;
/** Flow's collection name grammar: tokens of letters, digits, `-_.`, separated by `/`. */
const FLOW_NAME = /^[\p{L}\p{N}\-_.]+(\/[\p{L}\p{N}\-_.]+)*$/u;
const ROW_ID = "/_meta/row_id";
const work = haveSharedFixtures ? tmpDir("singer-fixtures") : "";

/** Runs one capture session in-process to its end; returns the exit code and the reduced session. */
async function capture(scenario: string, bindings: ReturnType<typeof singerBinding>[], state: Json = {}, options: Parameters<typeof replayTap>[1] = {}) {
  const run = serveInProcess(replayTap(scenario, options));
  run.send(INTERNAL_SPEC);
  run.send(openRequest({}, bindings, state));
  const code = await run.exitCode;
  run.end();
  return { code, run, session: code === 0 ? reduceSession(run.stdout.json, state) : undefined, logs: run.logs() };
}

interface Message {
  type: string;
  stream?: string;
  record?: Json;
  version?: number;
  key_properties?: string[];
  schema?: Json;
  value?: unknown;
}

/** A fixture's lines as a tap writes them: a file that is one pretty-printed message becomes one line. */
function fixtureLines(file: string): string[] {
  const text = readFixture("singer", "streams", file);
  try {
    return [JSON.stringify(JSON.parse(text))];
  } catch {
    return text.split("\n").filter((l) => l.trim());
  }
}

/** A record that deletes its row: `_sdc_deleted_at` set, in a keyed stream that declares it. */
function isSoftDeletion(stream: { keys: string[]; softDeletes: boolean }, m: Message): boolean {
  return stream.keys.length > 0 && stream.softDeletes && m.record!._sdc_deleted_at != null;
}

/** What a Singer target makes of a stream file: the streams, their keys, records and final tables. */
function expectations(lines: string[]) {
  const messages: Message[] = [];
  let nonJson = 0;
  for (const line of lines) {
    try {
      const m = JSON.parse(line) as Message;
      messages.push({ ...m, type: String(m.type).toUpperCase() });
    } catch {
      nonJson++;
    }
  }
  const streams = new Map<string, { keys: string[]; schema?: Json; activated: boolean; softDeletes: boolean; records: Message[] }>();
  const get = (s: string) => streams.get(s) ?? (streams.set(s, { keys: [], activated: false, softDeletes: false, records: [] }), streams.get(s)!);
  for (const m of messages) {
    if (!m.stream) continue;
    const s = get(m.stream);
    if (m.type === "SCHEMA") {
      s.schema ??= m.schema;
      if (m.key_properties?.length) s.keys = m.key_properties;
      if ((m.schema as { properties?: Json } | undefined)?.properties?._sdc_deleted_at !== undefined) s.softDeletes = true;
    } else if (m.type === "RECORD") s.records.push(m);
    else if (m.type === "ACTIVATE_VERSION") s.activated = true;
  }
  // The final table of each stream, as a target that hard-deletes keeps it: at an activation of
  // version V, rows of earlier versions go; a record whose _sdc_deleted_at is set (log-based
  // replication's deletion, in a keyed stream that declares the property) deletes its row.
  const tables = new Map<string, Map<string, Json>>();
  for (const [name, s] of streams) {
    const table = new Map<string, { record: Json; version?: number }>();
    let refresh: Message[] = [];
    let lastVersion: number | undefined;
    for (const m of messages.filter((x) => x.stream === name)) {
      if (m.type === "RECORD") {
        const key = JSON.stringify(s.keys.map((k) => m.record![k]));
        if (s.keys.length && isSoftDeletion(s, m)) table.delete(key);
        else if (s.keys.length) table.set(key, { record: m.record!, version: m.version });
        else {
          if (m.version !== undefined && m.version !== lastVersion) refresh = [];
          lastVersion = m.version ?? lastVersion;
          refresh.push(m);
        }
      } else if (m.type === "ACTIVATE_VERSION") {
        for (const [k, row] of table) if (row.version !== undefined && row.version < m.version!) table.delete(k);
      }
    }
    tables.set(name, s.keys.length ? new Map([...table].map(([k, v]) => [k, v.record])) : new Map(refresh.map((m, i) => [JSON.stringify([i]), m.record!])));
  }
  return { messages, streams, tables, nonJson, states: messages.filter((m) => m.type === "STATE").length };
}

/** How many SCHEMA messages of the lines change their stream's schema (the first one of a stream included). */
function schemaChanges(lines: string[]): number {
  const last = new Map<string, string>();
  let changes = 0;
  for (const m of expectations(lines).messages) {
    if (m.type !== "SCHEMA" || !m.stream || typeof m.schema !== "object" || m.schema === null) continue;
    const schema = JSON.stringify(m.schema);
    if (last.get(m.stream) !== schema) changes++;
    last.set(m.stream, schema);
  }
  return changes;
}

function catalogOf(streams: ReturnType<typeof expectations>["streams"]) {
  return { streams: [...streams].map(([name, s]) => ({ tap_stream_id: name, stream: name, schema: s.schema ?? { type: "object" }, key_properties: s.keys, metadata: [] })) };
}

describe.runIf(haveSharedFixtures)("the Singer shim over the real-world corpus", () => {
  describe("every stream in singer/streams: each RECORD captured exactly once, each STATE checkpointed, ACTIVATE_VERSION deleting older versions", () => {
    const files = readdirSync(fixturePath("singer", "streams"));
    it.each(files)("%s", async (file) => {
      const lines = fixtureLines(file);
      const { streams, tables, states, nonJson } = expectations(lines);
      const played = path.join(work, `${file}.jsonl`);
      writeFileSync(played, lines.join("\n") + "\n");
      const names = [...streams.keys()];
      const bindings = names.map((name) => {
        const s = streams.get(name)!;
        return singerBinding(name, { key: s.keys.length ? s.keys.map((k) => "/" + escapePointerToken(k)) : [ROW_ID], replication_method: s.activated ? "FULL_TABLE" : undefined });
      });
      const scenario = writeScenario(work, { catalog: catalogOf(streams), sync: { file: played } }, `stream-${file}.json`);
      const { code, session, logs, run } = await capture(scenario, bindings, {}, { sourcedSchemas: true });
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      expect(session!.uncommitted).toBe(0);
      expect(session!.checkpoints).toBe(states + 1); // one per STATE, and the final one

      // Every RECORD, once, in order, with its row id; log-based deletions among them as "d".
      // (The other deletions, of ACTIVATE_VERSION, carry only the key.)
      const upserts = session!.docs.filter((d) => (d.doc._meta as Json).op !== "d" || d.doc._sdc_deleted_at != null);
      const expected = names.flatMap((name, binding) => streams.get(name)!.records.map((m) => ({ binding, record: m.record! })));
      expect(upserts).toHaveLength(expected.length);
      const inOrder = lines.flatMap((l) => {
        try {
          const m = JSON.parse(l) as Message;
          return String(m.type).toUpperCase() === "RECORD" ? [{ binding: names.indexOf(m.stream!), record: m.record!, op: isSoftDeletion(streams.get(m.stream!)!, m) ? "d" : "u" }] : [];
        } catch {
          return [];
        }
      });
      upserts.forEach(({ binding, doc }, i) => {
        const { _meta, ...data } = doc;
        const { op, ...where } = inOrder[i]!;
        expect({ binding, record: data }).toEqual(where);
        expect(_meta).toMatchObject({ op });
      });

      // The collections, once Flow reduces them, are the tables a hard-deleting target keeps.
      for (const [i, name] of names.entries()) {
        const docs = session!.docs.filter((d) => d.binding === i).map((d) => d.doc);
        const reduced = reduceCollection(docs, bindings[i]!.collection.key);
        const got = [...reduced.values()].map(({ _meta, ...data }) => data);
        expect(got, name).toEqual([...tables.get(name)!.values()]);
      }
      // Non-JSON lines are the tap's output: logged, never lost silently.
      expect(logs.filter((l) => l.fields.stream === "stdout")).toHaveLength(nonJson);
      // A sourcedSchema for each SCHEMA of a bound stream that differs from the stream's last one
      // (a repeated SCHEMA is written once), for every stream that has one.
      const sourced = run.stdout.json.filter((m) => "sourcedSchema" in m);
      expect(sourced).toHaveLength(schemaChanges(lines));
      expect(new Set(sourced.map((m) => (m.sourcedSchema as Json).binding ?? 0)).size).toBe(names.filter((n) => streams.get(n)!.schema).length);
    });

    it("plays a pretty-printed SCHEMA line by line as the tap's output (logged), not as a message", async () => {
      const file = fixturePath("singer", "streams", "airbyte-platform__stripe_schema_message.json");
      const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).length;
      const scenario = writeScenario(work, { catalog: { streams: [{ tap_stream_id: "customers", schema: {} }] }, sync: { file } }, "stripe-raw.json");
      const { code, session, logs } = await capture(scenario, [singerBinding("customers")]);
      expect(code).toBe(0);
      expect(session!.docs).toEqual([]);
      expect(logs.filter((l) => l.fields.stream === "stdout")).toHaveLength(lines);
    });

    it("passes integers beyond 2^53 through to Flow byte for byte", async () => {
      const file = "target-postgres__large_int.singer";
      const digits = "99999999999999999";
      expect(readFixture("singer", "streams", file)).toContain(`"id": ${digits}`);
      expect(String(JSON.parse(digits))).not.toBe(digits); // JSON.parse would round it
      const scenario = writeScenario(work, { catalog: catalogOf(expectations(fixtureLines(file)).streams), sync: { file: fixturePath("singer", "streams", file) } }, "big-int.json");
      const { code, run } = await capture(scenario, [singerBinding("test_large_int")]);
      expect(code).toBe(0);
      expect(run.stdout.lines).toContain(`{"captured":{"doc":{"id": ${digits}, "name": "Yannis","_meta":{"op":"u","row_id":0}}}}`);
    });
  });

  describe("every catalog in singer/catalogs gives valid bindings, and a sync catalog that selects exactly the bound streams", () => {
    const files = readdirSync(fixturePath("singer", "catalogs"));
    it.each(files)("%s", async (file) => {
      const catalog = JSON.parse(readFixture("singer", "catalogs", file)) as { streams: Json[] };
      const scenario = writeScenario(work, { catalog }, `catalog-${file}`);
      const { code, out, logs } = await unary(replayTap(scenario), { discover: { connectorType: "LOCAL", config: {} } });
      // The runtime checks the response against Flow's schema before writing it: a code of 0 means it is valid.
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      const bindings = (out[1] as { discovered: { bindings: { recommendedName: string; resourceConfig: Json; key: string[]; documentSchema: Json; resourcePath: string[] }[] } }).discovered.bindings;
      expect(bindings).toHaveLength(catalog.streams.length);
      const names = new Set<string>();
      for (const [i, b] of bindings.entries()) {
        const entry = catalog.streams[i]!;
        const id = (entry.tap_stream_id ?? entry.stream) as string;
        const root = Object.assign({}, ...((entry.metadata as { breadcrumb: unknown[]; metadata: Json }[] | undefined) ?? []).filter((m) => m.breadcrumb.length === 0).map((m) => m.metadata)) as Json;
        expect(b.resourceConfig.stream).toBe(id);
        expect(b.resourcePath).toEqual([id]);
        expect(b.recommendedName).toMatch(FLOW_NAME);
        expect(names.has(b.recommendedName)).toBe(false);
        names.add(b.recommendedName);
        expect(checkWithSchema(RESOURCE_CONFIG_SCHEMA, b.resourceConfig, `bindings[${i}]`)).toEqual([]);
        const keys = ((entry.key_properties as string[] | undefined)?.length ? entry.key_properties : root["table-key-properties"]) as string[] | undefined;
        if (keys?.length) {
          expect(b.key.map((p) => parsePointer(p))).toEqual(keys.map((k) => [k]));
          expect(b.documentSchema.required).toEqual(expect.arrayContaining(keys));
        } else expect(b.key).toEqual([ROW_ID]);
        const method = (root["replication-method"] ?? root["forced-replication-method"] ?? entry.replication_method) as string | undefined;
        expect(b.resourceConfig.replication_method).toBe(method);
        expect((b.documentSchema.properties as Json)._meta).toMatchObject({ properties: { row_id: { type: "integer" } }, required: ["row_id"] });
        expect(() => createSchemaCompiler({ formats: false }).compile(b.documentSchema)).not.toThrow();
      }

      // Bind every other stream: exactly those are selected at the root breadcrumb in the catalog the sync gets.
      const log = path.join(work, `catalog-${file}.log.jsonl`);
      const bound = bindings.filter((_, i) => i % 2 === 0);
      const syncScenario = writeScenario(work, { catalog, log, sync: { lines: [] } }, `catalog-sync-${file}`);
      const open = await capture(
        syncScenario,
        bound.map((b) => singerBinding(b.resourceConfig.stream as string, { key: b.key, replication_method: b.resourceConfig.replication_method as never, replication_key: b.resourceConfig.replication_key as never })),
      );
      expect(open.code, JSON.stringify(open.logs.at(-1))).toBe(0);
      const given = (readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Json).find((e) => !e.discover)!.catalog as { streams: Json[] }).streams;
      expect(given.map((s) => s.tap_stream_id ?? s.stream)).toEqual(catalog.streams.map((s) => s.tap_stream_id ?? s.stream));
      for (const [i, s] of given.entries()) {
        const md = s.metadata as { breadcrumb: unknown[]; metadata: Json }[];
        const roots = md.filter((m) => m.breadcrumb.length === 0);
        expect(roots).toHaveLength(1);
        expect(roots[0]!.metadata.selected).toBe(i % 2 === 0);
        if (i % 2 === 0 && bound[i / 2]!.resourceConfig.replication_method) expect(roots[0]!.metadata["replication-method"]).toBe(bound[i / 2]!.resourceConfig.replication_method);
        // No "true" strings left; fields of bound streams are selected unless the catalog deselects them.
        for (const m of md) expect(typeof m.metadata.selected === "boolean" || m.metadata.selected === undefined).toBe(true);
        const original = (catalog.streams[i]!.metadata as { breadcrumb: unknown[]; metadata: Json }[] | undefined) ?? [];
        for (const m of md.filter((x) => x.breadcrumb.length > 0)) {
          const before = original.find((o) => JSON.stringify(o.breadcrumb) === JSON.stringify(m.breadcrumb))!.metadata;
          if (i % 2 === 0 && before.selected === undefined && before.inclusion !== "unsupported") expect(m.metadata.selected, JSON.stringify(m.breadcrumb)).toBe(true);
          if (before.selected !== undefined) expect(m.metadata.selected).toBe(before.selected === true || before.selected === "true");
        }
      }
    });
  });

  describe("every state in singer/states round-trips through Flow's state to the next sync", () => {
    const files = readdirSync(fixturePath("singer", "states"));
    it.each(files)("%s", async (file) => {
      const value = JSON.parse(readFixture("singer", "states", file)) as { bookmarks: Json };
      const bindings = Object.keys(value.bookmarks).map((s) => singerBinding(s));
      const catalog = { streams: Object.keys(value.bookmarks).map((s) => ({ tap_stream_id: s, stream: s, schema: {}, key_properties: ["id"] })) };
      const stateLine = JSON.stringify({ type: "STATE", value });
      const first = await capture(writeScenario(work, { catalog, sync: { lines: [stateLine] } }, `state-${file}`), bindings);
      expect(first.code, JSON.stringify(first.logs.at(-1))).toBe(0);
      expect(first.session!.checkpoints).toBe(2);
      // Each bookmark lives under its binding's state key.
      const slots = first.session!.state.bindingStateV1 as Record<string, { bookmark?: string }>;
      for (const b of bindings) expect(JSON.parse(slots[b.stateKey]!.bookmark!)).toEqual(value.bookmarks[b.resourceConfig.stream as string]);

      const log = path.join(work, `state-${file}.log.jsonl`);
      const second = await capture(writeScenario(work, { catalog, log, sync: { lines: [] } }, `state2-${file}`), bindings, first.session!.state);
      expect(second.code).toBe(0);
      const sync = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Json).find((e) => !e.discover)!;
      expect(sync.state).toEqual(value);
    });
  });
});
