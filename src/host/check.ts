import { randomInt } from "node:crypto";
import { createSchemaCompiler, type DiscoveredResponse, type SpecResponse } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import { deepEqual, isPlainObject } from "../util/mergePatch.js";
import { getPointer } from "../util/jsonPointer.js";
import { bindingCollection, type Catalog, type CaptureDef } from "./catalog.js";
import { ConnectorProcess } from "./connectorProcess.js";
import { resourcePathOf } from "./discoverCatalog.js";
import type { OpsLog } from "./opsLog.js";
import { CheckSkippedError, CheckWarningError } from "./checkErrors.js";
import { documentId, drain, readSession, withSession, type SessionDocument } from "./checkSession.js";
import { crashCheck, DEFAULT_CRASH_TRIALS, type CrashSettings } from "./crashCheck.js";
import { applyRequest, captureSpec, discoverRequest, enabledBindings, INTERNAL_SPEC_REQUEST, specRequest, validateRequest } from "./requests.js";
import { ProtocolViolationError } from "./rules.js";
import { localEndpoint, runUnary, type RunOptions } from "./unary.js";

export type CheckStatus = "pass" | "fail" | "warn" | "skip";

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  durationMs: number;
}

/** What every check gets: the capture, and what earlier checks learned. */
export interface CheckContext {
  catalog: Catalog;
  capture: CaptureDef;
  run: RunOptions;
  /** How long a session may take to produce its first checkpoint. */
  sessionTimeoutMs: number;
  /** How long the connector may take to exit once stdin closes or SIGTERM arrives. */
  stopGraceMs: number;
  spec?: SpecResponse;
  discovered?: DiscoveredResponse;
  resourcePaths?: string[][];
  /** State and committed document ids (see documentId) of the first session, for the resume check. */
  firstSession?: FirstSession;
  /**
   * Collections whose resources re-capture everything each session (snapshots): the resume
   * check does not judge their documents.
   */
  snapshotCollections: Set<string>;
  /** The crash check's seed and number of trials. */
  crash: CrashSettings;
}

/** What the resume check needs of the first session. */
interface FirstSession {
  state: Record<string, unknown>;
  ids: Set<string>;
  /** Per collection: the id of its first committed document, and how many it committed. */
  starts: Map<string, { id: string; count: number }>;
}

function firstSessionOf(state: Record<string, unknown>, committed: SessionDocument[]): FirstSession {
  const starts = new Map<string, { id: string; count: number }>();
  for (const d of committed) {
    const start = starts.get(d.collection);
    if (start) start.count++;
    else starts.set(d.collection, { id: documentId(d), count: 1 });
  }
  return { state, ids: new Set(committed.map(documentId)), starts };
}

/** How a check ended, when not by passing with a detail (a string) or by throwing (a failure). */
export interface CheckOutcome {
  status: CheckStatus;
  detail: string;
}

/**
 * One conformance check. Return a detail to pass, or a `CheckOutcome`; throw a
 * CheckSkippedError or a CheckWarningError to skip or warn; throw anything else (a
 * ProtocolViolationError, say) to fail.
 *
 * A suite is a list of checks run in order, each after the checks it `needs`. The protocol checks
 * live here (CONFORMANCE_CHECKS); a check that judges another layer's output lives with that
 * layer's code (the OAuth lint check in oauth/check.ts, typed structurally since oauth may not
 * import host), and `defaultChecks()` (testing/conformance.ts, which may import both) composes
 * the suite that `flowcap check` and flowcap/host's `runChecks` run.
 */
export interface ConformanceCheck {
  /** Unique in a suite; what `only` and `needs` name. */
  id: string;
  title: string;
  /**
   * The checks whose findings this one builds on (ids, earlier in the suite): asked for alone
   * (`only`), it runs them first rather than skipping for want of them.
   */
  needs?: readonly string[];
  run(ctx: CheckContext): Promise<string | CheckOutcome>;
}

const STACK = /^\s+at\s|Traceback \(most recent call last\)|^\s+File ".*", line \d+/m;

/** The error a connector logged last must read as a message for a person: non-empty, no stack. */
function readableFailure(proc: ConnectorProcess, status: { code: number | null }, what: string): string {
  if (status.code === 0) throw new FlowcapError("CONNECTOR_FAILED", `${what}: the connector exited 0; it must fail (exit non-zero)`);
  const log: OpsLog | undefined = proc.lastLog;
  if (!log || !log.message.trim()) throw new FlowcapError("CONNECTOR_FAILED", `${what}: the connector exited ${status.code} without logging why (its last stderr line becomes the task's error)`);
  if (STACK.test(log.message)) {
    const last = log.message.trim().split("\n").at(-1)!.trim();
    throw new FlowcapError("CONNECTOR_FAILED", `${what}: the connector's error is a stack trace, not a readable message (it ends: ${JSON.stringify(last)})`);
  }
  if (log.level !== "error") throw new FlowcapError("CONNECTOR_FAILED", `${what}: the connector's last log line is at level ${log.level}, not error: ${log.message}`);
  return `exit ${status.code}: "${log.message.split("\n")[0]}"`;
}

/**
 * Runs requests in one fresh process as Flow does (then stdin EOF), and returns the answers, the
 * process and how it exited. A connector that answers but does not exit breaks `exit-status`.
 */
async function exchange(ctx: CheckContext, requests: (Record<string, unknown> | string)[], options: { timeoutMs?: number } = {}) {
  const proc = ConnectorProcess.start(localEndpoint(ctx.capture), { logLevel: ctx.capture.logLevel, ...ctx.run });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const r of requests) {
      if (typeof r === "string") await proc.write(r);
      else await proc.send(r);
    }
    proc.closeInput();
    const answers: Record<string, unknown>[] = [];
    const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    while (proc.checker.awaiting > 0) {
      const event = await Promise.race([proc.next(), deadline]);
      if (event === "timeout") throw new ProtocolViolationError("expected-response", `no answer within ${timeoutMs / 1000}s`);
      if (!event) break;
      answers.push(event.response as Record<string, unknown>);
    }
    if (!(await proc.exitsWithin(ctx.stopGraceMs))) {
      throw new ProtocolViolationError("exit-status", `${answers.length ? "answered, but " : ""}did not exit within ${ctx.stopGraceMs / 1000}s of its stdin closing`);
    }
    for (let event = await proc.next(); event; event = await proc.next()) answers.push(event.response as Record<string, unknown>);
    const status = await proc.exited;
    // A clean exit is judged on how its output ended too (a partial line, say).
    if (status.code === 0) await proc.finish();
    return { answers, proc, status };
  } finally {
    clearTimeout(timer);
    proc.kill();
  }
}

const unaryOptions = (ctx: CheckContext): RunOptions => ({ exitGraceMs: ctx.stopGraceMs, ...ctx.run });

/** An invalid variant of `config` for `schema`: a required property removed, or a typed one given a wrong type. */
export function invalidConfig(schema: unknown, config: Record<string, unknown>): { config: Record<string, unknown>; how: string } | undefined {
  if (!isPlainObject(schema)) return undefined;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  if (required.length) {
    const copy = { ...config };
    delete copy[required[0]!];
    return { config: copy, how: `without the required property ${required[0]}` };
  }
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  const wrong: Record<string, unknown> = { string: 12345, number: "not-a-number", integer: "not-an-integer", boolean: "not-a-boolean", object: 42, array: 42 };
  for (const [name, prop] of Object.entries(props)) {
    if (!isPlainObject(prop)) continue;
    const type = Array.isArray(prop.type) ? (prop.type as string[]).find((t) => t !== "null") : prop.type;
    if (typeof type === "string" && type in wrong && !(Array.isArray(prop.type) && (prop.type as string[]).includes(typeof wrong[type]))) {
      return { config: { ...config, [name]: wrong[type] }, how: `with ${name} set to ${JSON.stringify(wrong[type])} (it must be ${type})` };
    }
  }
  return undefined;
}

/** The built-in checks, in the order they run. */
export const CONFORMANCE_CHECKS: ConformanceCheck[] = [
  {
    id: "spec",
    title: "answers the internal spec and the spec, identically",
    async run(ctx) {
      const { answers, status, proc } = await exchange(ctx, [INTERNAL_SPEC_REQUEST, specRequest(ctx.capture)]);
      if (status.code !== 0) throw proc.failed(status);
      const [a, b] = answers.map((r) => r.spec as SpecResponse);
      if (!a || !b) throw new ProtocolViolationError("expected-response", `answered ${answers.length} of 2 spec requests`);
      if (!deepEqual(a, b))
        throw new FlowcapError("PROTOCOL_VIOLATION", "the spec for config {} (the runtime's internal spec) differs from the spec for the capture's config: a spec must use static knowledge only");
      for (const field of ["configSchema", "resourceConfigSchema"] as const) {
        if (!isPlainObject(a[field]) || Object.keys(a[field] as object).length === 0) throw new FlowcapError("PROTOCOL_VIOLATION", `spec.${field} is empty`);
      }
      if (!a.documentationUrl) throw new FlowcapError("PROTOCOL_VIOLATION", "spec.documentationUrl is empty");
      try {
        createSchemaCompiler({ formats: false }).compile(a.configSchema as object);
      } catch (error) {
        throw new FlowcapError("PROTOCOL_VIOLATION", `spec.configSchema does not compile: ${(error as Error).message}`);
      }
      ctx.spec = a;
      return `protocol ${a.protocol}, exit 0`;
    },
  },
  {
    id: "tolerance",
    title: "ignores $internal and unknown fields in requests",
    async run(ctx) {
      const request = { spec: { connectorType: "LOCAL", config: ctx.capture.endpoint.config, someFutureField: { nested: true } }, $internal: "EgJIaRgB", someFutureVariant: {} };
      const { answers, status, proc } = await exchange(ctx, [{ ...INTERNAL_SPEC_REQUEST, $internal: "EgJIaRgB" }, request]);
      if (status.code !== 0) throw proc.failed(status);
      if (answers.length !== 2) throw new ProtocolViolationError("expected-response", `answered ${answers.length} of 2 requests`);
      return "spec with $internal and unknown keys answered, exit 0";
    },
  },
  {
    id: "discover",
    title: "discovers bindings Flow can use, and exits 0 at stdin EOF",
    needs: ["spec"],
    async run(ctx) {
      const discovered = await runUnary<DiscoveredResponse>(ctx.capture, discoverRequest(ctx.capture), unaryOptions(ctx));
      const bindings = discovered.bindings ?? [];
      const rcValidate =
        ctx.spec && isPlainObject(ctx.spec.resourceConfigSchema) ? createSchemaCompiler({ formats: false, allErrors: false }).compile(ctx.spec.resourceConfigSchema) : undefined;
      const problems: string[] = [];
      for (const [i, b] of bindings.entries()) {
        const where = `bindings[${i}] (${b.recommendedName})`;
        if (!b.recommendedName) problems.push(`${where}: recommendedName is empty`);
        if (!b.key?.length || !b.key.every((k) => k.startsWith("/"))) problems.push(`${where}: key must be a non-empty list of JSON pointers`);
        if (rcValidate) {
          if (!rcValidate(b.resourceConfig))
            problems.push(`${where}: resourceConfig does not match spec.resourceConfigSchema (${rcValidate.errors?.[0]?.instancePath} ${rcValidate.errors?.[0]?.message})`);
          const withMeta = { ...b.resourceConfig, _meta: { path: b.resourcePath ?? ["x"] } };
          if (!rcValidate(withMeta)) problems.push(`${where}: spec.resourceConfigSchema refuses the _meta that Flow's control plane stores in resource configs`);
        }
        if (ctx.spec?.resourcePathPointers?.length && !resourcePathOf(b.resourceConfig, ctx.spec.resourcePathPointers))
          problems.push(`${where}: resourceConfig has nothing at spec.resourcePathPointers`);
      }
      if (problems.length) throw new FlowcapError("PROTOCOL_VIOLATION", problems.join("; "));
      ctx.discovered = discovered;
      return `${bindings.length} binding(s)`;
    },
  },
  {
    id: "validate",
    title: "validates the catalog's bindings, and exits 0",
    async run(ctx) {
      const validated = await runUnary<{ bindings: { resourcePath: string[] }[] }>(ctx.capture, validateRequest(ctx.catalog, ctx.capture), unaryOptions(ctx));
      ctx.resourcePaths = validated.bindings.map((b) => b.resourcePath);
      return ctx.resourcePaths.map((p) => p.join("/")).join(", ") || "no bindings";
    },
  },
  {
    id: "apply",
    title: "applies the capture, and exits 0",
    needs: ["validate"],
    async run(ctx) {
      if (!ctx.resourcePaths) throw new CheckSkippedError("needs validate to pass");
      const applied = await runUnary<{ actionDescription?: string }>(ctx.capture, applyRequest(captureSpec(ctx.catalog, ctx.capture, ctx.resourcePaths)), unaryOptions(ctx));
      return applied.actionDescription ? `"${applied.actionDescription}"` : "no-op";
    },
  },
  {
    id: "invalid-config",
    title: "refuses an invalid config with a readable error",
    needs: ["spec"],
    async run(ctx) {
      if (!ctx.spec) throw new CheckSkippedError("needs the spec check to pass");
      const invalid = invalidConfig(ctx.spec.configSchema, ctx.capture.endpoint.config);
      if (!invalid) throw new CheckSkippedError("cannot derive an invalid config from the config schema (no required or typed property)");
      const { status, proc, answers } = await exchange(ctx, [INTERNAL_SPEC_REQUEST, { discover: { connectorType: "LOCAL", config: invalid.config } }]);
      if (answers.length > 1) throw new FlowcapError("CONNECTOR_FAILED", `discovered with a config ${invalid.how}; it must refuse it`);
      return `config ${invalid.how}: ${readableFailure(proc, status, `discover with a config ${invalid.how}`)}`;
    },
  },
  {
    id: "unknown-resource",
    title: "rejects an unknown resource at validate",
    needs: ["spec"],
    async run(ctx) {
      const pointers = ctx.spec?.resourcePathPointers ?? [];
      const first = ctx.capture.bindings.find((b) => !b.disable);
      if (!first || !pointers.length) throw new CheckSkippedError(!first ? "the capture has no enabled binding" : "the spec has no resourcePathPointers");
      const resource = structuredClone(first.resource);
      let changed = false;
      for (const ptr of pointers) {
        const tokens = ptr.split("/").slice(1);
        let parent: Record<string, unknown> = resource;
        for (const t of tokens.slice(0, -1)) parent = (isPlainObject(parent[t]) ? parent[t] : (parent[t] = {})) as Record<string, unknown>;
        if (typeof getPointer(resource, ptr) === "string") {
          parent[tokens.at(-1)!] = "flowcap-no-such-resource";
          changed = true;
        }
      }
      if (!changed) throw new CheckSkippedError("the resource path is not made of strings");
      const request = validateRequest(ctx.catalog, ctx.capture);
      request.validate.bindings = [{ ...request.validate.bindings[0]!, resourceConfig: resource }];
      const { status, proc, answers } = await exchange(ctx, [INTERNAL_SPEC_REQUEST, request]);
      if (answers.length > 1) throw new FlowcapError("CONNECTOR_FAILED", `validated the resource ${JSON.stringify(resource)}, which does not exist; it must refuse it`);
      return readableFailure(proc, status, "validate with an unknown resource");
    },
  },
  {
    id: "malformed-request",
    title: "rejects a malformed request line",
    async run(ctx) {
      const { status, proc } = await exchange(ctx, [INTERNAL_SPEC_REQUEST, '{"discover": {"config": \n']);
      return readableFailure(proc, status, "a malformed request line");
    },
  },
  {
    id: "session",
    title: "opens a session, captures valid documents, checkpoints, and stops cleanly at stdin EOF",
    needs: ["validate"],
    run: (ctx) =>
      withSession(ctx, {}, async (proc, spec) => {
        const session = await readSession(proc, spec, {}, { timeoutMs: ctx.sessionTimeoutMs, onCommit: (c) => c.ordinal >= 2 });
        if (!session.opened) throw new ProtocolViolationError("opened-first", `no opened response within ${ctx.sessionTimeoutMs / 1000}s`);
        ctx.firstSession = firstSessionOf(session.state, session.committed);
        if (session.exited) {
          await proc.finish();
          return `${session.checkpoints} checkpoint(s), ${session.committed.length} document(s), then exited 0 by itself`;
        }
        if (session.checkpoints === 0) throw new CheckWarningError(`no checkpoint within ${ctx.sessionTimeoutMs / 1000}s`);
        const draining = drain(proc);
        const status = await proc.stop(ctx.stopGraceMs);
        await draining;
        if (status.signalled) throw new ProtocolViolationError("stops-at-eof", `still running ${ctx.stopGraceMs / 1000}s after its stdin closed (it was sent ${status.signal ?? "SIGTERM"})`);
        await proc.finish();
        return `${session.checkpoints} checkpoint(s), ${session.committed.length} document(s), exit 0 at stdin EOF`;
      }),
  },
  {
    id: "resume",
    title: "resumes from the state it checkpointed",
    needs: ["session"],
    async run(ctx) {
      const first = ctx.firstSession;
      if (!first) throw new CheckSkippedError("needs the session check to pass");
      if (Object.keys(first.state).length === 0) throw new CheckSkippedError("the first session checkpointed no state");
      return withSession(ctx, first.state, async (proc, spec) => {
        const session = await readSession(proc, spec, first.state, { timeoutMs: ctx.sessionTimeoutMs, onCommit: () => true });
        if (!session.opened) throw new ProtocolViolationError("opened-first", "no opened response when resuming");
        const draining = drain(proc);
        const status = session.exited ? { ...(await proc.exited), signalled: false } : await proc.stop(ctx.stopGraceMs);
        await draining;
        if (!status.signalled) await proc.finish();
        const repeated = session.committed.filter((d) => first.ids.has(documentId(d))).length;
        // A capture that goes on from its state starts after what it committed, or re-sends the
        // last of it (an inclusive cursor: at-least-once, which Flow's reductions absorb). One
        // that starts over, ignoring the state it was handed, re-sends the first session's first
        // document: that is the failure. With only one document committed the two look alike.
        const judged = session.committed.find((d) => !ctx.snapshotCollections.has(d.collection));
        const start = judged && first.starts.get(judged.collection);
        if (judged && start && start.id === documentId(judged)) {
          const message = `opened with the first session's state, its first document (${judged.collection} key ${judged.key}) is the first one the first session committed: it ignores the state it is handed (a resource that re-captures everything each session can be exempted: --snapshot-collections, or the snapshotCollections option)`;
          if (start.count > 1) throw new FlowcapError("PROTOCOL_VIOLATION", message);
          throw new CheckWarningError(`${message}; or its cursor is inclusive (the first session committed one document, so flowcap cannot tell)`);
        }
        return `opened with the reduced state; ${session.committed.length} document(s), ${repeated} repeated from the first session`;
      });
    },
  },
  {
    id: "sigterm",
    title: "stops cleanly on SIGTERM",
    needs: ["validate"],
    run: (ctx) =>
      withSession(ctx, ctx.firstSession?.state ?? {}, async (proc, spec) => {
        const session = await readSession(proc, spec, ctx.firstSession?.state ?? {}, { timeoutMs: ctx.sessionTimeoutMs, onCommit: () => true });
        if (session.exited) throw new CheckSkippedError("the session ended by itself before it could be signalled");
        const draining = drain(proc);
        proc.child.kill("SIGTERM");
        if (!(await proc.exitsWithin(ctx.stopGraceMs))) throw new FlowcapError("CONNECTOR_FAILED", `still running ${ctx.stopGraceMs / 1000}s after SIGTERM`);
        const status = await proc.exited;
        if (status.signal) {
          await draining.catch(() => undefined);
          throw new CheckWarningError(`killed by ${status.signal} rather than stopping at a checkpoint (Flow copes, but work since the last checkpoint is redone)`);
        }
        await draining;
        await proc.finish();
        return "exit 0 after SIGTERM";
      }),
  },
  {
    id: "acknowledgements",
    title: "reads Flow's acknowledgements when it asks for them",
    needs: ["validate"],
    run: (ctx) =>
      withSession(ctx, {}, async (proc) => {
        let checkpoints = 0;
        let explicit = false;
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ctx.sessionTimeoutMs)));
        try {
          for (;;) {
            const event = await Promise.race([proc.next(), deadline]);
            if (event === "timeout" || !event) break;
            if (event.variant === "opened") {
              explicit = event.response.opened?.explicitAcknowledgements === true;
              if (!explicit) break;
            }
            if (event.variant === "checkpoint") {
              checkpoints++;
              // Acknowledge each checkpoint, as the runtime does once it commits.
              await proc.acknowledge(1);
              if (checkpoints >= 3) break;
            }
          }
        } finally {
          clearTimeout(timer);
        }
        if (!explicit) throw new CheckSkippedError("the session does not ask for acknowledgements");
        if (checkpoints < 3 && !(await proc.exitsWithin(0))) {
          throw new ProtocolViolationError("acknowledgements", `only ${checkpoints} checkpoint(s) in ${ctx.sessionTimeoutMs / 1000}s while each was acknowledged: is it reading its acknowledgements?`);
        }
        // A connector that stopped reading its input never sees it close either.
        const draining = drain(proc);
        const status = await proc.stop(ctx.stopGraceMs);
        await draining;
        if (status.signalled) {
          throw new ProtocolViolationError(
            "acknowledgements",
            `its ${checkpoints} checkpoint(s) were acknowledged, but it did not exit within ${ctx.stopGraceMs / 1000}s of its stdin closing: it is not reading its input`,
          );
        }
        await proc.finish();
        return `${checkpoints} checkpoint(s), each acknowledged`;
      }),
  },
  crashCheck,
];

export interface CheckOptions {
  run?: RunOptions;
  /** How long a session may take to produce what a check waits for; default 30 s. */
  sessionTimeoutMs?: number;
  /** How long the connector may take to exit once stdin closes or SIGTERM arrives; default 10 s. */
  stopGraceMs?: number;
  /**
   * The suite: the checks to run, in order (default: CONFORMANCE_CHECKS, the protocol checks;
   * flowcap/host's runChecks and `flowcap check` default to `defaultChecks()`, which adds OAuth's).
   */
  checks?: readonly ConformanceCheck[];
  /** Checks of your own (connector-specific), run after `checks`; they may need any of them. */
  extraChecks?: readonly ConformanceCheck[];
  /** Only these check ids, and the checks they need (see ConformanceCheck.needs). */
  only?: string[];
  /**
   * Collections whose resources re-capture everything each session (snapshots): the resume check
   * does not fail them for repeating the first session's documents, and the crash check judges
   * neither their documents nor their bindings' state.
   */
  snapshotCollections?: string[];
  /**
   * The crash check: its seed (default: drawn at random, and reported, so a finding can be
   * replayed) and how many trials it runs (default DEFAULT_CRASH_TRIALS).
   */
  crash?: { seed?: number; trials?: number };
  onResult?: (result: CheckResult) => void;
}

/** Largest crash seed: seeds are 32-bit. */
export const MAX_CRASH_SEED = 2 ** 32 - 1;

function invalidOption(message: string): FlowcapError {
  return new FlowcapError("OPTION_INVALID", message, { userFacing: true });
}

/**
 * Checks that a list of checks makes a suite: ids unique, and every check after the checks it
 * needs. A list that does not is a programming error, an OPTION_INVALID error saying where.
 */
function checkSuite(checks: readonly ConformanceCheck[]): void {
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.id)) throw invalidOption(`two checks have the id ${JSON.stringify(check.id)}: ids name checks in only and needs, so they must be unique`);
    for (const need of check.needs ?? []) {
      if (!seen.has(need)) {
        const where = checks.some((c) => c.id === need) ? "runs after it: put it earlier" : "is not in the suite";
        throw invalidOption(`the check ${JSON.stringify(check.id)} needs ${JSON.stringify(need)}, which ${where}`);
      }
    }
    seen.add(check.id);
  }
}

/**
 * The checks to run, in suite order: all of them, or those named in `only` and what they need
 * (transitively). An unknown id is an OPTION_INVALID error naming the known ones, and so is a
 * list that is not a suite (see checkSuite).
 */
export function selectChecks(checks: readonly ConformanceCheck[], only?: readonly string[]): ConformanceCheck[] {
  checkSuite(checks);
  if (!only) return [...checks];
  const byId = new Map(checks.map((c) => [c.id, c]));
  const unknown = only.filter((id) => !byId.has(id));
  if (unknown.length) throw invalidOption(`no check named ${unknown.map((id) => JSON.stringify(id)).join(", ")} (the checks: ${checks.map((c) => c.id).join(", ")})`);
  const wanted = new Set<string>();
  const want = (id: string) => {
    if (wanted.has(id)) return;
    wanted.add(id);
    for (const need of byId.get(id)?.needs ?? []) want(need);
  };
  only.forEach(want);
  return checks.filter((c) => wanted.has(c.id));
}

function checkedOptions(options: CheckOptions): { sessionTimeoutMs: number; stopGraceMs: number; crash: CrashSettings } {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  if (!(Number.isFinite(sessionTimeoutMs) && sessionTimeoutMs > 0)) throw invalidOption(`sessionTimeoutMs must be a positive number of milliseconds, not ${sessionTimeoutMs}`);
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  if (!(Number.isFinite(stopGraceMs) && stopGraceMs >= 0)) throw invalidOption(`stopGraceMs must be a number of milliseconds, not ${stopGraceMs}`);
  const trials = options.crash?.trials ?? DEFAULT_CRASH_TRIALS;
  if (!(Number.isInteger(trials) && trials >= 1)) throw invalidOption(`crash.trials must be a whole number of at least 1, not ${trials}`);
  const seed = options.crash?.seed ?? randomInt(1_000_000);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_CRASH_SEED)) throw invalidOption(`crash.seed must be a whole number from 0 to ${MAX_CRASH_SEED}, not ${seed}`);
  return { sessionTimeoutMs, stopGraceMs, crash: { seed, trials } };
}

/** The snapshot collections, each one a collection the capture's enabled bindings write (a typo would exempt nothing). */
function snapshotCollectionsOf(catalog: Catalog, capture: CaptureDef, names: readonly string[] = []): Set<string> {
  if (!names.length) return new Set();
  const bound = enabledBindings(capture).map(({ index }) => bindingCollection(catalog, capture, index).name);
  const unknown = names.filter((name) => !bound.includes(name));
  if (unknown.length)
    throw invalidOption(`snapshot collections ${unknown.map((n) => JSON.stringify(n)).join(", ")}: no enabled binding of ${capture.name} writes them (its collections: ${bound.join(", ") || "none"})`);
  return new Set(names);
}

/**
 * Runs a conformance suite against a capture's connector, whatever its language: each check
 * drives it as Flow's runtime would and judges what it writes and how it exits. This is host's
 * runner, whose suite defaults to the protocol checks; flowcap/host's `runChecks` (and `flowcap
 * check`) run `defaultChecks()` (testing/conformance.ts), which adds the OAuth check.
 */
export async function runChecks(catalog: Catalog, capture: CaptureDef, options: CheckOptions = {}): Promise<CheckResult[]> {
  localEndpoint(capture);
  const checks = selectChecks([...(options.checks ?? CONFORMANCE_CHECKS), ...(options.extraChecks ?? [])], options.only);
  const ctx: CheckContext = {
    catalog,
    capture,
    run: options.run ?? {},
    ...checkedOptions(options),
    snapshotCollections: snapshotCollectionsOf(catalog, capture, options.snapshotCollections),
  };
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = Date.now();
    let status: CheckStatus = "pass";
    let detail: string;
    try {
      const outcome = await check.run(ctx);
      if (typeof outcome === "string") detail = outcome;
      else ({ status, detail } = outcome);
    } catch (error) {
      status = error instanceof CheckSkippedError ? "skip" : error instanceof CheckWarningError ? "warn" : "fail";
      detail = (error as Error).message;
    }
    const result = { id: check.id, title: check.title, status, detail, durationMs: Date.now() - started };
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}
