/**
 * The environment policy of a shim's child (an Airbyte source, a Singer tap). By default it
 * inherits the parent's whole environment, as Docker, Estuary's airbyte-to-flow and every
 * process runner do (a Dockerfile `ENV`, a catalog's `env:`, cloud SDK variables, a tap's own
 * settings), plus the connector's own variables. With `clean` it gets only an allowlist
 * (`DEFAULT_INHERITED_ENV`, names with a shim's prefixes such as `AIRBYTE_`, and the names
 * asked for), and the names it held back are logged at debug.
 */
/**
 * Environment variables a child inherits from the parent under `cleanEnv` (plus every `LC_*`):
 * what programs need to run (PATH, HOME, locale, temp dirs), reach the network through a proxy
 * and trust its CAs, and Flow's `LOG_LEVEL`; and what a source's own image sets for its runtime
 * (a Python virtualenv, a JVM, Node's module path and options, shared libraries), without which
 * a source that runs on its own fails to start beside flowcap. None of these is a credential.
 * Everything else must then be given explicitly.
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TMP",
  "TEMP",
  "TERM",
  "LOG_LEVEL",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "SYSTEMROOT",
  // The source's runtime, as its image sets it up.
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONUNBUFFERED",
  "PYTHONIOENCODING",
  "PYTHONUTF8",
  "VIRTUAL_ENV",
  "LD_LIBRARY_PATH",
  "JAVA_HOME",
  "JAVA_OPTS",
  "JAVA_TOOL_OPTIONS",
  "NODE_PATH",
  "NODE_OPTIONS",
];

/** Prefixes of variables every child inherits under `cleanEnv`: the locale's. */
export const DEFAULT_INHERITED_ENV_PREFIXES: readonly string[] = ["LC_"];

/** How a child's environment is made (see `childEnv`). */
export interface ChildEnvOptions {
  /** The connector's own variables, set on top of what is inherited. */
  env?: Record<string, string>;
  /** Inherit only the allowlist (`DEFAULT_INHERITED_ENV`, `LC_*`, `inherit`, `inheritPrefixes`), not the whole environment. */
  clean?: boolean;
  /** Under `clean`: further names to inherit. */
  inherit?: readonly string[];
  /** Under `clean`: prefixes of further names to inherit. */
  inheritPrefixes?: readonly string[];
  /** The parent environment; default `process.env`. */
  parentEnv?: Record<string, string | undefined>;
}

/**
 * The environment of a child: the parent's (default `process.env`), or with `clean` only its
 * allowlisted variables, then `env` (the connector's own variables) on top. `heldBack` names
 * the parent's variables `clean` left out.
 */
export function childEnv(options: ChildEnvOptions = {}): { env: Record<string, string>; heldBack: string[] } {
  const parent = options.parentEnv ?? process.env;
  const names = new Set([...DEFAULT_INHERITED_ENV, ...(options.inherit ?? [])]);
  const prefixes = [...DEFAULT_INHERITED_ENV_PREFIXES, ...(options.inheritPrefixes ?? [])];
  const out: Record<string, string> = {};
  const heldBack: string[] = [];
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (!options.clean || names.has(name) || prefixes.some((p) => name.startsWith(p))) out[name] = value;
    else if (!(options.env && name in options.env)) heldBack.push(name);
  }
  return { env: { ...out, ...options.env }, heldBack: heldBack.sort() };
}
