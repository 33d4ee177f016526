import type { ConnectorState } from "../protocol/index.js";
import { applyMergePatch, diffMergePatch } from "../util/mergePatch.js";

/** Reduces a checkpoint's state update into the task's state (RFC 7396 merge, or replace). */
export function reduceState(state: Record<string, unknown>, update: ConnectorState): Record<string, unknown> {
  return (update.mergePatch ? applyMergePatch(state, update.updated) : update.updated) as Record<string, unknown>;
}

/**
 * One state update with the effect of a transaction's checkpoints, as the runtime folds them:
 * the exact merge patch from the state before to the state after (merge patches do not compose
 * in general: a deletion followed by a re-creation cannot be written as one patch without
 * knowing the state), or the whole state when any checkpoint replaced it.
 */
export function transactionState(before: Record<string, unknown>, after: Record<string, unknown>, replaced: boolean): ConnectorState {
  if (replaced) return { updated: after };
  return { updated: (diffMergePatch(before, after) ?? {}) as Record<string, unknown>, mergePatch: true };
}
