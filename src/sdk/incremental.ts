import { ConfigError, FlowcapError, type ConfigProblem } from "../util/errors.js";
import { Boundary, type SeenEntry } from "./boundary.js";
import {
  compareComparable,
  cursorKind,
  CursorValue,
  decodeCursor,
  describe,
  encodeCursor,
  isDocumentItem,
  toComparable,
  type Comparable,
  type CursorKind,
  type LogCursor,
  type PageCursor,
  type StoredCursor,
  type WidenCursor,
} from "./cursor.js";
import { deletableSchema } from "./deletions.js";
import { fetchContext, listSubtasks, mergePatches, Mutex, partPatch, partState, taskFetchContext, type FetchContext, type OpenContext } from "./fetchContext.js";
import { defineResource, SourcedSchema, type Checkpoint, type BindingContext, type BindingTask, type Resource } from "./resource.js";
import { DEFAULT_RESOURCE_INTERVAL, parseIntervalMs, readTiming, type BindingTiming } from "./schedule.js";
import type { FromSchema, JsonSchemaObject } from "./schema.js";

/**
 * Fetches the changes of a resource since `cursor`: an async generator that yields documents,
 * then the LogCursor that follows them, any number of times, and returns when no more changes
 * are readily available (yielding nothing at all when there are none). The layer calls it
 * again after the binding's `interval`.
 *
 * What it yields, in order: documents (plain objects) and, after each batch of them, the cursor
 * that commits them; `ctx.sourcedSchema(schema)` anywhere, when the source reports a new schema.
 *
 * - Return every document whose cursor value is at or after `cursor` (inclusive: `>=`). The
 *   layer drops what it already sent at the boundary when the resource has a `cursorField`;
 *   an exclusive filter (`>`) would lose documents written later with the same value. (Where
 *   every document has a cursor value of its own, such as a log offset, make the cursor the
 *   position of the next document to read, so that `>=` still holds.)
 * - Each yielded cursor commits the documents yielded before it (a checkpoint), so yield it only
 *   once every document before that position has been yielded: the next call, after a restart
 *   too, starts there. Documents therefore come oldest first, or in batches each closed by the
 *   cursor of its newest document.
 * - Cursors never decrease, and are all of one kind: a valid `Date`, a finite number, a string
 *   (compared by code unit), or a tuple of strings and numbers compared element by element (the
 *   kind of the resource's `initialCursor`). Yielding the same cursor again is fine. Documents
 *   yielded after the last cursor are an error: they could never be committed.
 * - With `lookback`, `cursor` is the committed cursor minus the lookback window.
 * - Do not sleep or rate-limit between polls: the layer polls again after the binding's
 *   `interval` (at once, while a Date cursor lags by more than it). Do not fetch ahead of what
 *   you yield: a fetch should happen when the generator is resumed. Pass `ctx.stopping` as the
 *   `signal` of requests, so that a stop does not wait for them.
 * - Throwing fails the capture; it restarts from the last committed cursor (at-least-once).
 *
 * ```ts
 * async *fetchChanges(since, ctx) {
 *   for await (const page of paginate(http, "/v1/orders", { strategy, query: { updated_since: since.toISOString() }, signal: ctx.stopping })) {
 *     yield* page.items;
 *     const last = page.items.at(-1);
 *     if (last) yield new Date(last.updated_at);
 *   }
 * }
 * ```
 */
export type FetchChanges<Doc, C extends LogCursor> = (cursor: C, ctx: FetchContext) => AsyncIterable<Doc | C | CursorValue<C> | SourcedSchema>;

/**
 * Fetches the resource's backfill, page by page: an async generator that yields documents older
 * than `cutoff` (the cursor at which the incremental capture began, which sees everything at or
 * after it), then the PageCursor of the next page, any number of times. `page` is undefined for
 * the first page, then the last cursor it yielded.
 *
 * What it yields, in order: documents, then the cursor of the page that follows them; it may go
 * on to the next page itself (the usual way, with `paginate`) or return after the cursor, and
 * the layer calls it again from there. `ctx.sourcedSchema(schema)` may come anywhere.
 *
 * - Each yielded cursor commits the documents before it, and a restart resumes from it.
 * - Returning without a final cursor (after the last documents) ends the backfill: its state
 *   is removed and the binding counts as backfilled.
 * - A page cursor is JSON: a string (a page token, a next-page URL), a number (an offset, a page
 *   number, a last id), a tuple, or an object yielded as `pageCursor({...})`; null and undefined
 *   are not cursors (return instead).
 * - With a `cursorField`, documents at or after `cutoff` are dropped by the layer, so a page
 *   never overwrites a newer version captured by the incremental task. Without one, filter
 *   them out yourself (`updated_before: cutoff`).
 * - Prefer an order that updates cannot shift (by id, or keyset pagination): with offsets or page
 *   numbers over a list sorted by update time, a record updated mid-backfill moves, and the
 *   pages after it skip one record.
 * - TypeScript cannot infer the page cursor's type from what the generator yields: annotate
 *   `page` (`page: PaginationCursor | undefined` for `paginate`'s cursors) or pass the type
 *   arguments of defineIncrementalResource.
 *
 * ```ts
 * async *fetchPage(page: PaginationCursor | undefined, cutoff, ctx) {
 *   const pages = paginate(http, "/v1/orders", { strategy, query: { updated_before: cutoff.toISOString() }, from: page, signal: ctx.stopping });
 *   for await (const { items, next } of pages) {
 *     yield* items;
 *     if (next !== undefined) yield next;
 *   }
 * }
 * ```
 */
export type FetchPage<Doc, C extends LogCursor, P extends PageCursor> = (page: P | undefined, cutoff: C, ctx: FetchContext) => AsyncIterable<Doc | P | CursorValue<P> | SourcedSchema>;

/** Where an incremental task starts: a cursor, or a function of the binding (and subtask). */
export type InitialCursor<C extends LogCursor> = C | ((ctx: OpenContext) => C | Promise<C>);

/**
 * What `defineIncrementalResource` takes. `S` is the documents' schema, `C` the LogCursor type
 * (inferred from `initialCursor`, Date by default) and `P` the PageCursor type of `fetchPage`.
 */
export interface IncrementalResourceDefinition<S extends JsonSchemaObject, C extends LogCursor, P extends PageCursor> {
  /** The resource's name: its resource path, and the `name` of its resource config. */
  name: string;
  /** The collection key, as JSON pointers into the document (`["/id"]`). */
  key: readonly string[];
  /** JSON Schema of the documents; their TypeScript type is inferred from it. */
  schema: S;
  /** Discover the resource as disabled, for the user to enable. */
  disable?: boolean;
  /** Extra properties of the discovered resource config (declare them in the connector's resourceConfigSchema). */
  resourceConfig?: Record<string, unknown>;
  /**
   * How long to wait between polls when caught up: ISO-8601 (`PT5M`) or `5m`, `1h 30m`. Users
   * override it per binding with the resource config's `interval`. Default: five minutes.
   */
  interval?: string;
  /**
   * A cron expression (UTC) on which to run the backfill again, from the committed incremental
   * cursor as its cutoff (a firing missed while the connector was down runs at the next open);
   * users override it with the resource config's `schedule`. For a backfill-only resource (no
   * fetchChanges) each run reads everything up to a fresh `initialCursor()`: a periodic full
   * refresh.
   */
  schedule?: string;
  /**
   * JSON pointer to the document's cursor value (`/updated_at`; one pointer per element of a
   * tuple cursor). With it, the layer drops documents an inclusive poll returns again, and drops
   * backfill documents at or after the cutoff. Strongly recommended.
   */
  cursorField?: string | readonly string[];
  /**
   * Re-read this far behind the committed cursor on every poll, for APIs whose writes become
   * visible late (a duration such as `10m` for a Date cursor, a number for a number cursor).
   * Documents of the window that were already sent are dropped (with a `cursorField`).
   */
  lookback?: string | number;
  /**
   * Where the incremental task starts, which is also the backfill's cutoff. Default, for a
   * resource with a backfill: the time the binding starts (`new Date()`). Required without one.
   */
  initialCursor?: InitialCursor<C>;
  /**
   * Several sub-cursors per binding (an account, a repository, a tenant): the ids to capture,
   * listed at open. Each advances on its own, with its own incremental task, backfill and state;
   * an id seen for the first time is backfilled from its own cutoff. State of ids no longer
   * listed is kept (a listing that comes back partial must not lose cursors).
   */
  subtasks?: (ctx: OpenContext) => readonly string[] | Promise<readonly string[]>;
  /** Fetches changes since a cursor (see FetchChanges). Leave it out for a backfill-only resource. */
  fetchChanges?: FetchChanges<FromSchema<S>, WidenCursor<C>>;
  /** Fetches the backfill page by page (see FetchPage); it runs concurrently with fetchChanges from the first open. */
  fetchPage?: FetchPage<FromSchema<S>, WidenCursor<C>, P>;
  /**
   * The source reports deletions as documents with `_meta.op: "d"`: the discovered schema then
   * lets such a document carry only its key, and tells materializations to delete the row.
   */
  deletions?: boolean;
}

/** One incremental task's state: the committed cursor, and the documents it sent at the boundary. */
export interface IncrementalState {
  /** The committed LogCursor (a Date as `{"$date": "<ISO-8601>"}`): the next poll starts there. */
  cursor: StoredCursor;
  /**
   * Digests of the documents already sent at the cursor's value (with a `cursorField`), so that
   * the next inclusive poll drops them; bounded by MAX_BOUNDARY_DOCUMENTS.
   */
  seen?: SeenEntry[];
}

/** One backfill's state: its cutoff, and the cursor of the next page (absent: the first). */
export interface BackfillState {
  /** The LogCursor the backfill reads up to (excluded): where the incremental task began. */
  cutoff: StoredCursor;
  /** The PageCursor the next `fetchPage` call gets; absent before the first page is committed. */
  next?: StoredCursor;
}

/** One snapshot task's state: when the last snapshot began, and the digest of each key's document. */
export interface SnapshotState {
  /** When the last committed snapshot began (ISO-8601): the next is due `interval` after it. */
  takenAt: string;
  /** Each key of the last snapshot (its JSON) and a digest of its document, to tell changes and deletions. */
  keys: Record<string, string>;
}

/**
 * A binding's state under `bindingStateV1[stateKey]`, for incremental and snapshot resources.
 * Each part is keyed by subtask id when the resource has subtasks. Every part is checkpointed
 * as a merge patch of its own keys only, so concurrent tasks never overwrite each other.
 */
export interface ResourceState {
  /** The incremental task's state (by subtask id, with subtasks). */
  inc?: IncrementalState | Record<string, IncrementalState>;
  /** The backfill's state while it runs (by subtask id, with subtasks); removed when it completes. */
  backfill?: BackfillState | Record<string, BackfillState>;
  /** A snapshot resource's state (by subtask id, with subtasks). */
  snapshot?: SnapshotState | Record<string, SnapshotState>;
  /** When the latest backfill began (for `schedule`). */
  backfilledAt?: string;
}

/**
 * Declares an incremental resource: `fetchChanges` polls a log of changes by cursor, and an
 * optional `fetchPage` backfills what came before, concurrently, from the first open. The layer
 * keeps the cursors in the binding's state (see ResourceState), checkpoints them, polls again
 * after `interval`, drops what an inclusive cursor returns twice, re-runs the backfill on
 * `schedule`, reports "backfilling" to the connector's status until the backfill completes, and
 * starts over when Flow bumps the binding's backfill counter. A resource with `fetchPage` only is
 * backfilled once (or on every `schedule`) and then idles.
 *
 * ```ts
 * const issues = defineIncrementalResource({
 *   name: "issues",
 *   key: ["/id"],
 *   schema: issueSchema,
 *   cursorField: "/updated_at",
 *   async *fetchChanges(since) {
 *     const changed = await api.issues({ updatedSince: since, sort: "updated" });
 *     yield* changed;
 *     if (changed.length) yield new Date(changed.at(-1)!.updated_at);
 *   },
 *   async *fetchPage(page: number | undefined, cutoff) {
 *     const { items, next } = await api.issues({ page: page ?? 1, updatedBefore: cutoff });
 *     yield* items;
 *     if (next) yield next;
 *   },
 * });
 * ```
 */
export function defineIncrementalResource<const S extends JsonSchemaObject, C extends LogCursor = Date, P extends PageCursor = PageCursor>(
  definition: IncrementalResourceDefinition<S, C, P>,
): Resource<FromSchema<S>, ResourceState> {
  const where = `defineIncrementalResource(${definition.name})`;
  if (!definition.fetchChanges && !definition.fetchPage) throw new TypeError(`${where}: give fetchChanges, fetchPage or both`);
  if (!definition.fetchPage && definition.initialCursor === undefined) {
    throw new TypeError(`${where}: a resource without a backfill (fetchPage) needs an initialCursor, where its first poll starts (e.g. new Date(config.startDate))`);
  }
  const cursorFields = definition.cursorField === undefined ? [] : [definition.cursorField].flat();
  for (const ptr of cursorFields) if (!ptr.startsWith("/")) throw new TypeError(`${where}: cursorField ${JSON.stringify(ptr)} is not a JSON pointer`);
  const defaults = { interval: definition.interval ?? DEFAULT_RESOURCE_INTERVAL, schedule: definition.schedule };
  const defaultProblems = readTiming({}, defaults).problems;
  if (defaultProblems.length) throw new TypeError(`${where}: ${defaultProblems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  if (typeof definition.lookback === "string" && parseIntervalMs(definition.lookback) === undefined) {
    throw new TypeError(`${where}: lookback ${JSON.stringify(definition.lookback)} is not a duration (10m, PT10M)`);
  }

  return defineResource({
    name: definition.name,
    key: definition.key,
    schema: (definition.deletions ? deletableSchema(definition.schema, definition.key) : definition.schema) as S,
    disable: definition.disable,
    resourceConfig: { interval: defaults.interval, ...(defaults.schedule ? { schedule: defaults.schedule } : {}), ...definition.resourceConfig },
    initialState: {} as ResourceState,
    checkResourceConfig: (config) => readTiming(config, defaults).problems,
    capture: (ctx) => captureIncremental(definition as unknown as IncrementalResourceDefinition<JsonSchemaObject, LogCursor, PageCursor>, cursorFields, defaults, ctx),
  }) as unknown as Resource<FromSchema<S>, ResourceState>;
}

type AnyDefinition = IncrementalResourceDefinition<JsonSchemaObject, LogCursor, PageCursor>;

/** One subtask of a binding: its cursor, its backfill, and the lock that orders their commits. */
interface Slot {
  id: string | undefined;
  cursor: LogCursor;
  kind: CursorKind;
  seen: SeenEntry[];
  backfill: { cutoff: LogCursor; next: PageCursor | undefined } | undefined;
  lock: Mutex;
}

async function* captureIncremental(
  def: AnyDefinition,
  cursorFields: string[],
  defaults: { interval: string; schedule?: string },
  ctx: BindingContext<ResourceState>,
): AsyncGenerator<Checkpoint<ResourceState>> {
  const timing = timingOrThrow(ctx.resourceConfig, defaults);
  const ids = await listSubtasks(def.name, def.subtasks, fetchContext(ctx, undefined));
  const started = new Date();
  const init: Record<string, unknown> = {};
  const slots: Slot[] = [];
  for (const id of ids) {
    const storedInc = partState(ctx.state, "inc", id) as IncrementalState | undefined;
    let slot: Slot;
    if (storedInc === undefined) {
      // New: the binding (or this subtask) starts here, and its backfill covers what came before.
      const cursor = await initialCursor(def, fetchContext(ctx, id));
      slot = { id, cursor, kind: cursorKind(cursor), seen: [], backfill: def.fetchPage ? { cutoff: cursor, next: undefined } : undefined, lock: new Mutex() };
      mergePatches(init, partPatch("inc", id, { cursor: encodeCursor(cursor) }));
      if (slot.backfill) mergePatches(init, partPatch("backfill", id, { cutoff: encodeCursor(cursor) }));
    } else {
      const cursor = decodeStoredCursor<LogCursor>(storedInc.cursor, def.name, "inc.cursor");
      const storedBackfill = partState(ctx.state, "backfill", id) as BackfillState | undefined;
      slot = {
        id,
        cursor,
        kind: cursorKind(cursor),
        seen: Array.isArray(storedInc.seen) ? storedInc.seen : [],
        backfill:
          storedBackfill && def.fetchPage
            ? { cutoff: decodeStoredCursor<LogCursor>(storedBackfill.cutoff, def.name, "backfill.cutoff"), next: storedBackfill.next === undefined ? undefined : decodeCursor<PageCursor>(storedBackfill.next) }
            : undefined,
        lock: new Mutex(),
      };
    }
    slots.push(slot);
  }
  if (timing.schedule && ctx.state.backfilledAt === undefined) init.backfilledAt = started.toISOString();
  if (Object.keys(init).length) yield ctx.checkpoint(init as ResourceState);

  const lookback = lookbackFor(def, slots[0]?.kind);
  const backfills = new BackfillCounter(ctx);
  const tasks: Promise<void>[] = [];
  if (def.fetchChanges) {
    for (const slot of slots) tasks.push(ctx.spawn(taskName("incremental", slot.id), (t) => runIncremental(t, def, slot, cursorFields, lookback, timing)));
  }
  const startBackfill = (slot: Slot) => ctx.spawn(taskName("backfill", slot.id), (t) => runBackfill(t, def, slot, cursorFields, backfills));
  for (const slot of slots) if (slot.backfill) tasks.push(startBackfill(slot));
  if (def.fetchPage && timing.schedule) tasks.push(ctx.spawn("schedule", (t) => runSchedule(t, def, slots, timing.schedule!, startBackfill)));
  backfills.update();
  await Promise.all(tasks);
}

function taskName(part: string, id: string | undefined): string {
  return id === undefined ? part : `${part}.${id}`;
}

function timingOrThrow(resourceConfig: Record<string, unknown>, defaults: { interval: string; schedule?: string }): BindingTiming {
  const { timing, problems } = readTiming(resourceConfig, defaults);
  if (!timing) throw new ConfigError(problems.map((p): ConfigProblem => ({ path: `resourceConfig.${p.path}`, message: p.message })));
  return timing;
}

async function initialCursor(def: AnyDefinition, ctx: OpenContext): Promise<LogCursor> {
  const initial = def.initialCursor ?? (() => new Date());
  const cursor = typeof initial === "function" ? await initial(ctx) : initial;
  cursorKind(cursor); // throws a clear error for something that is not a LogCursor
  return cursor;
}

function decodeStoredCursor<C>(stored: unknown, resource: string, where: string): C {
  if (stored === undefined || stored === null) throw new FlowcapError("STATE_INVALID", `resource ${resource}: the stored state has no ${where}`);
  return decodeCursor<C>(stored);
}

/** The lookback window in the units of the cursor's comparable (milliseconds for a Date). */
function lookbackFor(def: AnyDefinition, kind: CursorKind | undefined): number {
  if (def.lookback === undefined || kind === undefined) return 0;
  if (kind === "date") return typeof def.lookback === "number" ? def.lookback : parseIntervalMs(def.lookback)!;
  if (kind === "number" && typeof def.lookback === "number") return def.lookback;
  throw new FlowcapError("INTERNAL", `resource ${def.name}: lookback ${JSON.stringify(def.lookback)} does not apply to a ${kind} cursor (a duration applies to Date cursors, a number to number cursors)`);
}

/** The cursor the next poll starts from: the committed one, less the lookback window. */
function pollFrom(slot: Slot, lookback: number): LogCursor {
  if (lookback === 0) return slot.cursor;
  if (slot.cursor instanceof Date) return new Date(slot.cursor.getTime() - lookback);
  return (slot.cursor as number) - lookback;
}

/** The binding's backfills in progress, reported to the connector's status line. */
class BackfillCounter {
  private running = 0;
  constructor(private readonly ctx: BindingContext<ResourceState>) {}
  add(n: number): void {
    this.running += n;
    this.update();
  }
  update(): void {
    this.ctx.reportBackfilling(this.running > 0);
  }
}

async function runIncremental(task: BindingTask<ResourceState>, def: AnyDefinition, slot: Slot, cursorFields: string[], lookback: number, timing: BindingTiming): Promise<void> {
  const fetchChanges = def.fetchChanges!;
  const ctx = taskFetchContext(task, slot.id);
  const boundary = cursorFields.length ? new Boundary(cursorFields, slot.kind, lookback, slot.seen) : undefined;
  const intervalMs = timing.intervalMs;
  let sleepMs = 0;
  if (slot.cursor instanceof Date) {
    // Polled recently (before a restart): wait out the rest of the interval.
    const lag = Date.now() - slot.cursor.getTime();
    if (lag < intervalMs) sleepMs = intervalMs - lag;
  }
  task.log.info("resuming incremental capture", { cursor: describe(slot.cursor), subtask: slot.id });
  for (;;) {
    if (sleepMs > 0 && !(await task.sleep(sleepMs))) return;
    if (task.stopping.aborted) return;
    const progressed = await poll(task, fetchChanges, ctx, slot, boundary, lookback);
    if (task.stopping.aborted) return;
    if (!progressed) sleepMs = intervalMs;
    else if (slot.cursor instanceof Date) {
      const lag = Date.now() - slot.cursor.getTime();
      sleepMs = lag > intervalMs ? 0 : intervalMs - lag;
    } else sleepMs = 0;
    if (sleepMs > 0) task.log.debug("incremental capture is caught up", { sleepMs, cursor: describe(slot.cursor), subtask: slot.id });
  }
}

/** One call of fetchChanges. Returns whether it made progress (a new document, or a later cursor). */
async function poll(
  task: BindingTask<ResourceState>,
  fetchChanges: FetchChanges<unknown, LogCursor>,
  ctx: FetchContext,
  slot: Slot,
  boundary: Boundary | undefined,
  lookback: number,
): Promise<boolean> {
  const iterator = fetchChanges(pollFrom(slot, lookback), ctx)[Symbol.asyncIterator]();
  let progressed = false;
  let documents = 0;
  let dropped = 0;
  let schemas = 0;
  let locked = false;
  try {
    await slot.lock.acquire();
    locked = true;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const item = next.value;
      if (isDocumentItem(item)) {
        if (boundary) {
          const value = boundary.valueOf(item);
          if (boundary.isDuplicate(item, value)) {
            dropped++;
            continue;
          }
          boundary.note(item, value);
        }
        task.captured(item);
        documents++;
        continue;
      }
      if (item instanceof SourcedSchema) {
        task.sourcedSchema(item.schema);
        schemas++;
        continue;
      }
      const cursor = (item instanceof CursorValue ? item.value : item) as LogCursor;
      const kind = cursorKind(cursor);
      if (kind !== slot.kind) {
        throw new FlowcapError("RESPONSE_INVALID", `resource ${task.resourceConfig.name}: fetchChanges yielded ${describe(cursor)}, a ${kind} cursor, after a ${slot.kind} cursor (${describe(slot.cursor)}): a resource's cursors are all of one kind`);
      }
      const order = compareComparable(toComparable(cursor), toComparable(slot.cursor));
      if (order < 0 && lookback === 0) {
        throw new FlowcapError("RESPONSE_INVALID", `resource ${task.resourceConfig.name}: fetchChanges yielded cursor ${describe(cursor)}, before the committed cursor ${describe(slot.cursor)}: cursors must never decrease`);
      }
      const committed = order > 0 ? cursor : slot.cursor;
      const seen = boundary?.commit(toComparable(committed) as Comparable);
      if (order > 0 || documents > 0 || schemas > 0 || seen !== undefined) {
        slot.cursor = committed;
        const state: IncrementalState = { cursor: encodeCursor(committed) };
        if (seen !== undefined) state.seen = seen;
        await task.checkpoint(partPatch("inc", slot.id, state));
      }
      // Progress is a later cursor, or documents that are new at the same cursor (which can be
      // told from old ones only with a boundary): not re-reading one boundary forever.
      if (order > 0 || (boundary && documents > 0)) progressed = true;
      if (dropped > 0) task.log.debug("dropped documents already sent at the cursor boundary", { dropped, subtask: slot.id });
      documents = dropped = schemas = 0;
      slot.lock.release();
      locked = false;
      if (task.stopping.aborted) return progressed;
      await slot.lock.acquire();
      locked = true;
    }
    if (documents > 0) {
      throw new FlowcapError(
        "RESPONSE_INVALID",
        `resource ${task.resourceConfig.name}: fetchChanges yielded ${documents} document(s) and then returned without yielding the cursor that follows them; yield a cursor after documents, or they can never be committed`,
      );
    }
    if (schemas > 0) await task.checkpoint({});
    return progressed;
  } finally {
    if (locked) slot.lock.release();
    await iterator.return?.();
  }
}

async function runBackfill(task: BindingTask<ResourceState>, def: AnyDefinition, slot: Slot, cursorFields: string[], counter: BackfillCounter): Promise<void> {
  const fetchPage = def.fetchPage!;
  const backfill = slot.backfill!;
  const ctx = taskFetchContext(task, slot.id);
  const boundary = cursorFields.length ? new Boundary(cursorFields, cursorKind(backfill.cutoff), 0) : undefined;
  const cutoff = toComparable(backfill.cutoff);
  counter.add(1);
  try {
    task.log.info(backfill.next === undefined ? "beginning backfill" : "resuming backfill", { cutoff: describe(backfill.cutoff), next: describe(backfill.next), subtask: slot.id });
    let pages = 0;
    let documents = 0;
    for (;;) {
      if (task.stopping.aborted) return;
      const iterator = fetchPage(backfill.next, backfill.cutoff, ctx)[Symbol.asyncIterator]();
      let trailingCursor = false;
      let dropped = 0;
      let locked = false;
      try {
        await slot.lock.acquire();
        locked = true;
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          const item = next.value;
          if (isDocumentItem(item)) {
            trailingCursor = false;
            if (boundary) {
              const value = boundary.valueOf(item);
              // At or after the cutoff, the incremental task captures it (and may have already).
              if (value !== undefined && compareComparable(value, cutoff) >= 0) {
                dropped++;
                continue;
              }
            }
            task.captured(item);
            documents++;
            continue;
          }
          if (item instanceof SourcedSchema) {
            task.sourcedSchema(item.schema);
            continue;
          }
          const page = item instanceof CursorValue ? (item.value as PageCursor) : (item as PageCursor);
          if (page === null || page === undefined || item instanceof Date) {
            throw new FlowcapError(
              "RESPONSE_INVALID",
              `resource ${task.resourceConfig.name}: fetchPage yielded ${describe(page)} as a page cursor; to end the backfill, return without yielding one`,
            );
          }
          backfill.next = page;
          await task.checkpoint(partPatch("backfill", slot.id, { next: encodeCursor(page) }));
          pages++;
          trailingCursor = true;
          slot.lock.release();
          locked = false;
          if (task.stopping.aborted) return;
          await slot.lock.acquire();
          locked = true;
        }
        if (dropped > 0) task.log.debug("dropped backfill documents at or after the cutoff (the incremental task captures them)", { dropped, subtask: slot.id });
        if (!trailingCursor) {
          // Done: what was yielded last is committed with the backfill's removal.
          slot.backfill = undefined;
          await task.checkpoint(partPatch("backfill", slot.id, null));
          task.log.info("completed backfill", { pages, documents, subtask: slot.id });
          return;
        }
      } finally {
        if (locked) slot.lock.release();
        await iterator.return?.();
      }
    }
  } finally {
    counter.add(-1);
  }
}

/**
 * Runs the binding's backfill again whenever its schedule fires: each subtask not backfilling
 * then starts a new backfill whose cutoff is its committed incremental cursor. A firing missed
 * while the connector was down runs at open.
 */
async function runSchedule(
  task: BindingTask<ResourceState>,
  def: AnyDefinition,
  slots: Slot[],
  schedule: NonNullable<BindingTiming["schedule"]>,
  startBackfill: (slot: Slot) => Promise<void>,
): Promise<void> {
  const running: Promise<void>[] = [];
  let last = new Date(task.state.backfilledAt ?? Date.now());
  for (;;) {
    const due = schedule.nextAfter(last);
    if (due === undefined) break;
    const waitMs = due.getTime() - Date.now();
    if (waitMs > 0 && !(await task.sleep(waitMs))) break;
    if (task.stopping.aborted) break;
    last = new Date();
    const patch: Record<string, unknown> = { backfilledAt: last.toISOString() };
    const starting: Slot[] = [];
    for (const slot of slots) {
      if (slot.backfill) continue;
      if (!def.fetchChanges) {
        // Backfill only: nothing captures what comes after a cutoff, so each run reads up to now.
        slot.cursor = await initialCursor(def, taskFetchContext(task, slot.id));
        mergePatches(patch, partPatch("inc", slot.id, { cursor: encodeCursor(slot.cursor) }));
      }
      // The cutoff must be a committed cursor: take it with the lock, between two commits.
      await slot.lock.acquire();
      slot.backfill = { cutoff: slot.cursor, next: undefined };
      slot.lock.release();
      mergePatches(patch, partPatch("backfill", slot.id, { cutoff: encodeCursor(slot.cursor) }));
      starting.push(slot);
    }
    task.log.info("schedule fired: backfilling again", { schedule: schedule.expression, subtasks: starting.map((s) => s.id ?? def.name) });
    await task.checkpoint(patch);
    for (const slot of starting) running.push(startBackfill(slot));
  }
  await Promise.all(running);
}
