import type {
  ApplyRequest,
  AppliedResponse,
  DiscoverRequest,
  DiscoveredResponse,
  OpenRequest,
  OpenedResponse,
  SpecRequest,
  SpecResponse,
  ValidateRequest,
  ValidatedResponse,
} from "../protocol/index.js";
import type { Logger } from "./log.js";
import type { CaptureTask } from "./task.js";

/** A connector's spec. The runtime sets `protocol` itself. */
export type ConnectorSpec = Omit<SpecResponse, "protocol"> & { protocol?: number };

/** What every request handler gets. */
export interface RequestContext {
  readonly log: Logger;
  /** Aborted when the process is asked to stop (SIGTERM). */
  readonly signal: AbortSignal;
}

/**
 * What `open` returns: the `opened` response and the capture to run once it is written. (The
 * session is the process's life from `open` to exit, which the runtime runs; this is the part of
 * it the connector supplies.)
 */
export interface OpenedCapture {
  /** Written as the session's first response. Set `explicitAcknowledgements` to receive acknowledgements. */
  opened?: OpenedResponse;
  /**
   * Runs the capture. The session ends (and the process exits 0) when this resolves and every
   * task it spawned has finished; it fails (exit 1, error logged last) when it rejects.
   */
  capture(task: CaptureTask): Promise<void>;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Flow's capture protocol as a connector implements it, one method per request. `serve()` runs
 * any `Connector`: the SDK's `defineConnector()` builds one, and so do the shims.
 */
export interface Connector {
  spec(request: SpecRequest, context: RequestContext): MaybePromise<ConnectorSpec>;
  discover(request: DiscoverRequest, context: RequestContext): MaybePromise<DiscoveredResponse>;
  validate(request: ValidateRequest, context: RequestContext): MaybePromise<ValidatedResponse>;
  /** Optional: the default is a no-op with an empty action description. */
  apply?(request: ApplyRequest, context: RequestContext): MaybePromise<AppliedResponse>;
  open(request: OpenRequest, context: RequestContext): MaybePromise<OpenedCapture>;
}

/**
 * The former name of OpenedCapture, kept so code written against it compiles.
 * @deprecated Use OpenedCapture: a session is the runtime's (open until exit), not what `open` returns.
 */
export type CaptureSession = OpenedCapture;
