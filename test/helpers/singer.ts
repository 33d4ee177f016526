import path from "node:path";
import type { Connector } from "../../src/runtime/index.js";
import { stateKey } from "../../src/protocol/index.js";
import { childTap, createSingerConnector, type SingerConnectorOptions } from "../../src/shims/singer/index.js";
import { FLOWCAP } from "./airbyte.js";
import { repoRoot } from "./fixtures.js";

/** The replay tap (Python standard library only), run as a Singer tap process. */
export const SINGER_REPLAY = ["python3", path.join(repoRoot, "test/helpers/singerReplay.py")];

/** The shim over the replay tap, in this process. */
export function replayTap(scenario: string, options: SingerConnectorOptions = {}): Connector {
  return createSingerConnector(childTap({ argv: SINGER_REPLAY, env: { SINGER_SCENARIO: scenario }, label: "replay" }), options);
}

/** `flowcap singer [flags] -- <replay>` as Flow would run it. */
export function flowcapSinger(flags: string[] = []): string[] {
  return [...FLOWCAP, "singer", "--pass-env", "SINGER_SCENARIO", ...flags, "--", ...SINGER_REPLAY];
}

export interface SingerBindingOptions {
  /** The collection key; default ["/id"]. */
  key?: string[];
  replication_method?: "FULL_TABLE" | "INCREMENTAL" | "LOG_BASED";
  replication_key?: string;
  backfill?: number;
  writeSchema?: Record<string, unknown>;
}

/** A capture binding of a Singer stream, with its state key computed the way Flow does. */
export function singerBinding(stream: string, options: SingerBindingOptions = {}) {
  const resourceConfig: Record<string, unknown> = { stream };
  if (options.replication_method) resourceConfig.replication_method = options.replication_method;
  if (options.replication_key) resourceConfig.replication_key = options.replication_key;
  const backfill = options.backfill ?? 0;
  return {
    resourceConfig,
    resourcePath: [stream],
    backfill,
    collection: { name: `acmeCo/${stream.replace(/[^\w-]/g, "_")}`, key: options.key ?? ["/id"], writeSchema: options.writeSchema ?? { type: "object" } },
    stateKey: stateKey([stream], backfill),
  };
}

/** A Singer catalog entry of `stream` keyed by `keys`. */
export function catalogEntry(stream: string, keys: string[] = ["id"], metadata: Record<string, unknown> = {}, schema: Record<string, unknown> = { type: "object", properties: { id: { type: "integer" } } }) {
  return { tap_stream_id: stream, stream, schema, key_properties: keys, metadata: [{ breadcrumb: [], metadata: { inclusion: "available", ...metadata } }] };
}

/**
 * A collection after Flow's runtime reduces documents into it: the last document of each key,
 * with `_meta.op: "d"` documents deleting theirs. Keys are the JSON of the key pointers' values.
 */
export function reduceCollection(docs: readonly Record<string, unknown>[], key: readonly string[]): Map<string, Record<string, unknown>> {
  const table = new Map<string, Record<string, unknown>>();
  for (const doc of docs) {
    const k = JSON.stringify(key.map((p) => p.split("/").slice(1).reduce<unknown>((v, t) => (v as Record<string, unknown> | undefined)?.[t], doc)));
    if ((doc._meta as { op?: string } | undefined)?.op === "d") table.delete(k);
    else table.set(k, doc);
  }
  return table;
}
