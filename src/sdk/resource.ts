import type { CaptureBinding } from "../protocol/index.js";
import type { Logger } from "../runtime/index.js";
import type { ConfigProblem } from "../util/errors.js";
import type { FromSchema, JsonSchemaObject } from "./schema.js";

/** A state update yielded by a resource's capture function. Build it with `ctx.checkpoint()`. */
export class Checkpoint<State = unknown> {
  /** @internal */
  readonly __state?: State;
  constructor(
    /** For "merge", an RFC 7396 merge patch of the binding's state; for "replace", the whole new state. */
    readonly value: object,
    readonly mode: "merge" | "replace",
  ) {}
}

/**
 * A schema the source reports for a binding's documents (`sourcedSchema`), yielded like a
 * document; Flow widens the collection's inferred schema with it once the next checkpoint
 * commits. Build it with `ctx.sourcedSchema()`. Objects that declare `properties` without
 * saying `additionalProperties` are closed (`additionalProperties: false`), as Flow requires.
 */
export class SourcedSchema {
  constructor(readonly schema: JsonSchemaObject | boolean) {}
}

/** What every part of a binding's capture shares: where it logs, when it stops, what it is. */
export interface BindingInfo {
  /** The binding's logger: its lines carry the binding (and the task or subtask). */
  readonly log: Logger;
  /** Aborted when the capture must stop; return (or stop yielding) soon after. */
  readonly stopping: AbortSignal;
  /** Waits `ms`, or less if the capture is stopping; resolves false when cut short. */
  sleep(ms: number): Promise<boolean>;
  /** The binding as Flow sent it in `open`. */
  readonly binding: CaptureBinding;
  /** The binding's index: the `binding` of its `captured` messages. */
  readonly bindingIndex: number;
  /** The binding's state key (`bindingStateV1[stateKey]` holds its state). */
  readonly stateKey: string;
  /** The binding's resource config. */
  readonly resourceConfig: Record<string, unknown>;
}

/**
 * A concurrent part of a binding's capture (see `BindingContext.spawn`), with its own buffer:
 * what it captures is committed with its own checkpoints only, never with a sibling's.
 */
export interface BindingTask<State> extends BindingInfo {
  /** The binding's state, as updated by every checkpoint of every part of the binding. */
  readonly state: State;
  /** Buffers a document of the binding; it is serialized once, here. */
  captured(doc: object): void;
  /** Buffers a `sourcedSchema` of the binding; it takes effect at the next checkpoint. */
  sourcedSchema(schema: JsonSchemaObject | boolean): void;
  /**
   * Commits what this task buffered together with `patch`, an RFC 7396 merge patch of the
   * binding's state (`{ replace: true }`: the whole new state). Resolves once written (and
   * acknowledged, when the connector asked for acknowledgements). At-least-once: after a crash
   * the binding resumes from its last committed state.
   */
  checkpoint(patch: object, options?: { replace?: boolean }): Promise<void>;
  /** Bytes buffered since this task's last checkpoint. */
  readonly pendingBytes: number;
}

/** What a resource's capture function gets for the binding it serves. */
export interface BindingContext<State> extends BindingInfo {
  /** The binding's state: the resource's `initialState` merged with what was last committed. Updated by each checkpoint. */
  readonly state: State;
  /**
   * A checkpoint to yield after documents: they are committed together with this state. By
   * default `patch` is merged into the binding's state (RFC 7396: `null` deletes a key);
   * `{ replace: true }` makes it the binding's whole state.
   */
  checkpoint(patch: Partial<State> | { [K in keyof State]?: State[K] | null }, options?: { replace?: boolean }): Checkpoint<State>;
  /** A sourced schema to yield (see SourcedSchema). */
  sourcedSchema(schema: JsonSchemaObject | boolean): SourcedSchema;
  /**
   * Runs `run` concurrently with this capture function and the binding's other tasks, with its
   * own buffer, and resolves when it returns. Its checkpoints patch the same binding state, so
   * concurrent tasks should each patch keys of their own. If it throws, the capture fails.
   */
  spawn(name: string, run: (task: BindingTask<State>) => Promise<void>): Promise<void>;
  /**
   * Tells the connector's status line whether this binding is backfilling: Flow shows
   * "Backfilling N of M bindings" until every binding has reported its backfill done.
   */
  reportBackfilling(active: boolean): void;
}

/**
 * The capture function of a resource: an async generator that yields documents and, after
 * them, checkpoints. Documents yielded after the last checkpoint are not committed; a capture
 * that resumes starts from the last committed state and may send them again (at-least-once).
 * Returning ends the binding's capture for this session.
 */
export type CaptureFn<Doc, State> = (ctx: BindingContext<State>) => AsyncIterable<Doc | Checkpoint<State> | SourcedSchema>;

/** What `defineResource` takes: `S` is the documents' schema, `State` the binding's state. */
export interface ResourceDefinition<S extends JsonSchemaObject, State extends object> {
  /** The resource's name: its resource config is `{ name }` and its resource path `[name]`. */
  name: string;
  /** The collection key, as JSON pointers into the document (`["/id"]`). */
  key: readonly string[];
  /** JSON Schema of the documents. Their TypeScript type is inferred from it. */
  schema: S;
  /** State of a binding that has none yet. */
  initialState?: State;
  /** Discover the resource as disabled, for the user to enable. */
  disable?: boolean;
  /**
   * Extra properties of the discovered resource config (beside `name`); the connector's
   * `resourceConfigSchema` must declare them, or validate would refuse them.
   */
  resourceConfig?: Record<string, unknown>;
  /** Captures one binding (see CaptureFn): called once per binding per session. */
  capture: CaptureFn<FromSchema<S>, State>;
  /**
   * Checks a binding's resource config beyond the connector's resourceConfigSchema (at validate
   * and open); returns the problems, each with its path inside the resource config.
   */
  checkResourceConfig?(resourceConfig: Record<string, unknown>): ConfigProblem[];
}

/**
 * A resource as the SDK holds it: what `defineResource`, `defineIncrementalResource` and
 * `defineSnapshotResource` return, for `defineConnector({ resources })`.
 */
export interface Resource<Doc = unknown, State extends object = object> {
  /** Its name: its resource path, and the `name` of its resource config. */
  readonly name: string;
  /** The collection key, as JSON pointers. */
  readonly key: readonly string[];
  /** The discovered documents' schema. */
  readonly schema: JsonSchemaObject;
  /** The state of a binding that has none yet. */
  readonly initialState: State;
  /** Discovered as disabled. */
  readonly disable: boolean;
  /** The discovered resource config, beside `name`. */
  readonly resourceConfig: Record<string, unknown>;
  // A method, not a property: method parameters are bivariant, so any Resource<Doc, State> is
  // an AnyResource and connectors can list resources of different state types together.
  /** Captures one binding (see CaptureFn). */
  capture(ctx: BindingContext<State>): AsyncIterable<Doc | Checkpoint<State> | SourcedSchema>;
  /** Checks a binding's resource config beyond the schema (see ResourceDefinition). */
  checkResourceConfig?(resourceConfig: Record<string, unknown>): ConfigProblem[];
}

/**
 * Declares a resource: a stream of documents the connector captures into one collection.
 *
 * ```ts
 * const greetings = defineResource({
 *   name: "greetings",
 *   key: ["/count"],
 *   schema: { type: "object", properties: { count: { type: "integer" } }, required: ["count"] },
 *   initialState: { count: 0 },
 *   async *capture(ctx) {
 *     let count = ctx.state.count;
 *     while (await ctx.sleep(1000)) {
 *       yield { count: ++count };
 *       yield ctx.checkpoint({ count });
 *     }
 *   },
 * });
 * ```
 */
export function defineResource<const S extends JsonSchemaObject, State extends object = Record<string, unknown>>(
  definition: ResourceDefinition<S, State>,
): Resource<FromSchema<S>, State> {
  if (!definition.name) throw new TypeError("defineResource: a resource needs a name");
  if (!definition.key?.length) throw new TypeError(`defineResource(${definition.name}): a resource needs a key (JSON pointers such as "/id")`);
  for (const ptr of definition.key) {
    if (!ptr.startsWith("/")) throw new TypeError(`defineResource(${definition.name}): key ${JSON.stringify(ptr)} is not a JSON pointer (it must start with "/")`);
  }
  return {
    name: definition.name,
    key: definition.key,
    schema: definition.schema,
    initialState: (definition.initialState ?? {}) as State,
    disable: definition.disable ?? false,
    resourceConfig: definition.resourceConfig ?? {},
    capture: definition.capture,
    ...(definition.checkResourceConfig ? { checkResourceConfig: definition.checkResourceConfig } : {}),
  };
}
