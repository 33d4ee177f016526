import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { Semaphore } from "../util/semaphore.js";
import type { BindingInfo, BindingTask } from "./resource.js";
import { SourcedSchema } from "./resource.js";
import type { JsonSchemaObject } from "./schema.js";

/** What a fetch function gets beside its cursor. */
export interface FetchContext extends BindingInfo {
  /**
   * The sub-cursor this call serves (an account, a repository, a tenant), as the resource's
   * `subtasks` listed it; undefined for a resource without subtasks.
   */
  readonly subtask: string | undefined;
  /** A sourced schema to yield when the source says the documents' schema changed. */
  sourcedSchema(schema: JsonSchemaObject | boolean): SourcedSchema;
}

/** What `subtasks()` and `initialCursor()` get: the binding, at open. */
export type OpenContext = FetchContext;

export function fetchContext(info: BindingInfo, subtask: string | undefined, log = info.log): FetchContext {
  return {
    log: subtask === undefined ? log : log.child({ subtask }),
    stopping: info.stopping,
    sleep: info.sleep,
    binding: info.binding,
    bindingIndex: info.bindingIndex,
    stateKey: info.stateKey,
    resourceConfig: info.resourceConfig,
    subtask,
    sourcedSchema: (schema) => new SourcedSchema(schema),
  };
}

/** A task's fetch context (its log carries the task's name). */
export function taskFetchContext(task: BindingTask<unknown>, subtask: string | undefined): FetchContext {
  return fetchContext(task, subtask, task.log);
}

/**
 * The state of one part (`inc`, `backfill`, `snapshot`) of one subtask: the part itself for a
 * resource without subtasks, else its entry under the subtask's id.
 */
export function partState(state: object, part: string, subtask: string | undefined): unknown {
  const value = (state as Record<string, unknown>)[part];
  if (subtask === undefined) return value;
  return isPlainObject(value) ? value[subtask] : undefined;
}

/** A merge patch of the binding state that sets one part of one subtask to `value` (null removes it). */
export function partPatch(part: string, subtask: string | undefined, value: unknown): Record<string, unknown> {
  return { [part]: subtask === undefined ? value : { [subtask]: value } };
}

/** Merges part patches into one binding-state patch (they touch different keys). */
export function mergePatches(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(patch)) {
    target[k] = isPlainObject(target[k]) && isPlainObject(v) ? { ...target[k], ...v } : v;
  }
  return target;
}

/** Lists a resource's subtasks at open: `[undefined]` when it has none; ids must be unique, non-empty strings. */
export async function listSubtasks(
  resourceName: string,
  subtasks: ((ctx: OpenContext) => readonly string[] | Promise<readonly string[]>) | undefined,
  ctx: OpenContext,
): Promise<(string | undefined)[]> {
  if (!subtasks) return [undefined];
  const ids = await subtasks(ctx);
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== "string" || id === "") throw new FlowcapError("RESPONSE_INVALID", `resource ${resourceName}: subtasks() gave ${JSON.stringify(id)}; subtask ids are non-empty strings`);
    if (seen.has(id)) throw new FlowcapError("RESPONSE_INVALID", `resource ${resourceName}: subtasks() gave ${JSON.stringify(id)} twice; subtask ids must be unique`);
    seen.add(id);
  }
  return [...ids];
}

/**
 * A FIFO lock. An incremental task and a backfill task of one subtask hold it from the start
 * of a fetch to the end of the checkpoint that commits it, so that their commits are in the order
 * of their fetches and a backfill page never lands an older version after a newer one.
 */
export class Mutex {
  private readonly slot = new Semaphore(1);
  private releaseHeld: (() => void) | undefined;

  async acquire(): Promise<void> {
    this.releaseHeld = (await this.slot.acquire())!;
  }

  release(): void {
    const release = this.releaseHeld;
    this.releaseHeld = undefined;
    release?.();
  }
}
