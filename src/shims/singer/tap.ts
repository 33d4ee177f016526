import type { LineBatch } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { FlowcapError, StoppedError } from "../../util/errors.js";
import { deepEqual, isPlainObject } from "../../util/mergePatch.js";
import { withTempDir, type ChildProcessHandle, type TempDir } from "../../process/index.js";
import { startProgram, type ProgramOperation, type ProgramOptions } from "../child.js";
import type { SingerAbout, SingerCatalog } from "./types.js";

/** How long `--about` and `--help` may take before the tap is stopped. */
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

/** What a tap's operations get from the shim. */
export interface SingerTapContext {
  log: Logger;
  /** Aborted when the operation must stop (SIGTERM, stdin closed, another task failed). */
  signal: AbortSignal;
  /**
   * Called with the config the tap wrote back to its config file (Singer's way of rotating
   * credentials), once it has exited; the tap's operation ends when the promise settles.
   */
  onConfig(config: Record<string, unknown>): Promise<void>;
}

/** How a sync is handed its catalog: `--catalog F`, the legacy `--properties F`, or not at all. */
export type CatalogArgument = "catalog" | "properties" | "none";

/** Where a sync's output goes: the tap's stdout lines. */
export interface SingerLineSink {
  /** One stdout line, without its newline. Returns a promise when the caller must wait before feeding more. */
  line(line: Buffer): void | Promise<void>;
  /**
   * Stdout lines in a batch the caller hands over (see `LineBatch`: the sink may overwrite the
   * lines it has read). Returns a promise when the caller must wait before feeding more.
   */
  lines(batch: LineBatch): void | Promise<void>;
}

/**
 * A Singer tap, as the connector drives it. `childTap` runs any tap program (Python, a binary,
 * anything following the Singer CLI convention); tests may implement it otherwise.
 */
export interface SingerTap {
  /** How logs and errors name the tap. */
  readonly label: string;
  /** `--about --format=json` (Meltano SDK taps), or undefined when the tap does not answer it. */
  about(ctx: SingerTapContext): Promise<SingerAbout | undefined>;
  /** What `--help` prints (stdout and stderr), or undefined when it prints nothing. */
  help(ctx: SingerTapContext): Promise<string | undefined>;
  /** `--config F --discover`: the catalog the tap prints (parsed, not yet checked). */
  discover(config: Record<string, unknown>, ctx: SingerTapContext): Promise<unknown>;
  /**
   * `--config F [--catalog F | --properties F] [--state F]`, feeding what the tap writes to
   * `sink` (waiting whenever it returns a promise). `state` is the JSON text of the state file.
   * Resolves "completed" when the tap exited 0 and "stopped" when `ctx.signal` stopped it;
   * throws when it failed.
   */
  sync(
    config: Record<string, unknown>,
    catalog: { argument: CatalogArgument; value: SingerCatalog },
    state: string | undefined,
    ctx: SingerTapContext,
    sink: SingerLineSink,
  ): Promise<"completed" | "stopped">;
}

/**
 * Variables a tap inherits by prefix under `cleanEnv` (default of `inheritEnvPrefixes`): Meltano SDK taps read
 * their settings from `TAP_<NAME>_*` and their logging from `SINGER_SDK_LOG_CONFIG`, which a
 * tap's image sets for it.
 */
export const SINGER_ENV_PREFIXES: readonly string[] = ["TAP_", "SINGER_"];

/** How to run a Singer tap as a child process (`argv`: the command before its Singer arguments, `["tap-github"]`). */
export interface ChildTapOptions extends ProgramOptions {
  /** How long `--about` and `--help` may take (default 30 s). */
  probeTimeoutMs?: number;
}

/**
 * A tap run as a child process with the Singer CLI convention. Config, catalog and state files
 * are written to a private temporary directory as `*.json`, mode 0600, and removed once the tap
 * has exited; a config the tap rewrote is read back first and handed to `ctx.onConfig`. See
 * `../child.ts` for the process handling (environment, stderr relayed as logs,
 * backpressure, SIGTERM then SIGKILL, failures with the exit status and stderr tail).
 */
export function childTap(options: ChildTapOptions): SingerTap {
  const label = options.label ?? options.argv.join(" ");
  const program = { ...options, inheritEnvPrefixes: options.inheritEnvPrefixes ?? SINGER_ENV_PREFIXES };
  const start = (args: string[], what: string, ctx: { log: Logger; signal: AbortSignal }, extra: Pick<ProgramOperation, "stderrLevel" | "killTimeoutMs"> = {}): ChildProcessHandle =>
    startProgram(program, args, { what, log: ctx.log, signal: ctx.signal, logFields: { tap: label }, ...extra });

  /** Runs a probe (`--about`, `--help`): its stdout lines, the tail of its stderr, and whether it exited 0. */
  async function probe(args: string[], ctx: SingerTapContext) {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS)]);
    const child = start(args, args.join(" "), { log: ctx.log, signal }, { stderrLevel: "debug", killTimeoutMs: 2_000 });
    const lines: string[] = [];
    let ok = true;
    try {
      if ((await child.consume((line) => void lines.push(line.toString("utf8")))) === "stopped") ok = false;
    } catch {
      ok = false;
    }
    if (ctx.signal.aborted) throw new StoppedError(`${label} ${args.join(" ")} was stopped`);
    return { stdout: lines.join("\n"), stderr: child.stderrTail().join("\n"), ok };
  }

  /** Writes the config, runs `fn`, then hands a config the tap rewrote to `ctx.onConfig`, whatever `fn` did. */
  async function withConfig<T>(dir: TempDir, config: Record<string, unknown>, ctx: SingerTapContext, fn: (configFile: string) => Promise<T>): Promise<T> {
    const file = await dir.writeJson("config", config);
    let failure: unknown;
    let result: T | undefined;
    try {
      result = await fn(file);
    } catch (error) {
      failure = error;
    }
    let rewritten: unknown;
    try {
      rewritten = await dir.readJson("config");
    } catch (error) {
      ctx.log.debug("could not read the tap's config file back", { error: String(error) });
    }
    if (isPlainObject(rewritten) && !deepEqual(rewritten, config)) await ctx.onConfig(rewritten);
    if (failure !== undefined) throw failure;
    return result as T;
  }

  return {
    label,

    async about(ctx) {
      const { stdout, ok } = await probe(["--about", "--format=json"], ctx);
      if (!ok) return undefined;
      const parsed = parseJsonOutput(stdout);
      if (!isPlainObject(parsed.value) || (!Array.isArray(parsed.value.capabilities) && !isPlainObject(parsed.value.settings))) return undefined;
      return parsed.value as SingerAbout;
    },

    async help(ctx) {
      const { stdout, stderr } = await probe(["--help"], ctx);
      const text = [stdout, stderr].filter((t) => t.trim()).join("\n");
      return text || undefined;
    },

    discover(config, ctx) {
      return withTempDir((dir) =>
        withConfig(dir, config, ctx, async (configFile) => {
          const child = start(["--config", configFile, "--discover"], "--discover", ctx);
          const lines: Buffer[] = [];
          const outcome = await child.consume((line) => void lines.push(Buffer.from(line)), { detail: () => tapFailure(child.stderrTail()) });
          if (outcome === "stopped") throw new StoppedError(`${label} --discover was stopped`);
          const text = Buffer.concat(lines.flatMap((l) => [l, NEWLINE])).toString("utf8");
          const { value, before } = parseJsonOutput(text);
          if (value === undefined) {
            throw new FlowcapError("SOURCE_OUTPUT_INVALID", `${label} --discover did not print a catalog${text.trim() ? `: its output is not JSON (${preview(text)})` : " (its output is empty)"}`, { userFacing: true });
          }
          for (const line of before) if (line.trim()) ctx.log.child({ tap: label }).info(line, { stream: "stdout" });
          return value;
        }),
      );
    },

    sync(config, catalog, state, ctx, sink) {
      return withTempDir((dir) =>
        withConfig(dir, config, ctx, async (configFile) => {
          const args = ["--config", configFile];
          if (catalog.argument !== "none") args.push(`--${catalog.argument}`, await dir.writeJson(catalog.argument, catalog.value));
          if (state !== undefined) args.push("--state", await dir.writeText("state", state));
          const child = start(args, "sync", ctx);
          return child.consumeBatches((batch) => sink.lines(batch), { signal: ctx.signal, detail: () => tapFailure(child.stderrTail()) });
        }),
      );
    },
  };
}

const NEWLINE = Buffer.from("\n");

/**
 * The JSON value a command printed: the whole output, or else the output from the first line
 * that starts a JSON value to the end (some taps print log lines on stdout first, which are
 * returned in `before`).
 */
export function parseJsonOutput(text: string): { value: unknown; before: string[] } {
  try {
    return { value: JSON.parse(text), before: [] };
  } catch {
    // fall through
  }
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    if (!/^\s*[{[]/.test(lines[i]!)) continue;
    try {
      return { value: JSON.parse(lines.slice(i).join("\n")), before: lines.slice(0, i) };
    } catch {
      // keep looking
    }
  }
  return { value: undefined, before: [] };
}

/**
 * What a failed tap said last about its failure, to lead the error: the last stderr line that
 * is an error log line (`CRITICAL ...`, `ERROR ...`, a JSON line at level error) or a Python
 * exception (`ValueError: ...`). Undefined when none is.
 */
export function tapFailure(stderrTail: readonly string[]): string | undefined {
  for (let i = stderrTail.length - 1; i >= 0; i--) {
    const line = stderrTail[i]!.trim();
    if (line.startsWith("{")) {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const level = String(parsed.level ?? parsed.levelname ?? parsed.severity ?? "").toLowerCase();
        const message = parsed.message ?? parsed.msg;
        if (["error", "critical", "fatal"].includes(level) && typeof message === "string" && message) return message;
      } catch {
        // not JSON
      }
      continue;
    }
    // singer-python: `CRITICAL message`; the Meltano SDK: `<time> | ERROR    | <logger> | message`.
    const logged = /(?:^|[\s|])(?:CRITICAL|FATAL|ERROR)\b\s*[|:-]?\s*(.+)$/.exec(line);
    if (logged) return logged[1]!.replace(/^[\w.:-]+\s+\|\s+/, "").trim();
    if (/^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)(:|$)/.test(line)) return line;
  }
  return undefined;
}

function preview(text: string): string {
  const t = text.trim();
  return t.length > 200 ? t.slice(0, 200) + "…" : t;
}
