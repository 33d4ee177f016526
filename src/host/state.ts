import type { ConnectorState } from "../protocol/index.js";
import { applyMergePatch } from "../util/mergePatch.js";

/** Reduces a checkpoint's state update into the task's state (RFC 7396 merge, or replace). */
export function reduceState(state: Record<string, unknown>, update: ConnectorState): Record<string, unknown> {
  return (update.mergePatch ? applyMergePatch(state, update.updated) : update.updated) as Record<string, unknown>;
}
