import { readFileSync } from "node:fs";
import type { OAuth2 } from "../protocol/index.js";
import { UsageError, type OptionSpec, type OptionValues } from "./args.js";

/**
 * What the shim commands (`flowcap airbyte`, `flowcap singer`) take alike: the wrapped program's
 * environment, working directory and timeouts, Flow's `oauth2` from a file, and the options
 * table that parses them and documents them in --help.
 */

/** The wrapped program, as the shim options' help names it. */
export interface ShimProgram {
  /** "the source", "the tap". */
  what: string;
  /** The environment variables --clean-env still passes for it: "AIRBYTE_*". */
  envPrefixes: string;
  /** What a keyed full-refresh stream is called in its protocol: "keyed full-refresh stream". */
  fullRefreshStream: string;
  /** What a complete refresh deletes by: "a complete refresh", "ACTIVATE_VERSION". */
  deletes: string;
}

/** The options every shim command takes (its own come beside them). */
export function shimOptionTable(program: ShimProgram) {
  const { what } = program;
  return {
    oauth2: { type: "string", value: "FILE", description: "Flow's oauth2 object for the spec (JSON): the object itself, a spec holding it, or {\"oauth2\": ...}" },
    "documentation-url": { type: "string", value: "URL", description: "the spec's documentationUrl" },
    env: { type: "string", multiple: true, value: "NAME=VALUE", description: `a variable for ${what}'s environment (repeatable)` },
    "clean-env": {
      type: "boolean",
      description: `give ${what} only an allowlist of flowcap's environment instead of all of it: PATH, HOME, locale, proxy, CA and LOG_LEVEL variables, runtime ones (PYTHONPATH, PYTHONHOME, VIRTUAL_ENV, JAVA_HOME, JAVA_OPTS, NODE_PATH, NODE_OPTIONS, LD_LIBRARY_PATH, ...), ${program.envPrefixes} and --pass-env names; the names held back are logged at debug level. Default: ${what} inherits the whole environment`,
    },
    "pass-env": { type: "string", multiple: true, value: "NAME", description: "with --clean-env, pass this variable too (repeatable)" },
    cwd: { type: "string", value: "DIR", description: `${what}'s working directory` },
    "max-tracked-keys": {
      type: "string",
      value: "N",
      description: `keys a ${program.fullRefreshStream} tracks so that ${program.deletes} deletes the rows it no longer has (default 500000); each costs its JSON plus ~15 bytes of Flow state (a UUID ~57), and Flow refuses a checkpoint over 64 MB`,
    },
    "idle-timeout-ms": {
      type: "string",
      value: "N",
      description: `how long ${what} may write nothing, on stdout or stderr, while flowcap waits for it, before it is taken for hung and the capture fails (default 10800000: 3 hours; 0 disables it)`,
    },
    "kill-timeout-ms": { type: "string", value: "N", description: `after SIGTERM, how long ${what} gets before SIGKILL (default 10000)` },
  } as const satisfies Record<string, OptionSpec>;
}

/** What the shim options parse to. */
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

/** Reads the shim options' values; a value that is not what its option wants is a UsageError. */
export function shimOptions(values: OptionValues<ReturnType<typeof shimOptionTable>>): ShimOptions {
  const env = parseEnvPairs(values.env);
  const killTimeoutMs = parseMs(values["kill-timeout-ms"], "--kill-timeout-ms");
  const idleTimeoutMs = parseMs(values["idle-timeout-ms"], "--idle-timeout-ms");
  let maxTrackedKeys: number | undefined;
  if (values["max-tracked-keys"] !== undefined) {
    maxTrackedKeys = Number(values["max-tracked-keys"]);
    if (!Number.isSafeInteger(maxTrackedKeys) || maxTrackedKeys < 0) throw new UsageError("--max-tracked-keys wants a whole number");
  }
  const oauth2 = readOAuth2File(values.oauth2);
  return { env, cleanEnv: values["clean-env"] === true, inheritEnv: values["pass-env"], cwd: values.cwd, killTimeoutMs, idleTimeoutMs, maxTrackedKeys, oauth2, documentationUrl: values["documentation-url"] };
}

/** `NAME=VALUE` pairs as an environment. */
function parseEnvPairs(pairs: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env wants NAME=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** A non-negative number of milliseconds, or undefined when not given. */
function parseMs(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0)) throw new UsageError(`${option} wants a number of milliseconds`);
  return n;
}

/** Reads Flow's oauth2 object from a file holding it, a spec (or `{"oauth2": ...}`) holding it. */
function readOAuth2File(file: string | undefined): OAuth2 | undefined {
  if (!file) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new UsageError(`cannot read --oauth2 ${file}: ${(error as Error).message}`);
  }
  const o = parsed as { oauth2?: unknown; spec?: { oauth2?: unknown } };
  const oauth2 = (o.spec?.oauth2 ?? o.oauth2 ?? parsed) as OAuth2;
  if (typeof oauth2 !== "object" || oauth2 === null || typeof oauth2.provider !== "string" || typeof oauth2.authUrlTemplate !== "string") {
    throw new UsageError(`${file} does not hold Flow's oauth2 object (provider, authUrlTemplate, accessTokenUrlTemplate, ...)`);
  }
  return oauth2;
}
