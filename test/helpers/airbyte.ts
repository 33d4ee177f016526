import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "vitest";
import { stateKey } from "../../src/protocol/index.js";
import type { Connector } from "../../src/runtime/index.js";
import { childSource, createAirbyteConnector, type AirbyteConnectorOptions } from "../../src/shims/airbyte/index.js";
import { parsePointer } from "../../src/util/jsonPointer.js";
import { applyMergePatch } from "../../src/util/mergePatch.js";
import type { ChildRun } from "./child.js";
import { repoRoot } from "./fixtures.js";
import { serveInProcess } from "./inProcess.js";

/** The replay source (Python standard library only), run as an Airbyte source process. */
export const REPLAY = ["python3", path.join(repoRoot, "test/helpers/airbyteReplay.py")];
/** The built CLI. */
export const FLOWCAP = [process.execPath, path.join(repoRoot, "dist/src/cli/main.js")];
export const INTERNAL_SPEC = { spec: { connectorType: "LOCAL", config: {} } };

/** A fresh directory under test/.tmp. */
export function tmpDir(name: string): string {
  const base = path.join(repoRoot, "test/.tmp");
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, `${name}-`));
}

/** Writes a replay scenario (see airbyteReplay.py) and returns its path. */
export function writeScenario(dir: string, scenario: Record<string, unknown>, name = "scenario.json"): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(scenario));
  return file;
}

/** The shim over the replay source, in this process. */
export function replayConnector(scenario: string, options: AirbyteConnectorOptions = {}): Connector {
  return createAirbyteConnector(childSource({ argv: REPLAY, env: { REPLAY_SCENARIO: scenario }, label: "replay" }), options);
}

/** `flowcap airbyte [flags] -- <replay>` as Flow would run it. */
export function flowcapAirbyte(flags: string[] = []): string[] {
  return [...FLOWCAP, "airbyte", "--pass-env", "REPLAY_SCENARIO", ...flags, "--", ...REPLAY];
}

/** Runs the internal spec and one request in-process, as Flow does; returns the answer and the logs. */
export async function unary(connector: Connector, request: object) {
  const run = serveInProcess(connector);
  run.send(INTERNAL_SPEC);
  run.send(request);
  run.end();
  const code = await run.exitCode;
  return { code, out: run.stdout.json, logs: run.logs(), last: run.logs().at(-1) };
}

export interface AirbyteBindingOptions {
  namespace?: string;
  syncMode?: "full_refresh" | "incremental";
  key?: string[];
  cursorField?: string[];
  backfill?: number;
  writeSchema?: Record<string, unknown>;
}

/** A capture binding of an Airbyte stream, with its state key computed the way Flow does. */
export function airbyteBinding(stream: string, options: AirbyteBindingOptions = {}) {
  const resourceConfig: Record<string, unknown> = { stream, syncMode: options.syncMode ?? "incremental" };
  if (options.namespace) resourceConfig.namespace = options.namespace;
  if (options.cursorField) resourceConfig.cursorField = options.cursorField;
  const resourcePath = options.namespace ? [options.namespace, stream] : [stream];
  const backfill = options.backfill ?? 0;
  return {
    resourceConfig,
    resourcePath,
    backfill,
    collection: { name: `acmeCo/${stream}`, key: options.key ?? ["/id"], writeSchema: options.writeSchema ?? { type: "object" } },
    stateKey: stateKey(resourcePath, backfill),
  };
}

export function openRequest(config: Record<string, unknown>, bindings: ReturnType<typeof airbyteBinding>[], state: Record<string, unknown> = {}) {
  return {
    open: {
      capture: { name: "acmeCo/source-airbyte", connectorType: "LOCAL", config, bindings },
      version: "v1",
      range: { keyEnd: 4294967295, rClockEnd: 4294967295 },
      state,
    },
  };
}

export interface ReducedSession {
  /** Committed documents (followed by a checkpoint), in order, with their binding. */
  docs: { binding: number; doc: Record<string, unknown> }[];
  /** Documents after the last checkpoint: never committed. */
  uncommitted: number;
  checkpoints: number;
  /** The connector state after reducing every checkpoint into the initial one. */
  state: Record<string, unknown>;
}

/**
 * Checks a session's output by the protocol's rules (`opened` first, then documents closed by
 * checkpoints) and reduces it as Flow's runtime does: documents count only once a checkpoint
 * follows them, and checkpoints reduce into the state (merge patch or replacement).
 */
export function reduceSession(messages: Record<string, unknown>[], initial: Record<string, unknown> = {}): ReducedSession {
  const start = messages.findIndex((m) => "opened" in m);
  expect(start, "no opened response").toBeGreaterThanOrEqual(0);
  let state = initial;
  const docs: ReducedSession["docs"] = [];
  let pending: ReducedSession["docs"] = [];
  let checkpoints = 0;
  for (const m of messages.slice(start + 1)) {
    if ("captured" in m) {
      const c = m.captured as { binding?: number; doc: Record<string, unknown> };
      pending.push({ binding: c.binding ?? 0, doc: c.doc });
    } else if ("checkpoint" in m) {
      const s = (m.checkpoint as { state: { updated: Record<string, unknown>; mergePatch?: boolean } }).state;
      state = (s.mergePatch ? applyMergePatch(state, s.updated) : s.updated) as Record<string, unknown>;
      docs.push(...pending);
      pending = [];
      checkpoints++;
    } else if (!("spec" in m) && !("sourcedSchema" in m)) throw new Error(`unexpected message ${JSON.stringify(m).slice(0, 200)}`);
  }
  return { docs, uncommitted: pending.length, checkpoints, state };
}

/**
 * A stand-in for Estuary's config encryption service on 127.0.0.1: records each request body
 * and answers `encrypted` (what the service would return).
 */
export async function startEncryptionServer(encrypted: Record<string, unknown> | string) {
  const posted: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      posted.push(JSON.parse(body) as Record<string, unknown>);
      res.setHeader("content-type", "application/json");
      res.end(typeof encrypted === "string" ? encrypted : JSON.stringify(encrypted));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/encrypt-config`, posted, close: () => server.close() };
}

/** An Airbyte source: the numbers 1..config.count, a STATE after each, resuming from its state. */
export const NUMBERS_SOURCE_PY = `import json, sys
def out(m): print(json.dumps(m))
cmd, args = sys.argv[1], dict(zip(sys.argv[2::2], sys.argv[3::2]))
if cmd == "spec":
    out({"type": "SPEC", "spec": {"documentationUrl": "https://example.com/numbers", "connectionSpecification": {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}}})
elif cmd == "check":
    out({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
elif cmd == "discover":
    out({"type": "CATALOG", "catalog": {"streams": [{"name": "numbers", "json_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}, "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True, "default_cursor_field": ["n"], "source_defined_primary_key": [["n"]]}]}})
elif cmd == "read":
    config, start = json.load(open(args["--config"])), 0
    for m in json.load(open(args["--state"])) if "--state" in args else []:
        start = m["stream"]["stream_state"]["n"]
    for n in range(start + 1, config["count"] + 1):
        out({"type": "RECORD", "record": {"stream": "numbers", "data": {"n": n}, "emitted_at": 0}})
        out({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"n": n}}}})
`;

/**
 * Opens a capture session in a started shim process (`run`, its internal spec already sent) with
 * a config holding a token, and waits for the process to exit by itself (the read or sync ended).
 */
export async function captureUntilExit(run: ChildRun, bindings: readonly object[], state: Record<string, unknown> = {}) {
  run.send(openRequest({ token: "tok-1234567" }, bindings as Parameters<typeof openRequest>[1], state));
  const { code, signal } = await run.exit;
  run.end();
  return { run, code, signal, last: run.logs().at(-1), reduced: reduceSession(run.stdout.json, state) };
}

type Json = Record<string, unknown>;

/**
 * The Airbyte catalog that bindings discovered by Estuary's Python shim (a
 * `snapshots__discover__capture.stdout.json` golden) came from: each stream's schema without what
 * the shim adds, its key as Airbyte paths, its cursor, and its sync modes.
 */
export function catalogOfShimGolden(golden: { resourceConfig: Json; key: string[]; documentSchema: Json }[]): { streams: Json[] } {
  return {
    streams: golden.map((b) => {
      const { _meta, ...properties } = (b.documentSchema.properties ?? {}) as Json;
      void _meta;
      const { "x-infer-schema": _x, if: _if, then: _then, ...schema } = b.documentSchema;
      void _x, _if, _then;
      const stream: Json = {
        name: b.resourceConfig.stream,
        json_schema: { ...schema, properties },
        supported_sync_modes: b.resourceConfig.syncMode === "incremental" ? ["full_refresh", "incremental"] : ["full_refresh"],
      };
      if (b.key[0] !== "/_meta/row_id") stream.source_defined_primary_key = b.key.map((p) => parsePointer(p));
      if (b.resourceConfig.cursorField) stream.default_cursor_field = b.resourceConfig.cursorField;
      if (b.resourceConfig.namespace) stream.namespace = b.resourceConfig.namespace;
      return stream;
    }),
  };
}
