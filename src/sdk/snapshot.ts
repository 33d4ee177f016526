import { ConfigError, FlowcapError, type ConfigProblem } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { digestOf } from "./boundary.js";
import { describe, isDocumentItem } from "./cursor.js";
import { deletableSchema, deletionOf, keyOf } from "./deletions.js";
import { fetchContext, listSubtasks, partPatch, partState, taskFetchContext, type FetchContext, type OpenContext } from "./fetchContext.js";
import type { ResourceState, SnapshotState } from "./incremental.js";
import { defineResource, SourcedSchema, type BindingContext, type BindingTask, type Resource } from "./resource.js";
import { DEFAULT_RESOURCE_INTERVAL, readTiming, type BindingTiming } from "./schedule.js";
import type { FromSchema, JsonSchemaObject } from "./schema.js";

/**
 * Fetches the whole current content of a resource: an async generator that yields every
 * document (each key once), in any order, and returns; `ctx.sourcedSchema(schema)` may come
 * anywhere. It takes no cursor: the layer calls it every `interval` (or on `schedule`) and
 * compares each document with the previous snapshot by the digest of its key's document: new
 * ones are emitted with `_meta.op: "c"`, changed ones with `"u"`, unchanged ones not at all, and
 * keys that vanished get a deletion (`_meta.op: "d"`, the key only). Nothing is committed until
 * the generator returns, so a snapshot that fails half-way deletes nothing (throwing fails the
 * capture, which takes the snapshot again when it restarts). Read the whole collection: a
 * snapshot cut short by a page limit deletes every document past it.
 */
export type FetchSnapshot<Doc> = (ctx: FetchContext) => AsyncIterable<Doc | SourcedSchema>;

/**
 * How many keys a snapshot resource tracks by default. Each tracked key costs its JSON plus
 * about 20 bytes of the binding's state (`"[1234]":"<16-char digest>",`): 50,000 keys of short ids
 * are about 1.5 MB, which Flow stores and hands back at every open.
 */
export const DEFAULT_MAX_SNAPSHOT_KEYS = 50_000;

/** What `defineSnapshotResource` takes; `S` is the documents' schema. */
export interface SnapshotResourceDefinition<S extends JsonSchemaObject> {
  /** The resource's name: its resource path, and the `name` of its resource config. */
  name: string;
  /**
   * The collection key, as JSON pointers (`["/id"]`): deletions are told by it. For rows with no
   * identity of their own, key on `["/_meta/row_id"]`: the layer numbers documents by their
   * position in the snapshot, and a shorter snapshot deletes the rows past its end.
   */
  key: readonly string[];
  /** JSON Schema of the documents; the discovered schema also admits deletions (see deletableSchema). */
  schema: S;
  /** Discover the resource as disabled, for the user to enable. */
  disable?: boolean;
  /** Extra properties of the discovered resource config (declare them in the connector's resourceConfigSchema). */
  resourceConfig?: Record<string, unknown>;
  /** How long between snapshots (`PT1H`, `1h`); users override it with the resource config's `interval`. Default five minutes. */
  interval?: string;
  /** A cron expression (UTC) on which to take snapshots instead of every `interval`. */
  schedule?: string;
  /** Several independent snapshots per binding (an account each): their keys must not overlap. */
  subtasks?: (ctx: OpenContext) => readonly string[] | Promise<readonly string[]>;
  /**
   * The most keys a snapshot may hold (default DEFAULT_MAX_SNAPSHOT_KEYS). A larger snapshot
   * fails with an error saying so, rather than growing the state without bound or silently
   * missing deletions.
   */
  maxKeys?: number;
  /** Fetches the whole current content (see FetchSnapshot). */
  fetchSnapshot: FetchSnapshot<FromSchema<S>>;
}

/**
 * Declares a snapshot resource: small collections read whole on every `interval` (or
 * `schedule`), emitting only what changed and deleting what vanished.
 *
 * ```ts
 * const teams = defineSnapshotResource({
 *   name: "teams",
 *   key: ["/id"],
 *   schema: teamSchema,
 *   interval: "PT1H",
 *   async *fetchSnapshot() {
 *     yield* await api.listTeams();
 *   },
 * });
 * ```
 */
export function defineSnapshotResource<const S extends JsonSchemaObject>(definition: SnapshotResourceDefinition<S>): Resource<FromSchema<S>, ResourceState> {
  const where = `defineSnapshotResource(${definition.name})`;
  const defaults = { interval: definition.interval ?? DEFAULT_RESOURCE_INTERVAL, schedule: definition.schedule };
  const problems = readTiming({}, defaults).problems;
  if (problems.length) throw new TypeError(`${where}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  const maxKeys = definition.maxKeys ?? DEFAULT_MAX_SNAPSHOT_KEYS;
  if (!(Number.isInteger(maxKeys) && maxKeys > 0)) throw new TypeError(`${where}: maxKeys must be a positive integer`);
  const rowId = definition.key.includes("/_meta/row_id");
  return defineResource({
    name: definition.name,
    key: definition.key,
    schema: deletableSchema(definition.schema, definition.key, { rowId }) as S,
    disable: definition.disable,
    resourceConfig: { interval: defaults.interval, ...(defaults.schedule ? { schedule: defaults.schedule } : {}), ...definition.resourceConfig },
    initialState: {} as ResourceState,
    checkResourceConfig: (config) => readTiming(config, defaults).problems,
    capture: (ctx) => captureSnapshots(definition as unknown as SnapshotResourceDefinition<JsonSchemaObject>, defaults, maxKeys, rowId, ctx),
  }) as unknown as Resource<FromSchema<S>, ResourceState>;
}

interface SnapshotSlot {
  id: string | undefined;
  takenAt: Date | undefined;
  keys: Map<string, string>;
}

// eslint-disable-next-line require-yield
async function* captureSnapshots(
  def: SnapshotResourceDefinition<JsonSchemaObject>,
  defaults: { interval: string; schedule?: string },
  maxKeys: number,
  rowId: boolean,
  ctx: BindingContext<ResourceState>,
): AsyncGenerator<never> {
  const { timing, problems } = readTiming(ctx.resourceConfig, defaults);
  if (!timing) throw new ConfigError(problems.map((p): ConfigProblem => ({ path: `resourceConfig.${p.path}`, message: p.message })));
  const ids = await listSubtasks(def.name, def.subtasks, fetchContext(ctx, undefined));
  const tasks = ids.map((id) => {
    const stored = partState(ctx.state, "snapshot", id) as SnapshotState | undefined;
    const slot: SnapshotSlot = {
      id,
      takenAt: stored?.takenAt ? new Date(stored.takenAt) : undefined,
      keys: new Map(isPlainObject(stored?.keys) ? Object.entries(stored.keys as Record<string, string>) : []),
    };
    return ctx.spawn(id === undefined ? "snapshot" : `snapshot.${id}`, (t) => runSnapshots(t, def, slot, timing, maxKeys, rowId));
  });
  ctx.reportBackfilling(false);
  await Promise.all(tasks);
}

async function runSnapshots(task: BindingTask<ResourceState>, def: SnapshotResourceDefinition<JsonSchemaObject>, slot: SnapshotSlot, timing: BindingTiming, maxKeys: number, rowId: boolean): Promise<void> {
  const ctx = taskFetchContext(task, slot.id);
  for (;;) {
    let due: number | undefined;
    if (slot.takenAt === undefined) due = Date.now();
    else if (timing.schedule) due = timing.schedule.nextAfter(slot.takenAt)?.getTime();
    else due = slot.takenAt.getTime() + timing.intervalMs;
    if (due === undefined) return; // a schedule that never fires again
    const waitMs = due - Date.now();
    if (waitMs > 0) {
      task.log.debug("awaiting the next snapshot", { at: new Date(due).toISOString(), subtask: slot.id });
      if (!(await task.sleep(waitMs))) return;
    }
    if (task.stopping.aborted) return;
    await takeSnapshot(task, def, ctx, slot, maxKeys, rowId);
    if (task.stopping.aborted) return;
  }
}

async function takeSnapshot(
  task: BindingTask<ResourceState>,
  def: SnapshotResourceDefinition<JsonSchemaObject>,
  ctx: FetchContext,
  slot: SnapshotSlot,
  maxKeys: number,
  rowId: boolean,
): Promise<void> {
  const startedAt = new Date();
  const previous = slot.keys;
  const current = new Map<string, string>();
  const keysPatch: Record<string, string | null> = {};
  let created = 0;
  let updated = 0;
  let position = 0;
  for await (const item of def.fetchSnapshot(ctx)) {
    if (item instanceof SourcedSchema) {
      task.sourcedSchema(item.schema);
      continue;
    }
    if (!isDocumentItem(item)) {
      throw new FlowcapError("RESPONSE_INVALID", `resource ${def.name}: fetchSnapshot yielded ${describe(item)}; it yields documents (objects) only`);
    }
    const meta = isPlainObject(item._meta) ? item._meta : undefined;
    const doc: Record<string, unknown> = rowId ? { ...item, _meta: { ...meta, row_id: position } } : item;
    position++;
    const key = keyOf(doc, def.key, def.name);
    if (!current.has(key) && current.size >= maxKeys) {
      throw new FlowcapError(
        "CAPTURE_FAILED",
        `resource ${def.name}: the snapshot holds more than ${maxKeys} documents, the most whose keys it tracks to tell deletions (each costs about ${key.length + 20} bytes of state). Raise maxKeys in defineSnapshotResource, or capture the resource incrementally`,
        { userFacing: true, data: { maxKeys } },
      );
    }
    const digest = digestOf(JSON.stringify(doc));
    current.set(key, digest);
    const before = previous.get(key);
    if (before === digest) continue;
    keysPatch[key] = digest;
    task.captured({ ...doc, _meta: { ...(doc._meta as object | undefined), op: before === undefined ? "c" : "u" } });
    if (before === undefined) created++;
    else updated++;
  }
  let deleted = 0;
  for (const key of previous.keys()) {
    if (current.has(key)) continue;
    keysPatch[key] = null;
    task.captured(deletionOf(key, def.key));
    deleted++;
  }
  const state: Record<string, unknown> = { takenAt: startedAt.toISOString() };
  if (created + updated + deleted > 0) state.keys = keysPatch;
  await task.checkpoint(partPatch("snapshot", slot.id, state));
  slot.keys = current;
  slot.takenAt = startedAt;
  task.log.info(created + updated + deleted > 0 ? "snapshot changed" : "snapshot unchanged", {
    documents: current.size,
    created,
    updated,
    deleted,
    subtask: slot.id,
  });
}
