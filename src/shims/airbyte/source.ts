import type { Logger } from "../../runtime/index.js";
import type { AirbyteMessageSink } from "./session.js";
import type { StateInputFile } from "./state.js";
import type { AirbyteCatalog, AirbyteConnectionStatus, AirbyteConnectorSpecification, ConfiguredAirbyteCatalog } from "./types.js";

/** What a source's operations get from the shim. */
export interface AirbyteSourceContext {
  log: Logger;
  /** Aborted when the operation must stop (SIGTERM, stdin closed, another task failed). */
  signal: AbortSignal;
  /**
   * Called with the config of each CONTROL connectorConfig message, in order; the source waits
   * (its output is not read further) until the returned promise settles.
   */
  onConfig(config: Record<string, unknown>): Promise<void>;
}

export interface AirbyteReadContext extends AirbyteSourceContext {
  /** What the source itself reported as its failure (its last TRACE error), for the error message. */
  failureDetail(): string | undefined;
}

/** How a read ended: it ran to its end, or it was stopped (then nothing more is committed). */
export type AirbyteReadOutcome = "completed" | "stopped";

/**
 * An Airbyte source, whatever runs it: a child process following the Airbyte CLI convention
 * (`childSource`), or a TypeScript source in this process (`farosSource`). The connector maps
 * Flow's requests onto these four operations.
 */
export interface AirbyteSource {
  /** How logs and errors name the source. */
  readonly label: string;
  spec(ctx: AirbyteSourceContext): Promise<AirbyteConnectorSpecification>;
  check(config: Record<string, unknown>, ctx: AirbyteSourceContext): Promise<AirbyteConnectionStatus>;
  discover(config: Record<string, unknown>, ctx: AirbyteSourceContext): Promise<AirbyteCatalog>;
  /**
   * Runs `read` and feeds everything it writes to `sink`, waiting whenever the sink returns a
   * promise. Resolves "completed" when the source ended successfully and "stopped" when
   * `ctx.signal` stopped it; throws when it failed.
   */
  read(
    config: Record<string, unknown>,
    catalog: ConfiguredAirbyteCatalog,
    state: StateInputFile | undefined,
    ctx: AirbyteReadContext,
    sink: AirbyteMessageSink,
  ): Promise<AirbyteReadOutcome>;
}
