import { createHash } from "node:crypto";
import { stateKey, type CaptureSpec, type CollectionSpec } from "../protocol/index.js";
import { bindingCollection, type Catalog, type CaptureDef, type CollectionDef } from "./catalog.js";

/**
 * Flow's requests for a capture of the catalog, built as Flow's control plane and runtime build
 * them for a local connector (connectorType LOCAL, the inner endpoint config, enabled bindings
 * only, state keys from resource paths and backfill counters).
 */

export function collectionSpec(collection: CollectionDef): CollectionSpec {
  return {
    name: collection.name,
    writeSchema: collection.writeSchema,
    ...(collection.readSchema !== undefined ? { readSchema: collection.readSchema } : {}),
    key: collection.key,
    uuidPtr: "/_meta/uuid",
  };
}

/** The enabled bindings, with their index in the catalog. */
export function enabledBindings(capture: CaptureDef): { index: number; binding: CaptureDef["bindings"][number] }[] {
  return capture.bindings.map((binding, index) => ({ index, binding })).filter(({ binding }) => !binding.disable);
}

export function specRequest(capture: CaptureDef) {
  return { spec: { connectorType: "LOCAL", config: capture.endpoint.config } };
}

/** The internal spec request the runtime always sends first. */
export const INTERNAL_SPEC_REQUEST = { spec: { connectorType: "LOCAL", config: {} } };

export function discoverRequest(capture: CaptureDef) {
  return { discover: { name: capture.name, connectorType: "LOCAL", config: capture.endpoint.config } };
}

export function validateRequest(catalog: Catalog, capture: CaptureDef) {
  return {
    validate: {
      name: capture.name,
      connectorType: "LOCAL",
      config: capture.endpoint.config,
      bindings: enabledBindings(capture).map(({ index, binding }) => ({
        resourceConfig: binding.resource,
        collection: collectionSpec(bindingCollection(catalog, capture, index)),
        backfill: binding.backfill,
      })),
    },
  };
}

/** The built capture, given the resource paths the connector named at validate. */
export function captureSpec(catalog: Catalog, capture: CaptureDef, resourcePaths: string[][]): CaptureSpec {
  return {
    name: capture.name,
    connectorType: "LOCAL",
    config: capture.endpoint.config,
    bindings: enabledBindings(capture).map(({ index, binding }, i) => ({
      resourceConfig: binding.resource,
      resourcePath: resourcePaths[i]!,
      collection: collectionSpec(bindingCollection(catalog, capture, index)),
      backfill: binding.backfill,
      stateKey: stateKey(resourcePaths[i]!, binding.backfill),
    })),
    intervalSeconds: capture.intervalSeconds,
  };
}

/** A version id for a built capture: a digest of its spec, as stable as the catalog. */
export function buildVersion(spec: CaptureSpec): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16).replace(/(.{4})(?=.)/g, "$1:");
}

export function applyRequest(spec: CaptureSpec) {
  return { apply: { capture: spec, version: buildVersion(spec) } };
}

/**
 * The open request as a JSON line's text, with the state spliced in as given (Flow's JSON, whose
 * integers beyond 2^53 JSON.stringify would round).
 */
export function openRequestJson(spec: CaptureSpec, stateJson: string): string {
  const { state: _state, ...rest } = openRequest(spec, {}).open;
  return `{"open":${JSON.stringify(rest).slice(0, -1)},"state":${stateJson}}}`;
}

export function openRequest(spec: CaptureSpec, state: Record<string, unknown>) {
  return {
    open: {
      capture: spec,
      version: buildVersion(spec),
      range: { keyBegin: 0, keyEnd: 0xffffffff, rClockBegin: 0, rClockEnd: 0xffffffff },
      state,
    },
  };
}
