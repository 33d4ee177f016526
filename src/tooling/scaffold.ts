import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import Mustache from "mustache";
import { FlowcapError } from "../util/errors.js";
import { addBundleScript } from "./bundleScript.js";
import { defaultFlowcapSpec, flowcapPackage } from "./flowcapPackage.js";

/**
 * The starting points `flowcap scaffold` offers. `http-oauth` is the `http` template with
 * `auth: "oauth2"`, under the name it had before `http` took an `--auth`.
 */
export const SCAFFOLD_TEMPLATES = ["native", "http", "http-oauth", "airbyte", "singer"] as const;
export type ScaffoldTemplate = (typeof SCAFFOLD_TEMPLATES)[number];

/** How the `http` template's connector authenticates: the config fields and the client's `HttpAuth` follow. */
export const SCAFFOLD_AUTHS = ["api-key", "bearer", "basic", "oauth2"] as const;
export type ScaffoldAuth = (typeof SCAFFOLD_AUTHS)[number];

export interface ScaffoldOptions {
  /** The connector's name, like `source-acme`: lower case letters, digits and dashes. */
  name: string;
  template?: ScaffoldTemplate;
  /** Where to create it; default `connectors/<name>` under the current directory. */
  dir?: string;
  /**
   * The npm spec of the flowcap dependency; default: this flowcap (`file:<relative path>` to a
   * checkout or a local tarball; `^<version>` when it came from a registry). See defaultFlowcapSpec.
   */
  flowcap?: string;
  /** The one resource's name; default per template. */
  resource?: string;
  /** The `http` template's authentication: `api-key` by default. Only the `http` template takes it. */
  auth?: ScaffoldAuth;
}

export interface ScaffoldResult {
  dir: string;
  files: string[];
  /** The template's directory under templates/ (`http` for `http-oauth`). */
  template: string;
  /** The `http` template's authentication. */
  auth?: ScaffoldAuth;
  /** The flowcap dependency's spec in its package.json. */
  flowcap: string;
  /** A package.json outside the connector that got its `bundle:<name>` script (see addBundleScript). */
  bundleScriptAddedTo?: string;
}

const DEFAULT_RESOURCE: Record<ScaffoldTemplate, string> = { native: "events", http: "items", "http-oauth": "items", airbyte: "users", singer: "users" };

/** A template file named `x.ts@oauth2.tpl` is written (as `x.ts`) only with that `auth`. */
const AUTH_ONLY_FILE = /@([a-z0-9-]+)\.tpl$/;

/** `snake_case`/`kebab-case` → `camelCase`, `PascalCase`, `Title Case`. */
function words(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter(Boolean);
}
const pascal = (text: string) => words(text).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
const camel = (text: string) => pascal(text).replace(/^./, (c) => c.toLowerCase());
const title = (text: string) => words(text).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(path.relative(base, full));
  }
  return out.sort();
}

/**
 * Creates a new connector from a template: a standalone package with typed config, one resource,
 * a README, a `test.flow.yaml` with its collection, passing tests (`npm test`) and a bundle script.
 * Template files are Mustache with `<% %>` tags (so TypeScript's braces stay as they are); a
 * `__resource__` in a path becomes the resource's name, and `gitignore` becomes `.gitignore`. The
 * `http` template renders sections for its `auth` (`<%#apiKey%>`, `<%#bearer%>`, `<%#basic%>`,
 * `<%#oauth2%>`), and writes a file named `x@<auth>.tpl` only for that auth.
 */
export async function scaffoldConnector(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: ${JSON.stringify(name)} is not a connector name: use lower case letters, digits and dashes, like source-acme`, { userFacing: true });
  }
  const template = options.template ?? "native";
  if (!SCAFFOLD_TEMPLATES.includes(template)) {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: no template ${JSON.stringify(template)} (there are: ${SCAFFOLD_TEMPLATES.join(", ")})`, { userFacing: true });
  }
  const templateDir = template === "http-oauth" ? "http" : template;
  if (options.auth !== undefined && templateDir !== "http") {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: --auth is for the http template, not ${template}`, { userFacing: true });
  }
  const auth = templateDir === "http" ? (template === "http-oauth" ? "oauth2" : (options.auth ?? "api-key")) : undefined;
  if (template === "http-oauth" && options.auth !== undefined && options.auth !== "oauth2") {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: the http-oauth template is the http template with --auth oauth2, not ${options.auth}`, { userFacing: true });
  }
  if (auth !== undefined && !SCAFFOLD_AUTHS.includes(auth)) {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: no auth ${JSON.stringify(auth)} (there are: ${SCAFFOLD_AUTHS.join(", ")})`, { userFacing: true });
  }
  const resource = options.resource ?? DEFAULT_RESOURCE[template];
  if (!/^[a-z][a-z0-9_]*$/.test(resource)) {
    throw new FlowcapError("CONFIG_INVALID", `scaffold: ${JSON.stringify(resource)} is not a resource name: use lower case letters, digits and underscores`, { userFacing: true });
  }
  const dir = path.resolve(options.dir ?? path.join("connectors", name));
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length) throw new FlowcapError("CONFIG_INVALID", `scaffold: ${dir} already exists and is not empty`, { userFacing: true });

  const flowcap = await flowcapPackage();
  const view = {
    name,
    title: title(name.replace(/^source-/, "")),
    resource,
    resourceCamel: camel(resource),
    resourceType: pascal(resource),
    resourceTitle: title(resource),
    provider: name.replace(/^source-/, ""),
    flowcap: options.flowcap ?? (await defaultFlowcapSpec(flowcap, dir)),
    auth: auth ?? "",
    apiKey: auth === "api-key",
    bearer: auth === "bearer",
    basic: auth === "basic",
    oauth2: auth === "oauth2",
  };
  // The templates ship in the package, beside dist/ and src/.
  const source = path.join(flowcap.root, "templates", templateDir);
  try {
    await stat(source);
  } catch {
    throw new FlowcapError("INTERNAL", `scaffold: the ${templateDir} template is missing from ${path.dirname(source)}`);
  }
  const files: string[] = [];
  for (const rel of await listFiles(source)) {
    const only = AUTH_ONLY_FILE.exec(rel);
    if (only && only[1] !== auth) continue;
    const text = await readFile(path.join(source, rel), "utf8");
    const rendered = rel.endsWith(".tpl") ? Mustache.render(text, view, {}, { tags: ["<%", "%>"], escape: (s: string) => s }) : text;
    const target = rel
      .replace(AUTH_ONLY_FILE, ".tpl")
      .replace(/\.tpl$/, "")
      .replace(/__resource__/g, resource)
      .replace(/(^|\/)gitignore$/, "$1.gitignore");
    await mkdir(path.dirname(path.join(dir, target)), { recursive: true });
    await writeFile(path.join(dir, target), rendered, { mode: target === "main.ts" ? 0o755 : 0o644 });
    files.push(target);
  }
  const bundleScriptAddedTo = await addBundleScript(dir, name);
  return { dir, files, template: templateDir, ...(auth ? { auth } : {}), flowcap: view.flowcap, ...(bundleScriptAddedTo ? { bundleScriptAddedTo } : {}) };
}
