import type { CaptureSpec, ConnectorState } from "../protocol/index.js";
import { aborted, sleep } from "../util/abort.js";
import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import type { Catalog, CaptureDef, LocalEndpoint } from "./catalog.js";
import { TransactionCombiner } from "./combine.js";
import { ConnectorProcess, type ConnectorLauncher } from "./connectorProcess.js";
import { DocumentValidator, UUID_PLACEHOLDER } from "./documents.js";
import { LocalEncryptionService } from "./encryptionService.js";
import { applyFlowMergePatch, composeFlowMergePatches, flowPointer, isFlowObject, parseFlowJson, setFlowPointer, stringifyFlowJson, toFlowValue, toPlainJson, type FlowObject, type FlowValue } from "./flowJson.js";
import type { OpsLog } from "./opsLog.js";
import { applyRequest, captureSpec, enabledBindings, INTERNAL_SPEC_REQUEST, openRequest, openRequestJson, validateRequest } from "./requests.js";
import type { ResponseEvent } from "./responseChecker.js";
import { decryptSops, isSopsEncrypted } from "./sops.js";
import { CatalogError } from "./sourceFile.js";
import { localEndpoint, runApply, runValidate } from "./unary.js";

/** Running totals of a preview, for progress displays and the closing summary. */
export interface PreviewStats {
  session: number;
  /** Documents committed (after documents of one key were combined within their transaction). */
  documents: number;
  /** Bytes of the committed documents, as the connector wrote them. */
  bytes: number;
  /** Checkpoints committed. */
  checkpoints: number;
  transactions: number;
  startedAtMs: number;
  /**
   * Per binding, by its index in the capture: a label (its resource path, as Flow shows a
   * binding), its collection, and what it committed.
   */
  bindings: Map<number, BindingStats>;
}

/** What a preview counts of one binding. */
export interface BindingStats {
  label: string;
  collection: string;
  /** Documents committed, after combining documents of one key within a transaction. */
  documents: number;
  /** Documents the connector wrote into committed transactions. */
  read: number;
  bytes: number;
  /** Committed checkpoints that held documents of this binding. */
  checkpoints: number;
}

/** Why a session ended. */
export type SessionEnd = "limit" | "connector-exited" | "idle" | "interrupted";

/** Receives what a preview produces; the CLI prints it, tests collect it. */
export interface PreviewReporter {
  /**
   * A committed document, with `_meta.uuid` the runtime's placeholder: as plain JSON values, and as
   * flowctl prints it (`json`: Flow's JSON, keys sorted, integers digit for digit).
   */
  document?(collection: string, doc: Record<string, unknown>, json: string): void | Promise<void>;
  /**
   * A transaction's combined state update (`final` false), or the whole state at the end. `json` is
   * the state as flowctl prints it after `"connectorState",`.
   */
  state?(state: ConnectorState, final: boolean, json: string): void | Promise<void>;
  /** Apply's action description, once per session (flowctl applies before opening each one). */
  applied?(actionDescription: string): void | Promise<void>;
  /** A line of the connector's stderr. */
  log?(log: OpsLog, phase: "validate" | "apply" | "capture"): void;
  progress?(stats: PreviewStats): void;
  /** A session ended (`idle`: nothing to commit for `timeoutMs`). */
  sessionEnded?(session: number, reason: SessionEnd): void;
  /** Something worth saying that does not fail the preview. */
  notice?(message: string): void;
}

export interface PreviewOptions {
  /**
   * How many transactions each session runs before it is stopped, one entry per session; a
   * negative count means unbounded. Default: one unbounded session (flowctl's default).
   */
  sessions?: number[];
  /**
   * Slept before every poll for a transaction, the first included: the checkpoints the connector
   * writes meanwhile are folded into one transaction, as flowctl's `--delay` does.
   */
  delayMs?: number;
  /**
   * At most this many checkpoints fold into one transaction. Default: all that were read since the
   * last poll, as Flow does; the testing kit uses 1, so a test sees the same transactions however
   * fast the machine is.
   */
  checkpointsPerTransaction?: number;
  /**
   * flowctl's `--timeout`: a session with nothing to commit for this long (counted from its
   * opening or its last transaction) is ended, and the next one starts. It also bounds each of the
   * validate and apply round trips and the wait for `opened`. 0 or undefined: no limit.
   */
  timeoutMs?: number;
  /** Named in timeout errors as what set the limit (`--timeout`). */
  timeoutSource?: string;
  /** The state the first session opens with: an object, or JSON text (read digit for digit). */
  initialState?: Record<string, unknown> | string;
  /** Pass transaction states and the final state to the reporter. */
  outputState?: boolean;
  /** Pass apply's action description to the reporter. */
  outputApply?: boolean;
  /** LOG_LEVEL of the connector; default the capture's shards.logLevel, else info. */
  logLevel?: string;
  /** How long a stopped session may take to exit after stdin closes, and again after SIGTERM. */
  stopGraceMs?: number;
  /** Stops the preview (Ctrl-C): gracefully once sessions run, at once before. */
  signal?: AbortSignal;
  reporter?: PreviewReporter;
  /** Starts the connector instead of spawning its command (the testing kit's in-process runs). */
  launch?: ConnectorLauncher;
  /** Called with the state (Flow's JSON) after each committed transaction, to persist it. */
  onCommit?(stateJson: string): void | Promise<void>;
  /**
   * Called when a session's connector emitted a `configUpdate` event, with the new endpoint config
   * (decrypted), which the next sessions run with; to persist it.
   */
  onConfigUpdate?(config: Record<string, unknown>): void | Promise<void>;
}

export interface PreviewResult {
  /** The final state, as plain JSON values (integers beyond 2^53 rounded: see `stateJson`). */
  state: Record<string, unknown>;
  /** The final state as Flow's JSON. */
  stateJson: string;
  stats: PreviewStats;
  spec: CaptureSpec;
  /** Why the preview ended: its sessions ran, or the last one was idle for `timeoutMs`, or it was interrupted. */
  ended: "sessions-done" | "connector-exited" | "timeout" | "interrupted";
  /** Why each session ended. */
  sessions: SessionEnd[];
}

/**
 * Runs a capture locally as `flowctl preview` does (crates/flowctl/src/preview/mod.rs and
 * crates/runtime/src/harness/capture.rs): validate, then per session apply and open, poll for
 * transactions (sleeping `delayMs` before each poll), commit each with its documents combined by
 * key and its checkpoints' states folded into one update, and stop the session after its number
 * of transactions or `timeoutMs` with nothing to commit; each session opens with the state the
 * ones before it committed. Every line the connector writes is checked against Flow's protocol
 * rules, and every document against its collection's schema and key.
 */
export async function runPreview(catalog: Catalog, capture: CaptureDef, options: PreviewOptions = {}): Promise<PreviewResult> {
  const reporter = options.reporter ?? {};
  const logLevel = options.logLevel ?? capture.logLevel;
  const endpoint = localEndpoint(capture);
  if (enabledBindings(capture).length === 0) {
    throw new CatalogError(
      `capture ${capture.name} has no ${capture.bindings.length ? "enabled " : ""}bindings, so a preview would capture nothing: add them with \`flowcap discover --source ${catalog.source}\`${capture.bindings.length ? ", or remove `disable: true` from one" : ""}`,
    );
  }
  const unary = (phase: "validate" | "apply") => ({
    logLevel,
    onLog: (l: OpsLog) => reporter.log?.(l, phase),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs, timeoutSource: options.timeoutSource } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    launch: options.launch,
  });

  const validated = await runValidate(capture, validateRequest(catalog, capture), unary("validate"));
  let spec = captureSpec(
    catalog,
    capture,
    validated.bindings.map((b) => b.resourcePath),
  );

  const stats: PreviewStats = { session: 0, documents: 0, bytes: 0, checkpoints: 0, transactions: 0, startedAtMs: Date.now(), bindings: new Map() };
  const initial = options.initialState ?? {};
  const initialText = typeof initial === "string" ? initial : JSON.stringify(initial);
  let state: FlowObject;
  try {
    const parsed = parseFlowJson(initialText);
    if (!isFlowObject(parsed)) throw new SyntaxError("not a JSON object");
    state = parsed;
  } catch (error) {
    throw new FlowcapError("STATE_INVALID", `the initial state is not a JSON object: ${(error as Error).message}`, { userFacing: true, cause: error });
  }
  // Until a transaction commits, Flow's final state is the initial state as it was given.
  let stateJson = initialText;

  const encryption = await LocalEncryptionService.start();
  const session: SessionContext = {
    endpoint: { ...endpoint, env: { ENCRYPTION_URL: encryption.url, ...endpoint.env } },
    options,
    reporter,
    stats,
    validator: new DocumentValidator(),
    logLevel,
  };
  const ends: SessionEnd[] = [];
  try {
    for (const [index, limit] of (options.sessions ?? [-1]).entries()) {
      if (options.signal?.aborted) break;
      stats.session = index + 1;
      const applied = await runApply(capture, applyRequest(spec), unary("apply"));
      if (options.outputApply) await reporter.applied?.(applied.actionDescription ?? "");
      const outcome = await runSession(session, spec, state, stateJson, limit);
      state = outcome.state;
      stateJson = outcome.stateJson;
      ends.push(outcome.ended);
      reporter.sessionEnded?.(stats.session, outcome.ended);
      if (outcome.configUpdate) {
        const config = await unsealConfig(outcome.configUpdate, encryption);
        spec = { ...spec, config };
        session.endpoint = { ...session.endpoint, config };
        await options.onConfigUpdate?.(config);
      }
      if (outcome.ended === "interrupted") break;
    }
  } finally {
    await encryption.close();
  }
  if (options.outputState) await reporter.state?.({ updated: toPlainJson(state) as Record<string, unknown> }, true, `{"updated":${stateJson}}`);
  const last = ends.at(-1);
  const ended: PreviewResult["ended"] = last === "interrupted" ? "interrupted" : last === "idle" ? "timeout" : last === "connector-exited" && (options.sessions ?? [-1]).at(-1)! < 0 ? "connector-exited" : "sessions-done";
  return { state: toPlainJson(state) as Record<string, unknown>, stateJson, stats, spec, ended, sessions: ends };
}

/** A `configUpdate` event's config, decrypted: by the local stand-in that encrypted it, or by sops. */
async function unsealConfig(config: Record<string, unknown>, encryption: LocalEncryptionService): Promise<Record<string, unknown>> {
  if (LocalEncryptionService.sealed(config)) return encryption.decrypt(config);
  if (isSopsEncrypted(config)) return decryptSops(config, "the connector's configUpdate event");
  return config;
}

interface SessionContext {
  /** The connector, with its current config and ENCRYPTION_URL. */
  endpoint: LocalEndpoint;
  options: PreviewOptions;
  reporter: PreviewReporter;
  stats: PreviewStats;
  validator: DocumentValidator;
  logLevel: string | undefined;
}

/** A captured document read from the connector, not committed yet. */
interface ReadDocument {
  binding: number;
  event: ResponseEvent;
  bytes: number;
}

/** Complete checkpoints read and not committed yet: the next transaction. */
interface ReadTransaction {
  docs: ReadDocument[];
  checkpoints: number;
  /** The checkpoints' state updates, composed as Flow composes them. */
  patch: FlowValue | undefined;
  /** The state once they are applied. */
  after: FlowObject;
  /** Bindings with documents, per checkpoint. */
  bindingCheckpoints: Map<number, number>;
  bytes: number;
}

/**
 * Flow's runtime stops folding more documents into a transaction once this many bytes of them
 * are waiting (COMBINER_BYTE_THRESHOLD in crates/runtime/src/capture/mod.rs); the connector then
 * waits on its stdout.
 */
const COMBINER_BYTE_THRESHOLD = 32 << 20;

/** A captured line whose numbers JSON.parse would not keep as Flow prints them (a float, a long integer, -0). */
const INEXACT_NUMBER = /[0-9][.eE]|[0-9]{16}|-0(?![0-9])/;

/**
 * Reads a session's output as the runtime does while the client is between polls: documents,
 * then checkpoints that close them, folded into the next transaction.
 */
class SessionReader {
  private ready: ReadTransaction;
  /** Transactions closed by `checkpointsPerTransaction`, oldest first, before `ready`. */
  private closed: ReadTransaction[] = [];
  private sequence: ReadDocument[] = [];
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;
  eof = false;
  failure: unknown;
  /** Stopping: what is read is checked and discarded. */
  draining = false;

  constructor(
    private readonly proc: ConnectorProcess,
    state: FlowObject,
    private readonly checkpointsPerTransaction = Infinity,
  ) {
    this.ready = this.empty(state);
  }

  private empty(after: FlowObject): ReadTransaction {
    return { docs: [], checkpoints: 0, patch: undefined, after, bindingCheckpoints: new Map(), bytes: 0 };
  }

  get checkpoints(): number {
    return (this.closed[0] ?? this.ready).checkpoints;
  }

  private get bytes(): number {
    return this.closed.reduce((sum, t) => sum + t.bytes, this.ready.bytes);
  }

  /** Reads until stdout ends or fails; `opened` has been read. */
  async run(): Promise<void> {
    try {
      for (;;) {
        if (!this.draining && this.bytes >= COMBINER_BYTE_THRESHOLD) await new Promise<void>((r) => (this.room = r));
        const event = await this.proc.next();
        if (!event) break;
        if (this.draining) continue;
        if (event.variant === "captured") {
          const binding = event.response.captured!.binding ?? 0;
          const bytes = Buffer.byteLength(event.text) + 1;
          this.sequence.push({ binding, event, bytes });
        } else if (event.variant === "checkpoint") {
          this.fold(event);
        }
      }
      this.eof = true;
    } catch (error) {
      this.failure = error;
    }
    this.notify();
  }

  private fold(event: ResponseEvent): void {
    const line = parseFlowJson(event.text) as FlowObject;
    const body = line.get("checkpoint") as FlowObject;
    const stateNode = body.get("state") as FlowObject;
    const updated = (stateNode.get("updated") ?? stateNode.get("updated_json")) as FlowObject;
    const mergePatch = event.response.checkpoint!.state.mergePatch === true;
    const t = this.ready;
    // A replacing checkpoint is a null then its state, to the runtime's combiner (recv_connector_checkpoint).
    t.patch = composeFlowMergePatches(mergePatch ? t.patch : composeFlowMergePatches(t.patch, null), updated);
    t.after = applyFlowMergePatch(mergePatch ? t.after : new Map(), updated) as FlowObject;
    const bindings = new Set(this.sequence.map((d) => d.binding));
    for (const b of bindings) t.bindingCheckpoints.set(b, (t.bindingCheckpoints.get(b) ?? 0) + 1);
    for (const d of this.sequence) t.bytes += d.bytes;
    t.docs.push(...this.sequence);
    t.checkpoints++;
    this.sequence = [];
    if (t.checkpoints >= this.checkpointsPerTransaction) {
      this.closed.push(t);
      this.ready = this.empty(t.after);
    }
    this.notify();
  }

  /** The transaction read so far; reading goes on into the next one. */
  take(): ReadTransaction {
    const t = this.closed.shift() ?? this.ready;
    if (t === this.ready) this.ready = this.empty(t.after);
    const room = this.room;
    this.room = undefined;
    room?.();
    return t;
  }

  /** Stops accumulating: the rest is read, checked and dropped (the session is being stopped). */
  drain(): void {
    this.draining = true;
    const room = this.room;
    this.room = undefined;
    room?.();
  }

  /** Resolves at the next checkpoint, end or failure (or at once when there is one). */
  changed(): Promise<void> {
    if (this.checkpoints > 0 || this.eof || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

interface SessionOutcome {
  state: FlowObject;
  stateJson: string;
  ended: SessionEnd;
  /** The config of the last `configUpdate` event the connector logged, as logged. */
  configUpdate?: Record<string, unknown>;
}

/**
 * One session: open the connector with `state`, then poll for transactions as flowctl's harness
 * does (crates/runtime/src/harness/capture.rs run_session): sleep the delay, acknowledge the
 * last transaction (serve.rs: the runtime passes the acknowledgement on at the next poll),
 * commit whatever complete checkpoints were read (or the next one to arrive), until the session
 * has its transactions, the connector exits, or nothing arrived for the timeout.
 */
async function runSession(ctx: SessionContext, spec: CaptureSpec, state: FlowObject, stateJson: string, limit: number): Promise<SessionOutcome> {
  const { reporter, stats, options } = ctx;
  const delayMs = options.delayMs ?? 0;
  const timeoutMs = options.timeoutMs ?? 0;
  let configUpdate: Record<string, unknown> | undefined;
  const proc = ConnectorProcess.start(ctx.endpoint, {
    logLevel: ctx.logLevel,
    launch: options.launch,
    onLog: (l) => {
      if (l.fields.eventType === "configUpdate" && isPlainObject(l.fields.config)) configUpdate = l.fields.config;
      reporter.log?.(l, "capture");
    },
  });
  const stop = options.signal ?? new AbortController().signal;
  const stopped = aborted(stop).then(() => "stop" as const);
  let ended: SessionEnd = "connector-exited";
  let reader: SessionReader | undefined;
  let reading: Promise<void> | undefined;
  try {
    await proc.send(INTERNAL_SPEC_REQUEST);
    proc.checker.sent(openRequest(spec, {}));
    await proc.write(openRequestJson(spec, stateJson) + "\n");
    const opened = await waitForOpened(proc, stopped, timeoutMs, options.timeoutSource);
    if (opened === "stop") ended = "interrupted";
    else {
      reader = new SessionReader(proc, state, options.checkpointsPerTransaction);
      reading = reader.run();
      let transactions = 0;
      let unacknowledged = 0;
      let deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
      if (limit === 0) ended = "limit";
      while (transactions !== limit) {
        if (delayMs > 0 && !(await sleep(delayMs, stop))) {
          ended = "interrupted";
          break;
        }
        if (unacknowledged > 0 && proc.checker.explicitAcknowledgements) await proc.acknowledge(unacknowledged);
        unacknowledged = 0;
        // Poll: the transaction is what was read meanwhile, else the next checkpoint to arrive.
        let timer: NodeJS.Timeout | undefined;
        const idle = Number.isFinite(deadline) ? new Promise<"idle">((r) => (timer = setTimeout(() => r("idle"), Math.max(0, deadline - Date.now())))) : undefined;
        const woke = await Promise.race([reader.changed(), stopped, ...(idle ? [idle] : [])]);
        clearTimeout(timer);
        if (reader.failure !== undefined) throw reader.failure;
        if (reader.checkpoints === 0) {
          ended = woke === "stop" ? "interrupted" : reader.eof ? "connector-exited" : "idle";
          break;
        }
        if (reader.eof) {
          // A connector that failed fails the session; what it wrote since its last commit is lost.
          await proc.finish();
        }
        const committed = await commit(ctx, spec, reader.take());
        stateJson = committed.stateJson;
        state = committed.state;
        unacknowledged = committed.checkpoints;
        transactions++;
        stats.transactions++;
        stats.checkpoints += committed.checkpoints;
        reporter.progress?.(stats);
        await options.onCommit?.(stateJson);
        if (timeoutMs > 0) deadline = Date.now() + timeoutMs;
        ended = "limit";
        if (stop.aborted) {
          ended = "interrupted";
          break;
        }
      }
    }
    if (ended === "connector-exited") {
      await reading;
      await proc.finish();
      return { state, stateJson, ended, ...(configUpdate ? { configUpdate } : {}) };
    }
    // Stop the session as Flow does: close stdin, wait, then signal. Keep reading (and checking)
    // what it writes meanwhile, so it is never blocked on a full pipe; none of it is committed.
    reader?.drain();
    const draining = reading ?? (async () => {
      while (await proc.next());
    })();
    const grace = ctx.options.stopGraceMs ?? 10_000;
    const status = await proc.stop(grace);
    await draining;
    if (reader?.failure !== undefined) throw reader.failure;
    if (status.signalled) reporter.notice?.(`the connector did not exit within ${grace / 1000}s of its stdin closing, so it was sent ${status.signal ?? "SIGTERM"}`);
    else await proc.finish();
    return { state, stateJson, ended, ...(configUpdate ? { configUpdate } : {}) };
  } finally {
    proc.kill();
  }
}

/** Waits for the session's `opened`, bounded by the timeout; "stop" when interrupted first. */
async function waitForOpened(proc: ConnectorProcess, stopped: Promise<"stop">, timeoutMs: number, source: string | undefined): Promise<"opened" | "stop"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = timeoutMs > 0 ? new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))) : undefined;
  try {
    for (;;) {
      // The answer to the internal spec request comes first (the checker holds it to that).
      const event = await Promise.race([proc.next(), stopped, ...(deadline ? [deadline] : [])]);
      if (event === "stop") return "stop";
      if (event === "timeout") throw new FlowcapError("TIMEOUT", `the connector did not answer the open request within ${timeoutMs / 1000}s${source ? ` (${source})` : ""}`, { userFacing: true });
      if (!event) {
        await proc.finish();
        throw new FlowcapError("CONNECTOR_FAILED", "the connector exited without answering the open request", { userFacing: true });
      }
      if (event.variant === "opened") return "opened";
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Commits a transaction as the runtime does: each document checked against its collection's
 * schema and key, stamped with the UUID placeholder, combined with the others of its key, then
 * printed in binding and key order, followed by the transaction's combined state update.
 */
async function commit(ctx: SessionContext, spec: CaptureSpec, t: ReadTransaction): Promise<{ state: FlowObject; stateJson: string; checkpoints: number }> {
  const { reporter, stats, options } = ctx;
  const combiner = new TransactionCombiner(spec.bindings.map((b) => b.collection.writeSchema));
  const read = new Map<number, { docs: number; bytes: number }>();
  for (const d of t.docs) {
    const binding = spec.bindings[d.binding]!;
    const collection = binding.collection;
    const plain = d.event.response.captured!.doc as Record<string, unknown>;
    ctx.validator.check(collection, plain, `session ${stats.session}, stdout line ${d.event.lineNumber}, binding ${d.binding} (${collection.name})`);
    const doc = INEXACT_NUMBER.test(d.event.text) ? capturedDoc(d.event.text) : (toFlowValue(plain) as FlowObject);
    setFlowPointer(doc, collection.uuidPtr || "/_meta/uuid", UUID_PLACEHOLDER);
    combiner.add(
      d.binding,
      collection.key.map((ptr) => flowPointer(doc, ptr) ?? null),
      doc,
    );
    const r = read.get(d.binding) ?? { docs: 0, bytes: 0 };
    r.docs++;
    r.bytes += d.bytes;
    read.set(d.binding, r);
  }
  for (const { binding: index, doc } of combiner.drain()) {
    const binding = spec.bindings[index]!;
    if (reporter.document) await reporter.document(binding.collection.name, toPlainJson(doc) as Record<string, unknown>, stringifyFlowJson(doc));
    bindingStats(stats, index, spec).documents++;
    stats.documents++;
  }
  for (const [index, r] of read) {
    const per = bindingStats(stats, index, spec);
    per.read += r.docs;
    per.bytes += r.bytes;
    per.checkpoints += t.bindingCheckpoints.get(index) ?? 0;
    stats.bytes += r.bytes;
  }
  const stateJson = stringifyFlowJson(t.after);
  if (options.outputState) {
    // Flow's runtime hands each transaction's state on as one merge patch (send_client_captured_or_checkpoint).
    const patch = t.patch ?? new Map();
    await reporter.state?.({ updated: toPlainJson(patch) as Record<string, unknown>, mergePatch: true }, false, `{"updated":${stringifyFlowJson(patch)},"mergePatch":true}`);
  }
  return { state: t.after, stateJson, checkpoints: t.checkpoints };
}

/** The document of a captured line, read digit for digit. */
function capturedDoc(text: string): FlowObject {
  const captured = (parseFlowJson(text) as FlowObject).get("captured") as FlowObject;
  return (captured.get("doc") ?? captured.get("doc_json")) as FlowObject;
}

function bindingStats(stats: PreviewStats, index: number, spec: CaptureSpec): BindingStats {
  let per = stats.bindings.get(index);
  if (!per) {
    const binding = spec.bindings[index]!;
    per = { label: bindingLabel(binding.resourcePath, binding.collection.name), collection: binding.collection.name, documents: 0, read: 0, bytes: 0, checkpoints: 0 };
    stats.bindings.set(index, per);
  }
  return per;
}

/** A binding's name for people: its resource path (`public.users`), else its collection's last part. */
function bindingLabel(resourcePath: readonly string[] | undefined, collection: string): string {
  return resourcePath?.length ? resourcePath.join(".") : collection.split("/").pop()!;
}
