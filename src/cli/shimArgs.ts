import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { OAuth2 } from "../protocol/index.js";

/**
 * What the shim commands (`flowcap airbyte`, `flowcap singer`) parse alike: the wrapped
 * program's command after `--`, its environment, Flow's `oauth2` from a file. Each returns the
 * value or an error message (the command prints it with its usage, exit 2).
 */

/** Splits argv at `--`: the command's own options, and the wrapped program's command. */
export function splitCommand(argv: readonly string[]): { own: string[]; command: string[] } {
  const split = argv.indexOf("--");
  return { own: split < 0 ? [...argv] : argv.slice(0, split), command: split < 0 ? [] : argv.slice(split + 1) };
}

/** `NAME=VALUE` pairs as an environment. */
export function parseEnvPairs(pairs: readonly string[] | undefined): Record<string, string> | string {
  const env: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return `--env wants NAME=VALUE, got ${JSON.stringify(pair)}`;
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** A non-negative number of milliseconds, or undefined when not given. */
export function parseMs(value: string | undefined, option: string): number | undefined | string {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : `${option} wants a number of milliseconds`;
}

/** Reads Flow's oauth2 object from a file holding it, a spec (or `{"oauth2": ...}`) holding it. */
export function readOAuth2File(file: string | undefined): { oauth2?: OAuth2; error?: string } {
  if (!file) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    const o = parsed as { oauth2?: unknown; spec?: { oauth2?: unknown } };
    const oauth2 = (o.spec?.oauth2 ?? o.oauth2 ?? parsed) as OAuth2;
    if (typeof oauth2 !== "object" || oauth2 === null || typeof oauth2.provider !== "string" || typeof oauth2.authUrlTemplate !== "string") {
      return { error: `${file} does not hold Flow's oauth2 object (provider, authUrlTemplate, accessTokenUrlTemplate, ...)` };
    }
    return { oauth2 };
  } catch (error) {
    return { error: `cannot read --oauth2 ${file}: ${(error as Error).message}` };
  }
}

/** The options every shim command takes (for `node:util` parseArgs). */
export const SHIM_OPTIONS = {
  oauth2: { type: "string" },
  "documentation-url": { type: "string" },
  env: { type: "string", multiple: true },
  "clean-env": { type: "boolean" },
  "pass-env": { type: "string", multiple: true },
  cwd: { type: "string" },
  "kill-timeout-ms": { type: "string" },
  "idle-timeout-ms": { type: "string" },
  "max-tracked-keys": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** What SHIM_OPTIONS parse to. */
export interface ShimOptions {
  env: Record<string, string>;
  cleanEnv: boolean;
  inheritEnv?: string[];
  cwd?: string;
  killTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxTrackedKeys?: number;
  oauth2?: OAuth2;
  documentationUrl?: string;
}

/** Reads SHIM_OPTIONS' values; a string is the error to print. */
export function shimOptions(values: { env?: string[]; "clean-env"?: boolean; "pass-env"?: string[]; cwd?: string; "kill-timeout-ms"?: string; "idle-timeout-ms"?: string; "max-tracked-keys"?: string; oauth2?: string; "documentation-url"?: string }): ShimOptions | string {
  const env = parseEnvPairs(values.env);
  if (typeof env === "string") return env;
  const killTimeoutMs = parseMs(values["kill-timeout-ms"], "--kill-timeout-ms");
  if (typeof killTimeoutMs === "string") return killTimeoutMs;
  const idleTimeoutMs = parseMs(values["idle-timeout-ms"], "--idle-timeout-ms");
  if (typeof idleTimeoutMs === "string") return idleTimeoutMs;
  let maxTrackedKeys: number | undefined;
  if (values["max-tracked-keys"] !== undefined) {
    maxTrackedKeys = Number(values["max-tracked-keys"]);
    if (!Number.isSafeInteger(maxTrackedKeys) || maxTrackedKeys < 0) return "--max-tracked-keys wants a whole number";
  }
  // Accept the oauth2 object itself, or a spec (or {"oauth2": ...}) holding it.
  const { oauth2, error } = readOAuth2File(values.oauth2);
  if (error) return error;
  return { env, cleanEnv: values["clean-env"] === true, inheritEnv: values["pass-env"], cwd: values.cwd, killTimeoutMs, idleTimeoutMs, maxTrackedKeys, oauth2, documentationUrl: values["documentation-url"] };
}

/** A shim command, for its messages: `flowcap <name>`, its usage text, what it wraps ("the tap") and an example of it. */
export interface ShimCommand {
  name: string;
  usage: string;
  wraps: string;
  example: string;
}

/** parseArgs' option descriptors. */
type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

type ShimArgsConfig<T extends OptionsConfig> = { args: string[]; options: T & typeof SHIM_OPTIONS; strict: true; allowPositionals: false };

/** A parsed shim command line: its own option values, the wrapped program, SHIM_OPTIONS read. */
export interface ParsedShimArgs<T extends OptionsConfig> {
  values: ReturnType<typeof parseArgs<ShimArgsConfig<T>>>["values"];
  command: string[];
  common: ShimOptions;
  /** Prints a usage error with the usage text; returns the exit code (2). */
  fail(message: string): number;
}

/**
 * Parses a shim command's argv: its options (SHIM_OPTIONS and `extra`) before `--`, the wrapped
 * program after. Returns what to run, or the exit code when there is nothing to run: 0 after
 * `--help`, 2 after a usage error, printed with the usage text.
 */
export function parseShimArgs<const T extends OptionsConfig>(argv: readonly string[], extra: T, cli: ShimCommand): ParsedShimArgs<T> | number {
  const fail = (message: string) => {
    process.stderr.write(`flowcap ${cli.name}: ${message}\n\n${cli.usage}`);
    return 2;
  };
  const { own, command } = splitCommand(argv);
  let values: ParsedShimArgs<T>["values"];
  try {
    ({ values } = parseArgs<ShimArgsConfig<T>>({ args: own, options: { ...extra, ...SHIM_OPTIONS }, strict: true, allowPositionals: false }));
  } catch (error) {
    return fail((error as Error).message);
  }
  // Inside this generic function the values' type is not resolved: read SHIM_OPTIONS' as such.
  const shared = values as Parameters<typeof shimOptions>[0] & { help?: boolean };
  if (shared.help) {
    process.stdout.write(cli.usage);
    return 0;
  }
  if (command.length === 0) return fail(`give ${cli.wraps}'s command after --, e.g. flowcap ${cli.name} -- ${cli.example}`);
  const common = shimOptions(shared);
  if (typeof common === "string") return fail(common);
  return { values, command, common, fail };
}
