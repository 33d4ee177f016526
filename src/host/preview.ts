import type { CaptureSpec, ConnectorState } from "../protocol/index.js";
import type { Catalog, CaptureDef } from "./catalog.js";
import { ConnectorProcess, type ConnectorLauncher } from "./connectorProcess.js";
import { DocumentValidator, sortedKeys, stampUuidPlaceholder } from "./documents.js";
import type { OpsLog } from "./opsLog.js";
import { applyRequest, captureSpec, INTERNAL_SPEC_REQUEST, openRequest, validateRequest } from "./requests.js";
import { CatalogError } from "./sourceFile.js";
import { reduceState, transactionState } from "./state.js";
import { localEndpoint, runApply, runValidate } from "./unary.js";

/** Running totals of a preview, for progress displays. */
export interface PreviewStats {
  session: number;
  documents: number;
  bytes: number;
  checkpoints: number;
  transactions: number;
  startedAtMs: number;
  /**
   * Per binding, by its index in the capture: a label (its resource path, as Flow shows a
   * binding), its collection, and the documents and bytes committed.
   */
  bindings: Map<number, BindingStats>;
}

/** What a preview counts of one binding. */
export interface BindingStats {
  label: string;
  collection: string;
  documents: number;
  bytes: number;
}

/** Receives what a preview produces; the CLI prints it, tests collect it. */
export interface PreviewReporter {
  /** A committed document, as flowctl prints it: keys sorted, `_meta.uuid` a placeholder. */
  document?(collection: string, doc: Record<string, unknown>): void | Promise<void>;
  /** A transaction's combined state update; `final` is the whole state at the end. */
  state?(state: ConnectorState, final: boolean): void | Promise<void>;
  applied?(actionDescription: string): void | Promise<void>;
  /** A line of the connector's stderr. */
  log?(log: OpsLog, phase: "validate" | "apply" | "capture"): void;
  progress?(stats: PreviewStats): void;
  /** Something worth saying that does not fail the preview. */
  notice?(message: string): void;
}

export interface PreviewOptions {
  /**
   * How many transactions each session runs before it is stopped, one entry per session; a
   * negative count means unbounded. Default: one unbounded session (flowctl's default).
   */
  sessions?: number[];
  /** Delay between transactions; checkpoints read meanwhile are folded into one transaction. */
  delayMs?: number;
  /** End the preview (gracefully) after this long. */
  timeoutMs?: number;
  /** The state the first session opens with. */
  initialState?: Record<string, unknown>;
  /** Pass transaction states and the final state to the reporter. */
  outputState?: boolean;
  /** Pass apply's action description to the reporter. */
  outputApply?: boolean;
  /** LOG_LEVEL of the connector; default the capture's shards.logLevel, else info. */
  logLevel?: string;
  /** How long a stopped session may take to exit after stdin closes, and again after SIGTERM. */
  stopGraceMs?: number;
  /** Stops the preview gracefully (Ctrl-C). */
  signal?: AbortSignal;
  reporter?: PreviewReporter;
  /** Starts the connector instead of spawning its command (the testing kit's in-process runs). */
  launch?: ConnectorLauncher;
}

export interface PreviewResult {
  state: Record<string, unknown>;
  stats: PreviewStats;
  spec: CaptureSpec;
  /** Why the preview ended. */
  ended: "sessions-done" | "connector-exited" | "timeout" | "interrupted";
}

/**
 * Runs a capture locally as `flowctl preview` does: validate, apply, then open sessions, each
 * stopped after its number of transactions, the state reduced from each session's checkpoints
 * handed to the next. Every line the connector writes is checked against Flow's protocol rules,
 * and every document against its collection's schema and key.
 */
export async function runPreview(catalog: Catalog, capture: CaptureDef, options: PreviewOptions = {}): Promise<PreviewResult> {
  const reporter = options.reporter ?? {};
  const logLevel = options.logLevel ?? capture.logLevel;
  localEndpoint(capture);

  const launch = options.launch;
  const validated = await runValidate(capture, validateRequest(catalog, capture), { logLevel, launch, onLog: (l) => reporter.log?.(l, "validate") });
  const spec = captureSpec(
    catalog,
    capture,
    validated.bindings.map((b) => b.resourcePath),
  );
  if (spec.bindings.length === 0) throw new CatalogError(`capture ${capture.name} has no enabled bindings to preview`);
  const applied = await runApply(capture, applyRequest(spec), { logLevel, launch, onLog: (l) => reporter.log?.(l, "apply") });
  if (options.outputApply) await reporter.applied?.(applied.actionDescription ?? "");

  const stats: PreviewStats = { session: 0, documents: 0, bytes: 0, checkpoints: 0, transactions: 0, startedAtMs: Date.now(), bindings: new Map() };
  const stop = new AbortController();
  const timer = options.timeoutMs !== undefined ? setTimeout(() => stop.abort("timeout"), options.timeoutMs) : undefined;
  const onAbort = () => stop.abort("interrupted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort("interrupted");

  const validator = new DocumentValidator();
  let state = options.initialState ?? {};
  let ended: PreviewResult["ended"] = "sessions-done";
  try {
    for (const [index, limit] of (options.sessions ?? [-1]).entries()) {
      if (stop.signal.aborted) break;
      stats.session = index + 1;
      const outcome = await runSession({ capture, spec, state, limit, options, reporter, stats, validator, stop: stop.signal, logLevel });
      state = outcome.state;
      if (outcome.ended === "connector-exited" && limit < 0) {
        ended = "connector-exited";
      }
      if (stop.signal.aborted) ended = stop.signal.reason === "timeout" ? "timeout" : "interrupted";
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (options.outputState) await reporter.state?.({ updated: state }, true);
  return { state, stats, spec, ended };
}

interface SessionContext {
  capture: CaptureDef;
  spec: CaptureSpec;
  state: Record<string, unknown>;
  limit: number;
  options: PreviewOptions;
  reporter: PreviewReporter;
  stats: PreviewStats;
  validator: DocumentValidator;
  stop: AbortSignal;
  logLevel: string | undefined;
}

interface PendingDocument {
  binding: number;
  doc: Record<string, unknown>;
  line: number;
  bytes: number;
}

async function runSession(ctx: SessionContext): Promise<{ state: Record<string, unknown>; ended: "limit" | "connector-exited" | "stopped" }> {
  const { spec, reporter, stats, options } = ctx;
  const delayMs = options.delayMs ?? 0;
  const proc = ConnectorProcess.start(localEndpoint(ctx.capture), { logLevel: ctx.logLevel, launch: options.launch, onLog: (l) => reporter.log?.(l, "capture") });
  let state = ctx.state;
  let transactions = 0;
  let sequence: PendingDocument[] = [];
  // Checkpointed but not yet committed (when transactions are delayed).
  let ready: { docs: PendingDocument[]; checkpoints: number; after: Record<string, unknown>; replaced: boolean } | undefined;
  let nextCommitAtMs = 0;

  const commit = async () => {
    if (!ready) return;
    const { docs, checkpoints, after, replaced } = ready;
    ready = undefined;
    for (const d of docs) {
      const binding = spec.bindings[d.binding]!;
      const collection = binding.collection;
      ctx.validator.check(collection, d.doc, `session ${stats.session}, stdout line ${d.line}, binding ${d.binding} (${collection.name})`);
      stampUuidPlaceholder(d.doc, collection.uuidPtr || "/_meta/uuid");
      await reporter.document?.(collection.name, sortedKeys(d.doc) as Record<string, unknown>);
      stats.documents++;
      stats.bytes += d.bytes;
      let per = stats.bindings.get(d.binding);
      if (!per) stats.bindings.set(d.binding, (per = { label: bindingLabel(binding.resourcePath, collection.name), collection: collection.name, documents: 0, bytes: 0 }));
      per.documents++;
      per.bytes += d.bytes;
    }
    if (options.outputState) await reporter.state?.(transactionState(state, after, replaced), false);
    state = after;
    // Committed: a connector that asked for acknowledgements waits for this one (the SDK's
    // ctx.checkpoint() does), and would stall after its first checkpoint without it.
    if (proc.checker.explicitAcknowledgements) await proc.acknowledge(checkpoints);
    transactions++;
    stats.transactions++;
    nextCommitAtMs = Date.now() + delayMs;
    reporter.progress?.(stats);
  };

  const stopped = new Promise<"stop">((resolve) => {
    if (ctx.stop.aborted) resolve("stop");
    else ctx.stop.addEventListener("abort", () => resolve("stop"), { once: true });
  });
  let ended: "limit" | "connector-exited" | "stopped" = "connector-exited";
  try {
    await proc.send(INTERNAL_SPEC_REQUEST);
    await proc.send(openRequest(spec, state));
    let next = proc.next();
    for (;;) {
      const waitMs = ready ? Math.max(0, nextCommitAtMs - Date.now()) : undefined;
      let timer: NodeJS.Timeout | undefined;
      const due = waitMs !== undefined ? new Promise<"due">((r) => (timer = setTimeout(() => r("due"), waitMs))) : undefined;
      const event = await Promise.race([next, stopped, ...(due ? [due] : [])]);
      clearTimeout(timer);
      if (event === "stop") {
        ended = "stopped";
        break;
      }
      if (event === "due") {
        await commit();
        if (ctx.limit >= 0 && transactions >= ctx.limit) {
          ended = "limit";
          break;
        }
        continue;
      }
      next = proc.next();
      if (!event) break; // the connector closed stdout: the session is over
      if (event.variant === "opened" && ctx.limit === 0) {
        ended = "limit";
        break;
      }
      if (event.variant === "captured") {
        const { binding = 0, doc } = event.response.captured!;
        sequence.push({ binding, doc: doc as Record<string, unknown>, line: event.lineNumber, bytes: event.text.length + 1 });
      } else if (event.variant === "checkpoint") {
        stats.checkpoints++;
        const update = event.response.checkpoint!.state;
        const base = ready?.after ?? state;
        ready = {
          docs: [...(ready?.docs ?? []), ...sequence],
          checkpoints: (ready?.checkpoints ?? 0) + 1,
          after: reduceState(base, update),
          replaced: (ready?.replaced ?? false) || !update.mergePatch,
        };
        sequence = [];
        if (Date.now() >= nextCommitAtMs) {
          await commit();
          if (ctx.limit >= 0 && transactions >= ctx.limit) {
            ended = "limit";
            break;
          }
        }
      }
    }
    if (ended === "connector-exited") {
      await commit();
      await proc.finish();
      return { state, ended };
    }
    // Stop the session as Flow does: close stdin, wait, then signal. Keep reading (and checking)
    // what it writes meanwhile, so it is never blocked on a full pipe; none of it is committed.
    const draining = (async () => {
      while (await next) next = proc.next();
    })();
    const status = await proc.stop(ctx.options.stopGraceMs ?? 10_000);
    await draining;
    if (status.signalled) {
      reporter.notice?.(`the connector did not exit within ${(ctx.options.stopGraceMs ?? 10_000) / 1000}s of its stdin closing, so it was sent ${status.signal ?? "SIGTERM"}`);
    } else {
      await proc.finish();
    }
    return { state, ended };
  } finally {
    proc.kill();
  }
}

/** A binding's name for people: its resource path (`public.users`), else its collection's last part. */
function bindingLabel(resourcePath: readonly string[] | undefined, collection: string): string {
  return resourcePath?.length ? resourcePath.join(".") : collection.split("/").pop()!;
}
