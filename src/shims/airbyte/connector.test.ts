import { describe, expect, it } from "vitest";
import { airbyteBinding, INTERNAL_SPEC, openRequest, reduceSession, startEncryptionServer, unary } from "../../../test/helpers/airbyte.js";
import { serveInProcess } from "../../../test/helpers/inProcess.js";
import { FEED_MODES, feedStdout, type FeedMode } from "../../../test/helpers/stdoutFeed.js";
import { reduceCollection } from "../../../test/helpers/singer.js";
import { documentSchema } from "./discover.js";
import { createAirbyteConnector, mergeConfig, type AirbyteConnectorOptions } from "./connector.js";
import type { AirbyteReadOutcome, AirbyteSource } from "./source.js";
import type { StateInputFile } from "./state.js";
import type { AirbyteCatalog, AirbyteConnectionStatus } from "./types.js";

type Json = Record<string, unknown>;

/**
 * An Airbyte source in memory: each read plays the next script of stdout lines, fed as a child's
 * reader feeds them (`feed`, default batches rewritten in place; see feedStdout).
 */
function fakeSource(options: { check?: AirbyteConnectionStatus; catalog?: AirbyteCatalog; reads?: { lines: (string | object)[]; outcome?: AirbyteReadOutcome | Error }[]; feed?: FeedMode }) {
  const reads = [...(options.reads ?? [])];
  const given: { state: StateInputFile | undefined; catalog: unknown; config: unknown }[] = [];
  const source: AirbyteSource = {
    label: "fake",
    spec: async () => ({ documentationUrl: "https://example.com/docs", connectionSpecification: { type: "object", properties: { token: { type: "string", airbyte_secret: true } } } }),
    check: async () => options.check ?? { status: "SUCCEEDED" },
    discover: async () => options.catalog ?? { streams: [] },
    async read(config, catalog, state, _ctx, sink) {
      given.push({ state, catalog, config });
      const script = reads.shift();
      if (!script) throw new Error("no more reads scripted");
      await feedStdout(sink, script.lines, options.feed);
      if (script.outcome instanceof Error) throw script.outcome;
      return script.outcome ?? "completed";
    },
  };
  return { source, given };
}

const record = (stream: string, data: object, namespace?: string) => ({ type: "RECORD", record: { stream, ...(namespace ? { namespace } : {}), data, emitted_at: 1 } });
const streamState = (stream: string, state: object) => ({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: state } } });

async function session(source: AirbyteSource, bindings: ReturnType<typeof airbyteBinding>[], state: Json = {}, config: Json = { token: "tok-secret-1" }, options: AirbyteConnectorOptions = {}) {
  const run = serveInProcess(createAirbyteConnector(source, options));
  run.send(INTERNAL_SPEC);
  run.send(openRequest(config, bindings, state));
  const code = await run.exitCode;
  run.end();
  return { code, logs: run.logs(), last: run.logs().at(-1), messages: run.stdout.json, reduced: code === 0 ? reduceSession(run.stdout.json, state) : undefined, stderr: run.stderr.lines };
}

describe("validate", () => {
  const catalog: AirbyteCatalog = {
    streams: [
      { name: "users", json_schema: {}, supported_sync_modes: ["full_refresh", "incremental"] },
      { name: "orders", namespace: "shop", json_schema: {}, supported_sync_modes: ["full_refresh"] },
    ],
  };
  const validate = (bindings: Json[]) => ({ validate: { name: "acmeCo/x", connectorType: "LOCAL", config: { token: "t" }, bindings } });
  const b = (resourceConfig: Json) => ({ resourceConfig, collection: { name: "acmeCo/x", key: ["/id"] }, backfill: 0 });

  it("fails with the source's own message when its check fails", async () => {
    const { source } = fakeSource({ check: { status: "FAILED", message: "Invalid API key" }, catalog });
    const { code, last } = await unary(createAirbyteConnector(source), validate([b({ stream: "users", syncMode: "incremental" })]));
    expect(code).toBe(1);
    expect(last).toMatchObject({ level: "error", message: "the source's connection check failed: Invalid API key" });
    expect(JSON.stringify(last?.fields)).not.toContain("stack");
  });

  it("refuses a config that does not fit the source's spec before running the source", async () => {
    const { source } = fakeSource({ catalog });
    const { code, last } = await unary(createAirbyteConnector(source), { validate: { name: "acmeCo/x", connectorType: "LOCAL", config: { token: 42 }, bindings: [] } });
    expect(code).toBe(1);
    expect(last?.message).toBe("endpoint config: token: must be string");
  });

  it("rejects unknown streams and unsupported sync modes by name, and answers resource paths", async () => {
    const { source } = fakeSource({ catalog });
    const bad = await unary(
      createAirbyteConnector(source),
      validate([b({ stream: "users", syncMode: "incremental" }), b({ stream: "nope", syncMode: "incremental" }), b({ stream: "orders", namespace: "shop", syncMode: "incremental" })]),
    );
    expect(bad.code).toBe(1);
    expect(bad.last?.message).toBe(
      'bindings: 2 problems:\n - bindings[1].resourceConfig.stream: the source has no stream "nope" (it has: "users", "shop.orders")\n - bindings[2].resourceConfig.syncMode: stream "orders" does not support incremental (it supports full_refresh)',
    );
    const good = await unary(createAirbyteConnector(source), validate([b({ stream: "users", syncMode: "incremental", _meta: { path: "x" } }), b({ stream: "orders", namespace: "shop", syncMode: "full_refresh" })]));
    expect(good.code).toBe(0);
    expect(good.out[1]).toEqual({ validated: { bindings: [{ resourcePath: ["users"] }, { resourcePath: ["shop", "orders"] }] } });
  });
});

describe("open", () => {
  it("captures records with row ids, checkpoints each state, and ends with a final checkpoint; the next read gets the state back", async () => {
    const { source, given } = fakeSource({
      reads: [
        { lines: [record("users", { id: 1 }), record("users", { id: 2 }), streamState("users", { cursor: 2 }), record("users", { id: 3 })] },
        { lines: [record("users", { id: 4 }), streamState("users", { cursor: 4 })] },
      ],
    });
    const users = airbyteBinding("users", { cursorField: ["id"] });
    const first = await session(source, [users]);
    expect(first.code).toBe(0);
    expect(first.reduced!.docs.map((d) => d.doc)).toEqual([
      { id: 1, _meta: { op: "u", row_id: 0 } },
      { id: 2, _meta: { op: "u", row_id: 1 } },
      { id: 3, _meta: { op: "u", row_id: 2 } },
    ]);
    expect(first.reduced!.checkpoints).toBe(2);
    expect(first.reduced!.state).toEqual({ bindingStateV1: { users: { stream: { cursor: 2 }, rowId: 3 } }, airbyte: { kind: "STREAM" } });
    // The configured catalog comes from the bindings alone.
    expect(given[0]!.catalog).toEqual({
      streams: [{ stream: { name: "users", json_schema: { type: "object" }, supported_sync_modes: ["incremental"], default_cursor_field: ["id"] }, sync_mode: "incremental", destination_sync_mode: "append", cursor_field: ["id"] }],
    });
    expect(given[0]!.state).toBeUndefined();
    expect(given[0]!.config).toEqual({ token: "tok-secret-1" });

    const second = await session(source, [users], first.reduced!.state);
    expect(given[1]!.state).toEqual({ kind: "STREAM", value: [{ type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 2 } } }] });
    // Row ids of an incremental stream go on from where they were.
    expect(second.reduced!.docs.map((d) => d.doc)).toEqual([{ id: 4, _meta: { op: "u", row_id: 3 } }]);
  });

  it("keeps a full-refresh row-id collection a mirror of the source: ids restart at 0, vanished rows are deleted", async () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => record("items", { name: `item ${i}` }));
    const { source, given } = fakeSource({
      reads: [
        { lines: [...rows(5), streamState("items", { page: 1 })] },
        { lines: rows(3) },
        // A refresh that fails after a state: no deletions (it saw only part of the source).
        { lines: [...rows(2), streamState("items", {}), ...rows(1)], outcome: new Error("the API went away") },
        // The source tells its stream is complete before the read ends.
        {
          lines: [
            ...rows(2),
            { type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "items" }, status: "COMPLETE" } } },
            streamState("items", {}),
          ],
        },
      ],
    });
    const items = airbyteBinding("items", { syncMode: "full_refresh", key: ["/_meta/row_id"] });
    const one = await session(source, [items]);
    expect(one.reduced!.docs.map((d) => d.doc._meta)).toEqual([0, 1, 2, 3, 4].map((row_id) => ({ op: "u", row_id })));
    expect((one.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 5 });

    const two = await session(source, [items], one.reduced!.state);
    // Its state is not handed back: each read of a row-id stream is a complete refresh.
    expect(given[1]!.state).toBeUndefined();
    expect(two.reduced!.docs.map((d) => d.doc)).toEqual([
      { name: "item 0", _meta: { op: "u", row_id: 0 } },
      { name: "item 1", _meta: { op: "u", row_id: 1 } },
      { name: "item 2", _meta: { op: "u", row_id: 2 } },
      { _meta: { op: "d", row_id: 3 } },
      { _meta: { op: "d", row_id: 4 } },
    ]);
    expect((two.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 3 });

    const three = await session(source, [items], two.reduced!.state);
    expect(three.code).toBe(1);
    expect(three.last?.message).toBe("the API went away");
    const committed = reduceSession(three.messages, two.reduced!.state);
    expect(committed.docs.map((d) => d.doc._meta)).toEqual([{ op: "u", row_id: 0 }, { op: "u", row_id: 1 }]);
    expect((committed.state.bindingStateV1 as Json).items).toEqual({ stream: {}, rows: 3 });

    const four = await session(source, [items], committed.state);
    expect(four.reduced!.docs.map((d) => d.doc._meta)).toEqual([{ op: "u", row_id: 0 }, { op: "u", row_id: 1 }, { op: "d", row_id: 2 }]);
    expect((four.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 2 });
  });

  describe("a row-id stream the read says nothing of", () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => record("items", { name: `item ${i}` }));
    const status = (status: string) => ({ type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "items" }, status } } });
    const items = airbyteBinding("items", { syncMode: "full_refresh", key: ["/_meta/row_id"] });
    const users = airbyteBinding("users", { cursorField: ["id"] });

    /** A first read of 3 items, then `second`; returns the second session and the state after the first. */
    async function afterThreeRows(second: (string | object)[]) {
      const { source } = fakeSource({ reads: [{ lines: rows(3) }, { lines: second }] });
      const one = await session(source, [items, users]);
      const two = await session(source, [items, users], one.reduced!.state);
      return { one, two };
    }

    it("keeps its rows when the source sends nothing for it (it skipped the stream), and warns", async () => {
      const { two } = await afterThreeRows([record("users", { id: 1 })]);
      expect(two.code).toBe(0);
      expect(two.reduced!.docs.filter((d) => d.binding === 0)).toEqual([]);
      expect((two.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 3 });
      expect(two.logs).toContainEqual(
        expect.objectContaining({ level: "warn", message: "stream items: the source sent no record and no status for it in this read: keeping the 3 row(s) of its last refresh instead of deleting them" }),
      );
    });

    it("is emptied when the source says it started and completed it without a record", async () => {
      const { two } = await afterThreeRows([status("STARTED"), status("COMPLETE")]);
      expect(two.reduced!.docs.map((d) => d.doc)).toEqual([0, 1, 2].map((row_id) => ({ _meta: { op: "d", row_id } })));
      expect((two.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 0 });
    });

    it("is emptied when the source only says it started or is running it", async () => {
      for (const said of ["STARTED", "RUNNING"]) {
        const { two } = await afterThreeRows([status(said)]);
        expect(two.reduced!.docs.map((d) => d.doc), said).toEqual([0, 1, 2].map((row_id) => ({ _meta: { op: "d", row_id } })));
      }
    });

    it("keeps its rows when the source says it is INCOMPLETE, even after records", async () => {
      const { two } = await afterThreeRows([status("STARTED"), ...rows(1), status("INCOMPLETE")]);
      expect(two.code).toBe(0);
      expect(two.reduced!.docs.map((d) => d.doc)).toEqual([{ name: "item 0", _meta: { op: "u", row_id: 0 } }]);
      expect((two.reduced!.state.bindingStateV1 as Json).items).toEqual({ rows: 3 });
    });
  });

  describe("a keyed full-refresh stream", () => {
    const users = (ids: number[]) => ids.map((id) => record("users", { id, name: `user ${id}` }));
    const status = (status: string) => ({ type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "users" }, status } } });
    const writeSchema = documentSchema({ type: "object", properties: { id: { type: "integer" }, name: { type: "string" } }, required: ["id", "name"] }, true, ["/id"]);
    const binding = airbyteBinding("users", { syncMode: "full_refresh", writeSchema });
    const ids = (docs: { doc: Json }[]) => [...reduceCollection(docs.map((d) => d.doc), ["/id"]).keys()];

    /** Runs the reads one after the other, each from the state the last one committed. */
    async function reads(...scripts: { lines: (string | object)[]; outcome?: AirbyteReadOutcome | Error }[]) {
      const { source, given } = fakeSource({ reads: scripts });
      let state: Json = {};
      const docs: { binding: number; doc: Json }[] = [];
      const runs = [];
      for (const _ of scripts) {
        const run = await session(source, [binding], state);
        const committed = reduceSession(run.messages, state);
        docs.push(...committed.docs);
        state = committed.state;
        runs.push({ ...run, committed, docs: committed.docs.map((d) => d.doc) });
      }
      return { runs, docs, state, given };
    }

    it("deletes the rows a complete refresh no longer has (5 rows shrink to 2), by their keys", async () => {
      const { runs, docs, state } = await reads({ lines: users([1, 2, 3, 4, 5]) }, { lines: users([1, 3]) });
      expect(runs[0]!.docs.map((d) => (d._meta as Json).op)).toEqual(["u", "u", "u", "u", "u"]);
      expect(runs[1]!.docs.slice(2)).toEqual([
        { id: 2, _meta: { op: "d", row_id: 2 } },
        { id: 4, _meta: { op: "d", row_id: 3 } },
        { id: 5, _meta: { op: "d", row_id: 4 } },
      ]);
      expect(runs[1]!.logs).toContainEqual(expect.objectContaining({ level: "info", message: "stream users: the refresh is complete: deleting 3 row(s) it no longer has" }));
      expect(ids(docs)).toEqual(["[1]", "[3]"]);
      expect((state.bindingStateV1 as Json).users).toEqual({ keys: { "1": 2, "3": 2 }, refresh: 3 });
    });

    it("deletes nothing after an incomplete refresh: a failed read, an INCOMPLETE status, a TRACE error, a read that says nothing of it", async () => {
      const { runs, docs } = await reads(
        { lines: users([1, 2, 3]) },
        { lines: [...users([1]), streamState("users", { page: 2 })], outcome: new Error("the API went away") },
        { lines: [...users([1]), status("INCOMPLETE")] },
        { lines: [...users([1]), { type: "TRACE", trace: { type: "ERROR", emitted_at: 1, error: { message: "timeout", stream_descriptor: { name: "users" } } } }] },
        { lines: [] },
      );
      expect(runs.slice(1).map((r) => r.docs.filter((d) => (d._meta as Json).op === "d"))).toEqual([[], [], [], []]);
      expect(ids(docs)).toEqual(["[1]", "[2]", "[3]"]);
      expect(runs[4]!.logs).toContainEqual(expect.objectContaining({ level: "warn", message: "stream users: the source sent no record and no status for it in this read: keeping the 3 row(s) of its last refresh instead of deleting them" }));
    });

    it("counts a refresh resumed after a failed read as one: what the failed read sent is not deleted", async () => {
      const { runs, docs, given } = await reads(
        { lines: users([1, 2, 3, 4, 5]) },
        { lines: [...users([1, 2]), streamState("users", { page: 2 })], outcome: new Error("the API went away") },
        { lines: [...users([3]), streamState("users", { page: 3 })] },
      );
      expect(given[2]!.state).toEqual({ kind: "STREAM", value: [streamState("users", { page: 2 }).state] });
      expect(runs[2]!.docs.filter((d) => (d._meta as Json).op === "d").map((d) => d.id)).toEqual([4, 5]);
      expect(ids(docs)).toEqual(["[1]", "[2]", "[3]"]);
    });

    it("makes its deletions at the stream's COMPLETE status, and records after it do not undo the refresh", async () => {
      const { runs, docs } = await reads({ lines: users([1, 2, 3]) }, { lines: [...users([1]), status("COMPLETE"), streamState("users", {}), ...users([2])] });
      expect(runs[1]!.docs.map((d) => `${(d._meta as Json).op}:${String(d.id)}`)).toEqual(["u:1", "d:2", "d:3", "u:2"]);
      expect(ids(docs)).toEqual(["[1]", "[2]"]);
    });

    it("warns, and deletes nothing, when its collection's schema has no deletion rule (discovered before)", async () => {
      const old = airbyteBinding("users", { syncMode: "full_refresh", writeSchema: { type: "object", required: ["id", "name"] } });
      const { source } = fakeSource({ reads: [{ lines: users([1, 2]) }, { lines: users([1]) }] });
      const one = await session(source, [old]);
      const two = await session(source, [old], one.reduced!.state);
      expect(two.reduced!.docs.map((d) => d.doc.id)).toEqual([1]);
      expect(two.logs.filter((l) => l.level === "warn" && /^stream\(s\) users are read by full refresh, but their collections' schemas have no rule for deletions/.test(l.message))).toHaveLength(1);
      expect(JSON.stringify(two.reduced!.state)).not.toContain("keys");
    });

    it("stops tracking past maxTrackedKeys, and says so", async () => {
      const { source } = fakeSource({ reads: [{ lines: users([1, 2, 3]) }, { lines: users([1]) }] });
      const one = await session(source, [binding], {}, undefined, { maxTrackedKeys: 2 });
      expect(one.logs).toContainEqual(expect.objectContaining({ level: "warn", message: expect.stringMatching(/^stream users has more than 2 keys: they are no longer tracked/) }));
      expect((one.reduced!.state.bindingStateV1 as Json).users).toEqual({ keysDropped: true });
      const two = await session(source, [binding], one.reduced!.state, undefined, { maxTrackedKeys: 2 });
      expect(two.reduced!.docs.map((d) => d.doc.id)).toEqual([1]);
      expect(two.logs).toContainEqual(expect.objectContaining({ level: "warn", message: "stream users: its refreshes cannot delete the rows they no longer have: it has more keys than are tracked (--max-tracked-keys 2)" }));
    });
  });

  it("hands a full-refresh stream's state back only after a failed read, never after a completed one (as Airbyte resumes full refreshes)", async () => {
    const tickets = airbyteBinding("tickets", { syncMode: "full_refresh" });
    const users = airbyteBinding("users", { cursorField: ["id"] });
    const { source, given } = fakeSource({
      reads: [
        {
          lines: [
            record("tickets", { id: 1 }),
            streamState("tickets", { page: 2 }),
            record("tickets", { id: 2 }),
            streamState("tickets", { __ab_full_refresh_sync_complete: true }),
            record("users", { id: 7 }),
            streamState("users", { cursor: 7 }),
          ],
        },
        { lines: [record("tickets", { id: 1 }), streamState("tickets", { page: 2 }), record("tickets", { id: 2 })], outcome: new Error("the API went away") },
        { lines: [record("tickets", { id: 2 }), streamState("tickets", { __ab_full_refresh_sync_complete: true })] },
      ],
    });
    const one = await session(source, [tickets, users]);
    expect(one.code).toBe(0);
    expect(one.reduced!.state.bindingStateV1).toEqual({ tickets: {}, users: { stream: { cursor: 7 }, rowId: 1 } });

    // The completed refresh starts over: only the incremental stream's state is handed back.
    const two = await session(source, [tickets, users], one.reduced!.state);
    expect(given[1]!.state).toEqual({ kind: "STREAM", value: [streamState("users", { cursor: 7 }).state] });
    expect(two.code).toBe(1);
    const committed = reduceSession(two.messages, one.reduced!.state);
    expect((committed.state.bindingStateV1 as Json).tickets).toEqual({ stream: { page: 2 } });

    // The failed one resumes where it was.
    const three = await session(source, [tickets, users], committed.state);
    expect(given[2]!.state).toEqual({ kind: "STREAM", value: [streamState("tickets", { page: 2 }).state, streamState("users", { cursor: 7 }).state] });
    expect(three.code).toBe(0);
    expect((three.reduced!.state.bindingStateV1 as Json).tickets).toEqual({});
  });

  it("keeps the state of a full-refresh stream the source said is INCOMPLETE, so the next read resumes it", async () => {
    const tickets = airbyteBinding("tickets", { syncMode: "full_refresh" });
    const incomplete = { type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "tickets" }, status: "INCOMPLETE" } } };
    const { source } = fakeSource({ reads: [{ lines: [record("tickets", { id: 1 }), streamState("tickets", { page: 2 }), incomplete] }] });
    const { code, reduced } = await session(source, [tickets]);
    expect(code).toBe(0);
    expect((reduced!.state.bindingStateV1 as Json).tickets).toEqual({ stream: { page: 2 } });
  });

  it("fails with the source's TRACE error as the last log line, committing only up to the last state", async () => {
    const { source } = fakeSource({
      reads: [
        {
          lines: [
            record("users", { id: 1 }),
            streamState("users", { cursor: 1 }),
            record("users", { id: 2 }),
            { type: "TRACE", trace: { type: "ERROR", emitted_at: 1, error: { message: "Rate limit exceeded for /users", internal_message: "429", failure_type: "transient_error" } } },
          ],
        },
      ],
    });
    const { code, last, messages, logs } = await session(source, [airbyteBinding("users")]);
    expect(code).toBe(1);
    expect(last).toMatchObject({ level: "error", message: "Rate limit exceeded for /users" });
    expect(logs).toContainEqual(expect.objectContaining({ level: "error", message: "Rate limit exceeded for /users", fields: expect.objectContaining({ internal_message: "429", source: "fake" }) }));
    const committed = reduceSession(messages);
    expect(committed.docs.map((d) => d.doc.id)).toEqual([1]);
    expect(committed.uncommitted).toBe(0); // record 2 never reached stdout
  });

  it("turns a CONTROL connectorConfig into an encrypted configUpdate event", async () => {
    const server = await startEncryptionServer({ token: "ENC[sops]", sops: { mac: "x" } });
    const { posted, url } = server;
    try {
      const { source } = fakeSource({
        reads: [{ lines: [{ type: "CONTROL", control: { type: "CONNECTOR_CONFIG", emitted_at: 1, connectorConfig: { config: { token: "tok-rotated-2", region: "eu" } } } }, { type: "LOG", log: { level: "INFO", message: "using tok-rotated-2" } }] }],
      });
      const { code, logs, last } = await session(source, [airbyteBinding("users")], {}, { token: "tok-secret-1", page: 10 }, { encryptionUrl: url });
      expect(code, JSON.stringify(last)).toBe(0);
      expect(posted).toEqual([
        { config: { page: 10, region: "eu", token: "tok-rotated-2" }, schema: { type: "object", properties: { token: { type: "string", airbyte_secret: true } } } },
      ]);
      expect(logs).toContainEqual(expect.objectContaining({ message: "the source fake updated its config", fields: { eventType: "configUpdate", config: { token: "ENC[sops]", sops: { mac: "x" } } } }));
      // The new secret is redacted from every later line.
      expect(logs).toContainEqual(expect.objectContaining({ message: "using [redacted]" }));
    } finally {
      server.close();
    }
  });

  it("hands Flow the encryption service's answer byte for byte in the configUpdate, unredacted, even where a plain field equals a secret", async () => {
    // user: postgres, password: postgres: the password's value is also the user's.
    const answer = '{"host":"db","password":"ENC[AES256_GCM,data:cG9zdGdyZXM=,type:str]","port":5432.0,"sops":{"mac":"ENC[AES256_GCM,data:postgres]"},"user":"postgres"}';
    const server = await startEncryptionServer(answer);
    try {
      const pg = { type: "object", properties: { host: { type: "string" }, port: { type: "integer" }, user: { type: "string" }, password: { type: "string", airbyte_secret: true } } };
      const { source } = fakeSource({
        reads: [{ lines: [{ type: "CONTROL", control: { type: "CONNECTOR_CONFIG", emitted_at: 1, connectorConfig: { config: { host: "db", port: 5432, user: "postgres", password: "postgres" } } } }] }],
      });
      source.spec = async () => ({ documentationUrl: "https://example.com/docs", connectionSpecification: pg });
      const { code, stderr, logs } = await session(source, [airbyteBinding("users")], {}, { host: "db", port: 5432, user: "postgres", password: "postgres" }, { encryptionUrl: server.url });
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      const event = stderr.find((l) => l.includes('"eventType":"configUpdate"'))!;
      expect(event).toContain(`"config":${answer}}`);
      expect(event).toContain('"message":"the source fake updated its config"');
    } finally {
      server.close();
    }
  });

  it("skips records of unknown streams, logs the source's messages at their levels, and its other output as text", async () => {
    const { source } = fakeSource({
      reads: [
        {
          lines: [
            record("users", { id: 1 }),
            record("ghost", { id: 1 }),
            record("ghost", { id: 2 }),
            { type: "LOG", log: { level: "WARN", message: "slow API" } },
            { type: "LOG", log: { level: "FATAL", message: "oh no", stack_trace: "a\nb" } },
            { type: "TRACE", trace: { type: "ESTIMATE", emitted_at: 1, estimate: { name: "users", type: "STREAM", row_estimate: 10 } } },
            "Traceback (most recent call last):",
            '{"some": "json"}',
            { type: "SOMETHING_NEW" },
            record("users", { id: 2, _meta: { source: "x" } }),
          ],
        },
      ],
    });
    const { code, logs, reduced } = await session(source, [airbyteBinding("users")]);
    expect(code).toBe(0);
    expect(reduced!.docs.map((d) => d.doc)).toEqual([
      { id: 1, _meta: { op: "u", row_id: 0 } },
      { id: 2, _meta: { source: "x", op: "u", row_id: 1 } },
    ]);
    const seen = logs.map((l) => [l.level, l.message]);
    expect(seen).toContainEqual(["warn", 'skipping records of stream "ghost": no binding captures it']);
    expect(seen).toContainEqual(["info", 'skipped 2 record(s) of stream "ghost", which no binding captures']);
    expect(seen).toContainEqual(["warn", "slow API"]);
    expect(seen).toContainEqual(["error", "oh no"]);
    expect(seen).toContainEqual(["info", "progress estimate"]);
    expect(seen).toContainEqual(["info", "Traceback (most recent call last):"]);
    expect(seen).toContainEqual(["info", '{"some": "json"}']);
    expect(logs.filter((l) => l.message === 'skipping records of stream "ghost": no binding captures it')).toHaveLength(1);
  });

  describe("a stdout line that does not parse", () => {
    const before = [record("users", { id: 1 }), streamState("users", { cursor: 1 }), record("users", { id: 2 })];
    const after = [streamState("users", { cursor: 3 }), record("users", { id: 4 })];
    const unreadable: [string, string, RegExp][] = [
      ["Python's NaN", '{"type": "RECORD", "record": {"stream": "users", "data": {"id": 3, "score": NaN}, "emitted_at": 1}}', /NaN|Unexpected token/],
      ["a line cut short", '{"type": "RECORD", "record": {"stream": "users", "data": {"id": 3, "name": "Ad', /Unterminated string|Unexpected end/],
      ["a stray byte", '{"type":"RECORD","record":{"stream":"users","data":{"id":3}\u0001,"emitted_at":1}}', /Expected ',' or '}'/],
      ["another write inside it", 'Progress: 50%{"type":"RECORD","record":{"stream":"users","data":{"id":3},"emitted_at":1}}', /Unexpected token/],
      ["a STATE in lower case", '{"type":"state","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"cursor":Infinity}}}}', /Unexpected token/],
    ];
    for (const [what, line, problem] of unreadable) for (const feed of FEED_MODES) {
      it(`fails the read at that line when it carries an Airbyte message type (${what}), before the next STATE is committed (${feed})`, async () => {
        const { source } = fakeSource({ reads: [{ lines: [...before, line, ...after] }], feed });
        const { code, last, messages } = await session(source, [airbyteBinding("users")]);
        expect(code).toBe(1);
        expect(last).toMatchObject({ level: "error", fields: { code: "SOURCE_OUTPUT_INVALID", line: 4 } });
        expect(last!.message).toMatch(/^the source wrote an unreadable Airbyte (RECORD|STATE) message \(stdout line 4, not valid JSON: /);
        expect(last!.message).toMatch(problem);
        const committed = reduceSession(messages);
        expect(committed.docs.map((d) => d.doc.id)).toEqual([1]);
        expect(committed.state).toEqual({ bindingStateV1: { users: { stream: { cursor: 1 }, rowId: 1 } }, airbyte: { kind: "STREAM" } });
      });
    }

    it("is the source's own output, logged, when it carries no message type (a library's print)", async () => {
      const prints = ["Fetching page 2 of users (RECORD count so far: 1)", "{'type': 'RECORD', 'note': 'a Python dict, printed'}", '{"level": "info", "msg": "connected"', "\u00ff\u00fe garbage", '["type", "RECORD"', '  "type": "RECORD", (a message pretty-printed over lines)'];
      const { source } = fakeSource({ reads: [{ lines: [...before, ...prints, ...after] }] });
      const { code, logs, reduced } = await session(source, [airbyteBinding("users")]);
      expect(code, JSON.stringify(logs.at(-1))).toBe(0);
      expect(reduced!.docs.map((d) => d.doc.id)).toEqual([1, 2, 4]);
      for (const print of prints) expect(logs).toContainEqual(expect.objectContaining({ level: "info", message: print, fields: expect.objectContaining({ stream: "stdout" }) }));
    });
  });

  it("fails clearly on a RECORD whose data is not an object", async () => {
    const { source } = fakeSource({ reads: [{ lines: ['{"type":"RECORD","record":{"stream":"users","data":[1,2]}}'] }] });
    const { code, last } = await session(source, [airbyteBinding("users")]);
    expect(code).toBe(1);
    expect(last?.message).toBe("the source wrote a RECORD of stream users whose data is not a JSON object: [1,2]");
  });

  it("commits nothing more when the read is stopped", async () => {
    const { source } = fakeSource({ reads: [{ lines: [record("users", { id: 1 }), streamState("users", { c: 1 }), record("users", { id: 2 })], outcome: "stopped" }] });
    const { code, reduced } = await session(source, [airbyteBinding("users")]);
    expect(code).toBe(0);
    expect(reduced!.docs.map((d) => d.doc.id)).toEqual([1]);
    expect(reduced!.uncommitted).toBe(0); // record 2 never reached stdout
  });
});

describe("mergeConfig", () => {
  it("merges objects recursively and replaces everything else", () => {
    expect(mergeConfig({ a: 1, credentials: { id: "x", token: "old" }, list: [1] }, { credentials: { token: "new" }, list: [2], n: null })).toEqual({
      a: 1,
      credentials: { id: "x", token: "new" },
      list: [2],
      n: null,
    });
  });
});
