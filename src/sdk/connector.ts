import type {
  AppliedResponse,
  ApplyRequest,
  CaptureBinding,
  DiscoveredBinding,
  OAuth2,
  OpenRequest,
  ValidateRequest,
} from "../protocol/index.js";
import { stateKey as computeStateKey } from "../protocol/index.js";
import type { CaptureTask, Connector, RequestContext } from "../runtime/index.js";
import { sleep } from "../util/abort.js";
import { ConfigError, FlowcapError, type ConfigProblem } from "../util/errors.js";
import { applyMergePatch, diffMergePatch, isPlainObject } from "../util/mergePatch.js";
import { CaptureStatus } from "./captureStatus.js";
import { checkWithSchema, parseWithSchema } from "./config.js";
import { closeSourcedSchema } from "./sourcedSchema.js";
import { Checkpoint, SourcedSchema, type BindingContext, type BindingTask, type Resource } from "./resource.js";
import type { FromSchema, JsonSchemaObject } from "./schema.js";

/** Any resource, whatever its document and state types. */
export type AnyResource = Resource<unknown, object>;

type MaybePromise<T> = T | Promise<T>;

/** What Flow's control plane stores in a resource config after validation (`_meta.path`). */
const META_PROPERTY = { type: "object", description: "Set by Flow; not part of the resource's configuration." } as const;

/**
 * The resource config schema used when a connector declares none: `{ name }`, which is also the
 * resource path, with the optional `interval` and `schedule` of incremental and snapshot
 * resources. `_meta` is allowed because Flow's control plane stores `_meta.path` there.
 */
export const DEFAULT_RESOURCE_CONFIG_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Resource",
  type: "object",
  properties: {
    name: { type: "string", title: "Name", description: "Name of the resource to capture." },
    interval: {
      type: "string",
      title: "Interval",
      description: "How long to wait between polls of the resource for changes (or between snapshots): ISO-8601 (PT5M) or 5m, 1h 30m. Default: the resource's own.",
    },
    schedule: {
      type: "string",
      title: "Schedule",
      description: "When to re-run the resource's backfill or snapshot, as a cron expression in UTC (0 3 * * *: daily at 03:00). Empty: never.",
    },
    _meta: META_PROPERTY,
  },
  required: ["name"],
  additionalProperties: false,
} as const satisfies JsonSchemaObject;

/**
 * A resource config schema as the connector's spec gives it: `_meta` is declared, so a schema
 * with `additionalProperties: false` still takes the resource configs Flow stores.
 */
function allowingMeta(schema: JsonSchemaObject): JsonSchemaObject {
  if (schema.properties?._meta !== undefined) return schema;
  return { ...schema, properties: { ...schema.properties, _meta: META_PROPERTY } };
}

/** What `defineConnector` takes; `C` is the endpoint config's schema. */
export interface ConnectorDefinition<C extends JsonSchemaObject> {
  /** Where users read about the connector (Flow requires a non-empty URL). */
  documentationUrl: string;
  /** JSON Schema of the endpoint config; the config's TypeScript type is inferred from it. */
  config: C;
  /**
   * JSON Schema of a binding's resource config, for connectors whose resources take settings
   * beside their `name` (declare each field a resource's `resourceConfig` discovers). It must
   * declare a string `name`: bindings are matched to resources by it, and it is the resource
   * path. `_meta`, which Flow stores there, is always allowed. Default:
   * DEFAULT_RESOURCE_CONFIG_SCHEMA (`{ name }` only).
   */
  resourceConfigSchema?: JsonSchemaObject;
  /**
   * The resources the connector offers: a list, or a function of the (validated) config for
   * connectors whose resources depend on the endpoint.
   */
  resources: readonly AnyResource[] | ((config: FromSchema<C>, context: RequestContext) => MaybePromise<readonly AnyResource[]>);
  /**
   * Checks the config against the endpoint when Flow validates the capture (a test request, a
   * login). Throw a ConfigError to report a user-facing problem.
   */
  check?(config: FromSchema<C>, context: RequestContext): MaybePromise<void>;
  /** Applies the capture to the endpoint; the default does nothing. */
  apply?(request: ApplyRequest, config: FromSchema<C>, context: RequestContext): MaybePromise<AppliedResponse>;
  /** The OAuth2 flow Flow's host runs to fill in the config's `credentials`. */
  oauth2?: OAuth2;
  /** Ask Flow to acknowledge each checkpoint once committed; `ctx.checkpoint()` then waits for it. */
  explicitAcknowledgements?: boolean;
}

/** A connector built by defineConnector: a runtime Connector that also exposes its definition. */
export interface DefinedConnector<C extends JsonSchemaObject> extends Connector {
  /** What it was defined with. */
  readonly definition: ConnectorDefinition<C>;
}

/**
 * Defines a native connector from its config schema and resources; hand the result to `serve()`.
 * Spec, discover, validate and open are derived from the resources: the resource config is
 * `{ name }` (or `resourceConfigSchema`), each binding's state lives under
 * `bindingStateV1[stateKey]`, and each resource's checkpoints are merge patches of its own state
 * only, so bindings never overwrite each other.
 */
export function defineConnector<const C extends JsonSchemaObject>(definition: ConnectorDefinition<C>): DefinedConnector<C> {
  type Config = FromSchema<C>;
  const parseConfig = (config: unknown) => parseWithSchema<Config>(definition.config, config, "endpoint config");
  const listResources = async (config: Config, ctx: RequestContext) =>
    typeof definition.resources === "function" ? await definition.resources(config, ctx) : definition.resources;
  const resourceConfigSchema = allowingMeta(definition.resourceConfigSchema ?? DEFAULT_RESOURCE_CONFIG_SCHEMA);
  const nameProperty = resourceConfigSchema.properties?.name;
  const nameTypes = typeof nameProperty === "object" ? [nameProperty.type].flat() : [];
  if (!nameTypes.includes("string")) {
    throw new TypeError('defineConnector: resourceConfigSchema must declare a string property "name" (the resource path, which bindings are matched by)');
  }

  /** Matches bindings to resources by name; collects every problem before failing. */
  const resolve = (resources: readonly AnyResource[], bindings: readonly { resourceConfig: Record<string, unknown> }[]) => {
    const byName = new Map(resources.map((r) => [r.name, r]));
    const problems: ConfigProblem[] = [];
    const resolved = bindings.map((binding, i) => {
      const where = `bindings[${i}].resourceConfig`;
      const configProblems = checkWithSchema(resourceConfigSchema, binding.resourceConfig, where);
      if (configProblems.length) {
        problems.push(...configProblems);
        return undefined;
      }
      const name = String(binding.resourceConfig.name);
      const resource = byName.get(name);
      if (!resource) {
        const known = resources.map((r) => JSON.stringify(r.name)).join(", ") || "none";
        problems.push({ path: where + ".name", message: `no resource named ${JSON.stringify(name)} (this connector has: ${known})` });
      }
      for (const p of resource?.checkResourceConfig?.(binding.resourceConfig) ?? []) problems.push({ path: `${where}.${p.path}`, message: p.message });
      return resource;
    });
    if (problems.length) throw new ConfigError(problems, { code: "RESOURCE_NOT_FOUND" });
    return resolved as AnyResource[];
  };

  return {
    definition,

    spec() {
      return {
        configSchema: definition.config as Record<string, unknown>,
        resourceConfigSchema: resourceConfigSchema as Record<string, unknown>,
        documentationUrl: definition.documentationUrl,
        ...(definition.oauth2 ? { oauth2: definition.oauth2 } : {}),
        resourcePathPointers: ["/name"],
      };
    },

    async discover(request, ctx) {
      const config = parseConfig(request.config);
      const resources = await listResources(config, ctx);
      const bindings: DiscoveredBinding[] = resources.map((r) => ({
        recommendedName: r.name,
        resourceConfig: { ...r.resourceConfig, name: r.name },
        documentSchema: r.schema as Record<string, unknown>,
        key: [...r.key],
        disable: r.disable,
        resourcePath: [r.name],
      }));
      // A discovered resource config that validate would refuse is the connector's bug: say so
      // here, where the author can see which field to declare, not at the user's validate.
      const misfits = bindings.flatMap((b) => checkWithSchema(resourceConfigSchema, b.resourceConfig, `resource ${b.recommendedName}: resourceConfig`));
      if (misfits.length) {
        throw new FlowcapError(
          "INTERNAL",
          `discovered resource configs that do not fit the connector's resourceConfigSchema (declare their fields in defineConnector's resourceConfigSchema): ${misfits.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
        );
      }
      return { bindings };
    },

    async validate(request: ValidateRequest, ctx) {
      const config = parseConfig(request.config);
      await definition.check?.(config, ctx);
      resolve(await listResources(config, ctx), request.bindings);
      return { bindings: request.bindings.map((b) => ({ resourcePath: [String(b.resourceConfig.name)] })) };
    },

    async apply(request, ctx) {
      const config = parseConfig(request.capture.config);
      return definition.apply ? await definition.apply(request, config, ctx) : { actionDescription: "" };
    },

    async open(request: OpenRequest, ctx) {
      const config = parseConfig(request.capture.config);
      const resources = resolve(await listResources(config, ctx), request.capture.bindings);
      const stored = isPlainObject(request.state.bindingStateV1) ? request.state.bindingStateV1 : {};
      const bindings = request.capture.bindings;
      return {
        opened: definition.explicitAcknowledgements ? { explicitAcknowledgements: true } : {},
        async capture(task: CaptureTask) {
          // A bumped backfill counter gives the binding a new state key: the state under its
          // former keys is dead, and is removed so that it neither lingers nor comes back.
          const stale = staleStateKeys(bindings, stored);
          if (stale.length) {
            task.log.info("removing the state of bindings that were backfilled again", { stateKeys: stale });
            await task.checkpoint({ bindingStateV1: Object.fromEntries(stale.map((k) => [k, null])) });
          }
          const status = new CaptureStatus(task.log, bindings.length);
          try {
            await Promise.all(
              bindings.map((binding, index) => {
                const resource = resources[index]!;
                return task.spawn(`${resource.name}#${index}`, (t) => captureBinding(t, resource, binding, index, stored, status));
              }),
            );
          } finally {
            status.close();
          }
        },
      };
    },
  };
}

/** The state keys a binding had before its backfill counter reached its current value. */
function staleStateKeys(bindings: readonly CaptureBinding[], stored: Record<string, unknown>): string[] {
  const current = new Set(bindings.map(bindingStateKey));
  const stale: string[] = [];
  for (const binding of bindings) {
    for (let version = 0; version < (binding.backfill ?? 0); version++) {
      const key = computeStateKey(binding.resourcePath, version);
      if (key in stored && !current.has(key)) stale.push(key);
    }
  }
  return stale;
}

function bindingStateKey(binding: CaptureBinding): string {
  return binding.stateKey || computeStateKey(binding.resourcePath, binding.backfill);
}

/**
 * Runs one binding's capture function, routing its documents and checkpoints to the task, and
 * the tasks it spawns to child tasks that share the binding's state.
 */
async function captureBinding(
  task: CaptureTask,
  resource: AnyResource,
  binding: CaptureBinding,
  index: number,
  stored: Record<string, unknown>,
  status: CaptureStatus,
): Promise<void> {
  const key = bindingStateKey(binding);
  let state = applyMergePatch(resource.initialState, stored[key] ?? {}) as object;
  /** Folds a checkpoint into the binding's state and writes it with what `t` buffered. */
  const commit = async (t: CaptureTask, value: object, replace: boolean) => {
    const patch = replace ? (diffMergePatch(state, value) ?? {}) : value;
    state = applyMergePatch(state, patch) as object;
    await t.checkpoint({ bindingStateV1: { [key]: patch } });
  };
  const info = {
    log: task.log,
    stopping: task.stopping,
    sleep: (ms: number) => sleep(ms, task.stopping),
    binding,
    bindingIndex: index,
    stateKey: key,
    resourceConfig: binding.resourceConfig,
  };
  let backfilling: boolean | undefined;
  const ctx: BindingContext<object> = {
    ...info,
    get state() {
      return state;
    },
    checkpoint: (patch, options) => new Checkpoint(patch as object, options?.replace ? "replace" : "merge"),
    sourcedSchema: (schema) => new SourcedSchema(schema),
    spawn: (name, run) =>
      task.spawn(`${task.name}.${name}`, (child) => {
        const bindingTask: BindingTask<object> = {
          ...info,
          log: child.log,
          get state() {
            return state;
          },
          captured: (doc) => child.captured(index, doc),
          sourcedSchema: (schema) => child.sourcedSchema(index, closeSourcedSchema(schema)),
          checkpoint: (patch, options) => commit(child, patch, options?.replace ?? false),
          get pendingBytes() {
            return child.pendingBytes;
          },
        };
        return run(bindingTask);
      }),
    reportBackfilling(active) {
      if (active === backfilling) return;
      backfilling = active;
      status.report(index, active);
    },
  };
  task.log.debug("capturing binding", { resource: resource.name, stateKey: key });
  for await (const item of resource.capture(ctx)) {
    if (item instanceof Checkpoint) {
      await commit(task, item.value, item.mode === "replace");
      if (task.stopping.aborted) return;
    } else if (item instanceof SourcedSchema) {
      task.sourcedSchema(index, closeSourcedSchema(item.schema));
    } else {
      task.captured(index, item as object);
    }
  }
}
