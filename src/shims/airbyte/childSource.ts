import { StoppedError, FlowcapError } from "../../util/errors.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { withTempDir, type ChildProcessHandle } from "../../process/index.js";
import { startProgram, type ProgramOptions } from "../child.js";
import { airbyteMessageOf, logAirbyteLog, logTraceError } from "./session.js";
import type { AirbyteReadContext, AirbyteReadOutcome, AirbyteSource, AirbyteSourceContext } from "./source.js";
import type { AirbyteMessageSink } from "./session.js";
import type { StateInputFile } from "./state.js";
import type { AirbyteCatalog, AirbyteConnectionStatus, AirbyteConnectorSpecification, ConfiguredAirbyteCatalog } from "./types.js";

/** How to run an Airbyte source as a child process (`argv`: the command before the Airbyte command). */
export type ChildSourceOptions = ProgramOptions;

/**
 * Variables a source inherits by prefix under `cleanEnv` (default of `inheritEnvPrefixes`): the
 * Airbyte CDK's own switches, such as `AIRBYTE_ENABLE_UNSAFE_CODE`, which a source's image sets
 * for it.
 */
export const AIRBYTE_ENV_PREFIXES: readonly string[] = ["AIRBYTE_"];

/**
 * An Airbyte source run as a child process with the Airbyte CLI convention: `spec`,
 * `check --config F`, `discover --config F`, `read --config F --catalog F [--state F]`. The
 * files are written to a private temporary directory as `*.json`, mode 0600, and removed when
 * the command has exited. See `../child.ts` for the process handling.
 */
export function childSource(options: ChildSourceOptions): AirbyteSource {
  const label = options.label ?? options.argv.join(" ");
  const program = { ...options, inheritEnvPrefixes: options.inheritEnvPrefixes ?? AIRBYTE_ENV_PREFIXES };
  const start = (args: string[], ctx: AirbyteSourceContext): ChildProcessHandle => startProgram(program, args, { what: args[0]!, log: ctx.log, signal: ctx.signal, logFields: { source: label } });

  /** Runs a command that answers with one message of type `want`. */
  async function unary<T>(args: string[], want: "SPEC" | "CONNECTION_STATUS" | "CATALOG", ctx: AirbyteSourceContext): Promise<T> {
    const child = start(args, ctx);
    const log = ctx.log.child({ source: label });
    let answer: unknown;
    let traceError: string | undefined;
    let lineNumber = 0;
    const outcome = await child.consume(
      (line) => {
        const m = airbyteMessageOf(line, log, ++lineNumber);
        if (!m) return;
        if (m.type === want) answer = want === "SPEC" ? m.spec : want === "CATALOG" ? m.catalog : m.connectionStatus;
        else if (m.type === "LOG") logAirbyteLog(log, m.log);
        else if (m.type === "TRACE" && isPlainObject(m.trace) && m.trace.type === "ERROR") traceError = logTraceError(log, m.trace);
        else if (m.type === "CONTROL" && isPlainObject(m.control) && isPlainObject(m.control.connectorConfig) && isPlainObject(m.control.connectorConfig.config)) {
          return ctx.onConfig(m.control.connectorConfig.config);
        } else log.debug(`ignoring an Airbyte ${m.type} message in the answer to ${args[0]}`);
      },
      { detail: () => traceError },
    );
    if (outcome === "stopped") throw new StoppedError(`${label} ${args[0]} was stopped`);
    if (answer === undefined) {
      throw new FlowcapError("SOURCE_OUTPUT_INVALID", `${label} ${args[0]} exited without writing a ${want} message${traceError ? `: ${traceError}` : ""}`, { userFacing: true });
    }
    return answer as T;
  }

  return {
    label,

    spec(ctx) {
      return unary<AirbyteConnectorSpecification>(["spec"], "SPEC", ctx);
    },

    check(config, ctx) {
      return withTempDir(async (dir) => unary<AirbyteConnectionStatus>(["check", "--config", await dir.writeJson("config", config)], "CONNECTION_STATUS", ctx));
    },

    discover(config, ctx) {
      return withTempDir(async (dir) => unary<AirbyteCatalog>(["discover", "--config", await dir.writeJson("config", config)], "CATALOG", ctx));
    },

    read(config: Record<string, unknown>, catalog: ConfiguredAirbyteCatalog, state: StateInputFile | undefined, ctx: AirbyteReadContext, sink: AirbyteMessageSink): Promise<AirbyteReadOutcome> {
      return withTempDir(async (dir) => {
        const args = ["read", "--config", await dir.writeJson("config", config), "--catalog", await dir.writeJson("catalog", catalog)];
        if (state) args.push("--state", await dir.writeJson("state", state.value));
        return start(args, ctx).consumeBatches((batch) => sink.lines(batch), { signal: ctx.signal, detail: ctx.failureDetail });
      });
    },
  };
}
