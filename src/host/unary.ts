import type { AppliedResponse, DiscoveredResponse, SpecResponse, ValidatedResponse } from "../protocol/index.js";
import { aborted } from "../util/abort.js";
import { FlowcapError } from "../util/errors.js";
import type { CaptureDef, LocalEndpoint } from "./catalog.js";
import { ConnectorProcess, type ConnectorProcessOptions } from "./connectorProcess.js";
import { INTERNAL_SPEC_REQUEST, specRequest } from "./requests.js";
import { ProtocolViolationError } from "./rules.js";

/** The local endpoint of a capture; flowcap cannot run connector images (there is no Docker engine). */
export function localEndpoint(capture: CaptureDef): LocalEndpoint {
  if (capture.endpoint.kind !== "local") {
    throw new FlowcapError("CATALOG_INVALID", `capture ${capture.name} runs the image ${capture.endpoint.image}; flowcap runs local connectors only (endpoint.local.command)`, {
      userFacing: true,
    });
  }
  return capture.endpoint;
}

/** The user stopped the run (Ctrl-C) while the connector was answering a request. */
export class InterruptedError extends FlowcapError {
  constructor(what: string) {
    super("STOPPED", `interrupted ${what}`, { userFacing: true });
  }
}

export interface RunOptions extends ConnectorProcessOptions {
  /** How long the connector may take to answer; default 5 minutes. */
  timeoutMs?: number;
  /** Named in the timeout's message as what set it (`--timeout`). */
  timeoutSource?: string;
  /** Stops waiting for the answer (the connector is killed) and throws an InterruptedError. */
  signal?: AbortSignal;
  /** How long it may take to exit once it has answered and its stdin is closed; default 10 s. */
  exitGraceMs?: number;
}

/**
 * Runs one unary request the way Flow's runtime does: a fresh process, the internal spec first,
 * then the request, then stdin EOF. The connector must answer both, in order, and exit 0.
 * Returns the answer to `request`.
 */
export async function runUnary<T>(capture: CaptureDef, request: Record<string, unknown>, options: RunOptions = {}): Promise<T> {
  const proc = ConnectorProcess.start(localEndpoint(capture), { logLevel: capture.logLevel, ...options });
  const timeoutMs = options.timeoutMs ?? 300_000;
  const exitGraceMs = options.exitGraceMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await proc.send(INTERNAL_SPEC_REQUEST);
    await proc.send(request);
    proc.closeInput();
    const answers: unknown[] = [];
    const variant = Object.keys(request)[0];
    const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const interrupted = options.signal ? aborted(options.signal).then(() => "interrupted" as const) : new Promise<never>(() => {});
    while (proc.checker.awaiting > 0) {
      const event = await Promise.race([proc.next(), deadline, interrupted]);
      if (event === "timeout") {
        throw new FlowcapError("TIMEOUT", `the connector did not answer the ${variant} request within ${timeoutMs / 1000}s${options.timeoutSource ? ` (${options.timeoutSource})` : ""}`, { userFacing: true });
      }
      if (event === "interrupted") throw new InterruptedError(`while the connector was answering the ${variant} request`);
      if (!event) break;
      answers.push(event.response[event.variant]);
    }
    if (!(await proc.exitsWithin(exitGraceMs))) {
      throw new ProtocolViolationError("exit-status", `the connector answered but did not exit within ${exitGraceMs / 1000}s of its stdin closing`);
    }
    // Drain anything left (it is checked: a second answer is a violation).
    for (let event = await proc.next(); event; event = await proc.next()) answers.push(event.response[event.variant]);
    await proc.finish();
    return answers[1] as T;
  } finally {
    clearTimeout(timer);
    proc.kill();
  }
}

export const runSpec = (capture: CaptureDef, options?: RunOptions) => runUnary<SpecResponse>(capture, specRequest(capture), options);
export const runDiscover = (capture: CaptureDef, request: Record<string, unknown>, options?: RunOptions) => runUnary<DiscoveredResponse>(capture, request, options);
export const runValidate = (capture: CaptureDef, request: Record<string, unknown>, options?: RunOptions) => runUnary<ValidatedResponse>(capture, request, options);
export const runApply = (capture: CaptureDef, request: Record<string, unknown>, options?: RunOptions) => runUnary<AppliedResponse>(capture, request, options);
