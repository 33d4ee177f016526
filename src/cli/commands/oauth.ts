import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { runSpec, type CaptureDef } from "../../host/index.js";
import {
  buildCredentials,
  DEFAULT_LOCAL_FLOW_TIMEOUT_MS,
  DEFAULT_LOCAL_PORT,
  isValidCodeVerifier,
  lintOAuth,
  maskCredentials,
  oauthCredentialsBranch,
  OAuthError,
  previewFlow,
  runLocalFlow,
  writeCredentialsToFile,
  type OAuthLintFinding,
} from "../../oauth/index.js";
import type { SpecResponse } from "../../protocol/index.js";
import { checkWithSchema } from "../../sdk/index.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";

/** Where the client secret comes from: never the command line (shell history, `ps`). */
const SECRET_ENV = "FLOWCAP_CLIENT_SECRET";
/** What --dry-run shows in place of the client secret unless --show-secrets. */
const SECRET_PLACEHOLDER = "<client_secret>";
const CLIENT_ID_PLACEHOLDER = "<client_id>";

const say = (text: string) => process.stderr.write(text + "\n");

const flow = defineCommand(
  {
    name: "oauth",
    summary: "run a connector's OAuth2 flow locally (or print its requests with --dry-run); `flowcap oauth lint` checks its templates",
    usage: [
      `flowcap oauth --source <flow.yaml> [--capture <name>] --client-id <id> [--port ${DEFAULT_LOCAL_PORT}] [--write] [--show-secrets]`,
      `       flowcap oauth --source <flow.yaml> --dry-run [--client-id <id>] [--state S] [--code C] [--code-verifier V] [--redirect-uri U]`,
      "       flowcap oauth lint --source <flow.yaml> | --spec <spec.json>",
      "",
      `The client secret is read from ${SECRET_ENV}, or asked for on the terminal.`,
    ].join("\n"),
    options: {
      ...catalogOptions,
      "client-id": { type: "string", value: "<id>", description: "the OAuth app's client id" },
      port: { type: "string", value: "<port>", description: `the port to listen on at 127.0.0.1 for the redirect, 0 for any free one (default: the redirect URI's, else ${DEFAULT_LOCAL_PORT})` },
      "redirect-uri": { type: "string", value: "<url>", description: "the redirect URI registered with the provider (default: http://localhost:16963/, or http://127.0.0.1:<port>/ on another port)" },
      write: { type: "boolean", description: "merge the credentials (with client_id and client_secret) into the capture's config file" },
      "show-secrets": { type: "boolean", description: "print secrets instead of masking them" },
      timeout: { type: "string", value: "<seconds>", description: "how long to wait for the redirect", default: String(DEFAULT_LOCAL_FLOW_TIMEOUT_MS / 1000) },
      "no-browser": { type: "boolean", description: "print the authorize URL without opening a browser" },
      "injected-values": { type: "string", value: "<json>", description: "values Flow injects for this connector (oauth2_injected_values), as a JSON object" },
      "dry-run": { type: "boolean", description: 'send nothing: print {"authorizeUrl", "tokenRequest"} as the host would make them' },
      state: { type: "string", value: "<state>", description: "with --dry-run: the state (default: random)" },
      code: { type: "string", value: "<code>", description: "with --dry-run: the authorization code (default: random)" },
      "code-verifier": { type: "string", value: "<verifier>", description: "with --dry-run: the PKCE code verifier (default: random)" },
    },
  },
  async ({ values }) => {
    // Before the connector runs: a bad verifier would otherwise only show as a refused code.
    if (values["dry-run"]) checkCodeVerifier(values["code-verifier"]);
    const { capture } = await loadSelectedCapture(values);
    const spec = await connectorSpec(capture, values["log-level"]);
    const oauth2 = spec.oauth2;
    if (!oauth2) throw new OAuthError("OAUTH_FLOW", `the spec of ${capture.name}'s connector has no oauth2 block, so there is no OAuth flow to run`);
    const config = capture.endpoint.config;
    const injectedValues = parseInjected(values["injected-values"]);
    const clientId = values["client-id"];
    const redirectUri = values["redirect-uri"];

    if (values["dry-run"]) {
      const secret = values["show-secrets"] && process.env[SECRET_ENV] ? process.env[SECRET_ENV] : SECRET_PLACEHOLDER;
      const preview = previewFlow(oauth2, {
        clientId: clientId ?? CLIENT_ID_PLACEHOLDER,
        clientSecret: secret,
        config,
        injectedValues,
        state: values.state,
        code: values.code,
        codeVerifier: values["code-verifier"],
        redirectUri,
      });
      await new Output().line(JSON.stringify(preview));
      return 0;
    }
    for (const flag of ["state", "code", "code-verifier"] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --dry-run (a real flow draws its own)`);
    if (!clientId) throw new UsageError("--client-id is required");
    const port = values.port !== undefined ? Number(values.port) : redirectUri ? portOf(redirectUri) : DEFAULT_LOCAL_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0 for any free port), not ${JSON.stringify(values.port)}`);
    const timeoutSeconds = Number(values.timeout);
    if (!(timeoutSeconds > 0)) throw new UsageError(`--timeout must be a number of seconds, not ${JSON.stringify(values.timeout)}`);

    reportLint(lintOAuth(spec), capture.name);
    const clientSecret = await clientSecretFromEnvOrPrompt();
    say(`Running the OAuth flow of ${capture.name} (provider ${oauth2.provider}).`);
    const result = await runLocalFlow({
      oauth2,
      clientId,
      clientSecret,
      config,
      injectedValues,
      port,
      redirectUri,
      timeoutMs: timeoutSeconds * 1000,
      onAuthorizeUrl: (url, uri) => {
        say(`Make sure ${uri} is an allowed redirect URI of your OAuth app.`);
        say(`Open this URL in a browser to sign in (waiting up to ${timeoutSeconds} s):\n\n  ${url}\n`);
        if (!values["no-browser"] && openBrowser(url)) say("(asked your browser to open it)");
      },
      onRedirect: () => say("Got the redirect; exchanging the code for tokens."),
    });

    const credentials = buildCredentials(spec.configSchema, result.mapped, { clientId, clientSecret, provider: oauth2.provider, injectedValues });
    if (Object.keys(result.mapped).length === 0) {
      say(`warning: the response map kept nothing from the token response (its keys: ${result.responseKeys.join(", ") || "none"}); check oauth2.accessTokenResponseMap`);
    }
    const problems = checkWithSchema(spec.configSchema as Record<string, unknown>, { ...config, credentials });
    for (const p of problems.filter((p) => p.path === "credentials" || p.path.startsWith("credentials."))) say(`warning: the resulting config does not validate: ${p.path}: ${p.message}`);

    await new Output().line(JSON.stringify({ credentials: values["show-secrets"] ? credentials : maskCredentials(credentials, spec.configSchema, oauth2.provider) }, null, 2));
    if (values.write) {
      const found = oauthCredentialsBranch(spec.configSchema, oauth2.provider);
      const target = capture.endpoint.configFile
        ? { file: capture.endpoint.configFile, configPath: [] as string[] }
        : { file: capture.file, configPath: ["captures", capture.name, "endpoint", capture.endpoint.kind === "local" ? "local" : "connector", "config"] };
      const written = await writeCredentialsToFile(target.file, credentials, { configPath: target.configPath, discriminator: found?.discriminator });
      const where = path.relative(process.cwd(), written.file) || written.file;
      say(`Wrote the credentials into ${where}${target.configPath.length ? ` (${target.configPath.join(".")})` : ""}${written.replaced ? ", replacing credentials of another auth method" : ""}.`);
    } else {
      say("Run again with --write to save them into the capture's config.");
    }
    return 0;
  },
);

const lint = defineCommand(
  {
    name: "oauth lint",
    summary: "check a connector's oauth2 templates and credentials schema for mistakes Flow would hit",
    usage: "flowcap oauth lint --source <flow.yaml> [--capture <name>] | --spec <spec.json>  [--json]",
    options: {
      ...catalogOptions,
      spec: { type: "string", value: "<spec.json>", description: "lint a saved spec response (flowctl raw spec output or a snapshot) instead of running the connector" },
      json: { type: "boolean", description: "print each finding as one JSON line" },
      "extra-token-variables": { type: "string", value: "<names>", description: "comma-separated variables the host also passes to the token templates (injected values, extra redirect parameters)" },
    },
  },
  async ({ values }) => {
    let spec: SpecResponse;
    let subject: string;
    if (values.spec !== undefined) {
      spec = await readSpecFile(values.spec);
      subject = values.spec;
    } else {
      const { capture } = await loadSelectedCapture(values);
      spec = await connectorSpec(capture, values["log-level"]);
      subject = capture.name;
    }
    const out = new Output();
    if (!spec.oauth2) {
      say(`${subject}: the spec has no oauth2 block; nothing to lint.`);
      const findings = lintOAuth(spec);
      for (const f of findings) await out.line(values.json ? JSON.stringify(f) : formatFinding(f));
      return 0;
    }
    const extra = values["extra-token-variables"] !== undefined ? values["extra-token-variables"].split(",").map((s) => s.trim()).filter(Boolean) : [];
    const findings = lintOAuth(spec, { extraTokenVariables: extra });
    if (values.json) for (const f of findings) await out.line(JSON.stringify(f));
    else {
      for (const f of findings) await out.line(formatFinding(f));
      const errors = findings.filter((f) => f.severity === "error").length;
      const waived = findings.filter((f) => f.severity === "waived").length;
      const warnings = findings.length - errors - waived;
      await out.line(findings.length === waived && errors === 0 && warnings === 0 ? `${subject}: OAuth looks right${waived ? ` (${waived} finding(s) waived by the spec)` : ""}.` : `${subject}: ${errors} error(s), ${warnings} warning(s)${waived ? `, ${waived} waived` : ""}.`);
    }
    return findings.some((f) => f.severity === "error") ? 1 : 0;
  },
);

/** `flowcap oauth lint ...` or `flowcap oauth ...`. */
export async function run(argv: string[]): Promise<number> {
  return argv[0] === "lint" ? lint.run(argv.slice(1)) : flow.run(argv);
}
export const spec = flow.spec;

async function connectorSpec(capture: CaptureDef, logLevel: string | undefined): Promise<SpecResponse> {
  return runSpec(capture, { logLevel, onLog: connectorLogPrinter(process.stderr) });
}

/** A finding for people: `error  rule  where: message`. */
export function formatFinding(f: OAuthLintFinding): string {
  const line = `${f.severity.padEnd(7)} ${f.rule.padEnd(24)} ${f.path}: ${f.message}`;
  return f.waiver ? `${line} (waived ${f.waiver.severity}: ${f.waiver.reason})` : line;
}

function reportLint(findings: OAuthLintFinding[], name: string): void {
  const errors = findings.filter((f) => f.severity === "error");
  if (errors.length === 0) return;
  say(`warning: ${name}'s oauth2 spec has ${errors.length} problem(s) Flow would hit (see flowcap oauth lint):`);
  for (const f of errors) say(`  ${f.path}: ${f.message}`);
}

/** A spec response from a file: the object itself, `{"spec": …}`, or flowctl's snapshot array. */
async function readSpecFile(file: string): Promise<SpecResponse> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new OAuthError("OAUTH_FLOW", `cannot read the spec file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const candidates = [parsed, ...(Array.isArray(parsed) ? parsed : []), isPlainObject(parsed) ? parsed.spec : undefined];
  const found = candidates.find((c) => isPlainObject(c) && isPlainObject(c.configSchema));
  if (!found) throw new OAuthError("OAUTH_FLOW", `${file} holds no spec response (an object with configSchema and, for OAuth, oauth2)`);
  return found as unknown as SpecResponse;
}

/** RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~]. */
function checkCodeVerifier(value: string | undefined): void {
  if (typeof value !== "string" || isValidCodeVerifier(value)) return;
  const bad = [...new Set(value.replace(/[A-Za-z0-9\-._~]/g, ""))];
  const found = bad.length > 0 ? `it contains ${bad.map((c) => JSON.stringify(c)).join(", ")}` : `it is ${value.length} characters long`;
  throw new UsageError(`--code-verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~" (RFC 7636 §4.1); ${found}`);
}

function portOf(redirectUri: string): number {
  try {
    const url = new URL(redirectUri);
    return Number(url.port || (url.protocol === "https:" ? 443 : 80));
  } catch {
    throw new UsageError(`--redirect-uri must be a URL, not ${JSON.stringify(redirectUri)}`);
  }
}

function parseInjected(value: string | undefined): Record<string, unknown> | undefined {
  if (typeof value !== "string") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--injected-values must be a JSON object: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new UsageError("--injected-values must be a JSON object");
  return parsed;
}

/** The secret from the environment, or typed on the terminal without echo. */
async function clientSecretFromEnvOrPrompt(): Promise<string> {
  const fromEnv = process.env[SECRET_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(`set ${SECRET_ENV} to the OAuth app's client secret (it is never taken on the command line)`);
  }
  const secret = await promptHidden("Client secret: ");
  if (!secret) throw new UsageError(`no client secret given (type it, or set ${SECRET_ENV})`);
  return secret;
}

function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows: what is typed (or pasted) right after it must not be echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (fn: () => void) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      fn();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done(() => resolve(value));
        if (ch === "\u0003") return done(() => reject(new OAuthError("OAUTH_FLOW", "cancelled")));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * Opens the system browser (RFC 8252 §8.12) when there is one: `$BROWSER`, else `open` (macOS),
 * `xdg-open` (Linux, with a display) or `start` (Windows). Never required: the URL is always
 * printed too. Returns whether a browser was launched.
 */
function openBrowser(url: string): boolean {
  const env = process.env;
  let command: string[];
  if (env.BROWSER !== undefined) {
    if (env.BROWSER === "" || env.BROWSER === "none") return false;
    command = [env.BROWSER, url];
  } else if (process.platform === "darwin") command = ["open", url];
  else if (process.platform === "win32") command = ["cmd", "/c", "start", '""', url.replace(/&/g, "^&")];
  else if (env.DISPLAY || env.WAYLAND_DISPLAY) command = ["xdg-open", url];
  else return false;
  try {
    const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: "ignore", shell: false });
    child.on("error", () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
