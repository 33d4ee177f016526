import type { CaptureSpec } from "../protocol/index.js";
import { FlowcapError } from "../util/errors.js";
import { getPointer } from "../util/jsonPointer.js";
import type { CheckContext } from "./check.js";
import { CheckSkippedError } from "./checkErrors.js";
import { ConnectorProcess } from "./connectorProcess.js";
import { DocumentValidator } from "./documents.js";
import { captureSpec, INTERNAL_SPEC_REQUEST, openRequest } from "./requests.js";
import { reduceState } from "./state.js";
import { localEndpoint } from "./unary.js";

/**
 * The capture sessions of `flowcap check`: one reader for the session, resume, sigterm and crash
 * checks, which commits checkpoints as Flow's runtime does and stops where a check tells it to.
 */

/** A document a session read: its collection, its key values as written, and where it was. */
export interface SessionDocument {
  collection: string;
  /** The document's collection key values, as a JSON array. */
  key: string;
  binding: number;
  lineNumber: number;
}

/** Identifies a document by its collection key, as Flow reduces documents. */
export function documentId(doc: { collection: string; key: string }): string {
  return `${doc.collection}\u0000${doc.key}`;
}

/** A protocol event of a session, numbered as a kill plan counts them. */
export type SessionLine =
  | { kind: "opened"; lineNumber: number }
  /** The session's `ordinal`-th captured line (from 1). */
  | { kind: "captured"; ordinal: number; lineNumber: number; document: SessionDocument }
  /** The session's `ordinal`-th checkpoint line (from 1), before it is committed. */
  | { kind: "checkpoint"; ordinal: number; lineNumber: number };

/** A committed checkpoint: the documents it committed and the reduced state after it. */
export interface SessionCommit {
  ordinal: number;
  lineNumber: number;
  documents: SessionDocument[];
  state: Record<string, unknown>;
}

export interface ReadSessionOptions {
  /** How long the whole read may take. */
  timeoutMs: number;
  /**
   * Where to stop: `after` a line (a checkpoint is committed first), or `before` committing a
   * checkpoint line (its documents and state stay uncommitted).
   */
  stopAt?(line: SessionLine): "after" | "before" | undefined;
  /** Each committed checkpoint; returning true stops the read after it. */
  onCommit?(commit: SessionCommit): boolean | void;
  /**
   * When the connector writes nothing for `ms(read)` after `opened`, `stop` decides whether the
   * read stops there (a source that has caught up and polls slowly), or waits on.
   */
  quiet?: { ms(read: SessionRead): number; stop(read: SessionRead): boolean };
}

export interface SessionRead {
  /** The state reduced from the committed checkpoints (and the state the session opened with). */
  state: Record<string, unknown>;
  committed: SessionDocument[];
  /** Documents read after the last committed checkpoint: never committed. */
  uncommitted: SessionDocument[];
  /** Checkpoints committed. */
  checkpoints: number;
  /** Captured lines read. */
  captured: number;
  opened?: Record<string, unknown>;
  /** The connector closed its stdout (it exited, or is exiting) before the read stopped. */
  exited: boolean;
  timedOut: boolean;
  /** The line the read stopped at, when `stopAt` or `onCommit` stopped it. */
  stoppedAt?: SessionLine;
  /** The read stopped because the connector went quiet. */
  quiet: boolean;
  /** The longest wait for a line after `opened` (its first line included), in milliseconds. */
  longestGapMs: number;
}

/**
 * Reads a session until `stopAt` or `onCommit` stops it, the connector closes stdout, or the
 * timeout. A line counts once its newline was read, and a checkpoint commits the documents before
 * it and reduces its state into the session's, as Flow's runtime commits a transaction; a
 * connector that asked for explicit acknowledgements is acknowledged each commit. Documents are
 * checked against their collection's schema and key as they are read.
 */
export async function readSession(proc: ConnectorProcess, spec: CaptureSpec, initialState: Record<string, unknown>, options: ReadSessionOptions): Promise<SessionRead> {
  const validator = new DocumentValidator();
  const read: SessionRead = { state: initialState, committed: [], uncommitted: [], checkpoints: 0, captured: 0, exited: false, timedOut: false, quiet: false, longestGapMs: 0 };
  let lastLineAtMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let quietTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), options.timeoutMs)));
  // One read of the connector's output at a time, kept across timers that win the race, and
  // none ahead of the line the read stops at: what follows is the caller's to read.
  let next: ReturnType<ConnectorProcess["next"]> | undefined;
  try {
    for (;;) {
      next ??= proc.next();
      const quiet = options.quiet && read.opened ? new Promise<"quiet">((r) => (quietTimer = setTimeout(() => r("quiet"), options.quiet!.ms(read)))) : undefined;
      const event = await Promise.race([next, deadline, ...(quiet ? [quiet] : [])]);
      clearTimeout(quietTimer);
      if (event === "quiet") {
        if (options.quiet!.stop(read)) {
          read.quiet = true;
          break;
        }
        continue;
      }
      if (event === "timeout") {
        read.timedOut = true;
        break;
      }
      next = undefined;
      if (!event) {
        read.exited = true;
        break;
      }
      if (read.opened) read.longestGapMs = Math.max(read.longestGapMs, Date.now() - lastLineAtMs);
      lastLineAtMs = Date.now();
      let line: SessionLine | undefined;
      if (event.variant === "opened") {
        read.opened = event.response.opened as Record<string, unknown>;
        line = { kind: "opened", lineNumber: event.lineNumber };
      } else if (event.variant === "captured") {
        const { binding = 0, doc } = event.response.captured!;
        const collection = spec.bindings[binding]!.collection;
        validator.check(collection, doc as Record<string, unknown>, `stdout line ${event.lineNumber}, binding ${binding} (${collection.name})`);
        const document = { collection: collection.name, key: JSON.stringify(collection.key.map((ptr) => getPointer(doc, ptr))), binding, lineNumber: event.lineNumber };
        read.uncommitted.push(document);
        line = { kind: "captured", ordinal: ++read.captured, lineNumber: event.lineNumber, document };
      } else if (event.variant === "checkpoint") {
        line = { kind: "checkpoint", ordinal: read.checkpoints + 1, lineNumber: event.lineNumber };
        const stop = options.stopAt?.(line);
        if (stop === "before") {
          read.stoppedAt = line;
          break;
        }
        read.checkpoints++;
        read.state = reduceState(read.state, event.response.checkpoint!.state);
        const documents = read.uncommitted;
        read.committed.push(...documents);
        read.uncommitted = [];
        // Committed: acknowledge it as Flow's runtime does, to a connector that asked.
        if (read.opened?.explicitAcknowledgements === true) await proc.acknowledge(1);
        const enough = options.onCommit?.({ ordinal: line.ordinal, lineNumber: line.lineNumber, documents, state: read.state });
        if (enough || stop === "after") {
          read.stoppedAt = line;
          break;
        }
        continue;
      }
      if (line && options.stopAt?.(line)) {
        read.stoppedAt = line;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    clearTimeout(quietTimer);
  }
  return read;
}

/**
 * Opens a capture session on a fresh process (internal spec, then open), runs `fn`, and kills what
 * is left. `env` adds to the endpoint's environment.
 */
export async function withSession<T>(ctx: CheckContext, state: Record<string, unknown>, fn: (proc: ConnectorProcess, spec: CaptureSpec) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  if (!ctx.resourcePaths) throw new CheckSkippedError("needs validate to pass");
  const spec = captureSpec(ctx.catalog, ctx.capture, ctx.resourcePaths);
  const endpoint = localEndpoint(ctx.capture);
  const proc = ConnectorProcess.start({ ...endpoint, env: { ...endpoint.env, ...env } }, { logLevel: ctx.capture.logLevel, ...ctx.run });
  try {
    await proc.send(INTERNAL_SPEC_REQUEST);
    await proc.send(openRequest(spec, state));
    return await fn(proc, spec);
  } finally {
    killProcessGroup(proc);
  }
}

/**
 * SIGKILLs the connector and every process it started in its process group (a wrapped Airbyte
 * source, a Singer tap), as a machine that loses power would. Only while the connector has not
 * exited: its process id, which names the group, is then still its own.
 */
export function killProcessGroup(proc: ConnectorProcess): void {
  const { child } = proc;
  // A spawned child knows when it exited (before its stdio closes); an in-process one has no group.
  const spawned = child as { exitCode?: number | null; signalCode?: string | null };
  if (child.pid === undefined || spawned.exitCode === undefined || spawned.exitCode !== null || spawned.signalCode !== null) {
    if (spawned.exitCode === undefined) proc.kill();
    return;
  }
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // The group is gone already (or was never made): kill the connector alone.
    proc.kill();
  }
}

/** Keeps reading (and checking) what a process writes until it closes stdout. */
export function drain(proc: ConnectorProcess): Promise<void> {
  return (async () => {
    while (await proc.next());
  })();
}

/**
 * Reads what a killed connector left in its stdout pipe without counting any of it, as the
 * runtime discards a dead connector's unread output, and waits for its exit. Resolves true when
 * the output ended with a partial line (the kill cut a write short). Fails when the pipe stays
 * open `graceMs` after the kill: a process outside the connector's group still holds it.
 */
export async function discardRest(proc: ConnectorProcess, graceMs: number): Promise<boolean> {
  const gone = (async () => {
    try {
      await drain(proc);
    } catch {
      // A line after the kill point broke a rule: it is not counted either.
    }
    await proc.exited;
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), graceMs)));
  const outcome = await Promise.race([gone, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    proc.child.stdout?.destroy();
    throw new FlowcapError(
      "CONNECTOR_FAILED",
      `its stdout was still open ${graceMs / 1000}s after its process group was killed: a process it started outside its group (setsid, a daemon) outlives it and holds Flow's pipe`,
      {
        userFacing: true,
      },
    );
  }
  return proc.endedMidLine;
}
