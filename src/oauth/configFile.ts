import { chmod, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isScalar, parseDocument, type Document } from "yaml";
import { isPlainObject } from "../util/mergePatch.js";
import { stringifyKeepingLines } from "../util/yamlStyle.js";
import { OAuthError } from "./errors.js";

export interface WriteCredentialsOptions {
  /** Where the endpoint config sits inside the file: [] when the file is the config, or the path of an inline config in a catalog. */
  configPath?: readonly string[];
  /** The property holding the credentials: `credentials`. */
  credentialsKey?: string;
  /**
   * The discriminator of the auth methods (`credentials_title`). When the file's credentials are of
   * another method, they are replaced rather than merged, so no field of the old method lingers.
   */
  discriminator?: string;
}

export interface WriteCredentialsResult {
  file: string;
  format: "yaml" | "json";
  /** True when existing credentials of another auth method were replaced whole. */
  replaced: boolean;
}

/**
 * Writes OAuth credentials into a config file and keeps everything else: other settings, key
 * order, and in YAML the comments and formatting (through the `yaml` package's Document API).
 * Refuses a sops-encrypted file, whose MAC a plain edit would break. The file is replaced
 * atomically (written beside it, then renamed) with its mode kept.
 */
export async function writeCredentialsToFile(file: string, credentials: Record<string, unknown>, options: WriteCredentialsOptions = {}): Promise<WriteCredentialsResult> {
  const configPath = options.configPath ?? [];
  const key = options.credentialsKey ?? "credentials";
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new OAuthError("OAUTH_FLOW", `cannot read the config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const json = file.endsWith(".json");
  let out: string;
  let replaced = false;

  if (json) {
    let root: unknown;
    try {
      root = JSON.parse(text);
    } catch (error) {
      throw new OAuthError("OAUTH_FLOW", `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (isPlainObject(root) && "sops" in root) throw sopsError(file);
    let config: unknown = root;
    for (const p of configPath) config = isPlainObject(config) ? config[p] : undefined;
    if (!isPlainObject(config)) throw new OAuthError("OAUTH_FLOW", `${file}: no config object at ${configPath.join(".") || "the top level"}`);
    const current = config[key];
    replaced = isPlainObject(current) && differentMethod(current[options.discriminator ?? ""], credentials[options.discriminator ?? ""], options.discriminator);
    config[key] = isPlainObject(current) && !replaced ? { ...current, ...credentials } : { ...credentials };
    const indent = /^[ \t]*\{\s*\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
    out = JSON.stringify(root, null, indent) + (text.endsWith("\n") ? "\n" : "");
  } else {
    const doc = parseDocument(text, { keepSourceTokens: true });
    if (doc.errors.length > 0) throw new OAuthError("OAUTH_FLOW", `${file} is not valid YAML: ${doc.errors[0]!.message}`);
    if (doc.contents !== null && !isMap(doc.contents) && configPath.length === 0) throw new OAuthError("OAUTH_FLOW", `${file} does not hold a YAML mapping`);
    if (isMap(doc.contents) && doc.contents.has("sops")) throw sopsError(file);
    if (configPath.length > 0 && !isMap(doc.getIn(configPath, true))) throw new OAuthError("OAUTH_FLOW", `${file}: no config mapping at ${configPath.join(".")}`);
    const at = [...configPath, key];
    const current = doc.getIn(at, true);
    const discriminator = options.discriminator;
    if (isMap(current) && discriminator) {
      const existing = current.get(discriminator, true);
      replaced = differentMethod(isScalar(existing) ? existing.value : undefined, credentials[discriminator], discriminator);
    }
    if (!isMap(current) || replaced) {
      const node = doc.createNode({ ...credentials });
      if (isMap(current)) {
        // Keep the comments that sat on the old credentials mapping.
        node.commentBefore = current.commentBefore;
        node.comment = current.comment;
      }
      setIn(doc, at, node);
    } else {
      for (const [k, v] of Object.entries(credentials)) setIn(doc, [...at, k], v);
    }
    out = stringifyKeepingLines(doc, text);
  }

  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.flowcap-${process.pid}.tmp`);
  const mode = (await stat(file)).mode & 0o777;
  await writeFile(tmp, out, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
  return { file, format: json ? "json" : "yaml", replaced };
}

function setIn(doc: Document, at: readonly string[], value: unknown): void {
  const existing = doc.getIn(at, true);
  // Setting a scalar in place keeps its comments; replacing the node would drop them.
  if (isScalar(existing) && !(value instanceof Object)) existing.value = value;
  else doc.setIn(at, value);
}

function differentMethod(current: unknown, next: unknown, discriminator: string | undefined): boolean {
  return discriminator !== undefined && current !== undefined && next !== undefined && current !== next;
}

function sopsError(file: string): OAuthError {
  return new OAuthError(
    "OAUTH_FLOW",
    `${file} is sops-encrypted, and writing into it would break its MAC. Decrypt it first (sops --decrypt --in-place ${file}), run again with --write, then re-encrypt; or run without --write and put the printed credentials in yourself.`,
  );
}

/**
 * Writes a whole endpoint config into its file (a `configUpdate` a connector emitted, applied
 * locally): only the values that changed are touched, so in YAML the comments, order and style of
 * everything else stay as written. Refuses a sops-encrypted file, as writeCredentialsToFile does.
 */
export async function writeConfigToFile(file: string, config: Record<string, unknown>, options: { configPath?: readonly string[] } = {}): Promise<void> {
  const configPath = options.configPath ?? [];
  const text = await readFile(file, "utf8");
  const at = (root: unknown) => configPath.reduce<unknown>((cur, p) => (isPlainObject(cur) ? cur[p] : undefined), root);
  let out: string;
  if (file.endsWith(".json")) {
    const root = JSON.parse(text) as unknown;
    if (isPlainObject(at(root)) && "sops" in (at(root) as object)) throw sopsError(file);
    let next: unknown = config;
    if (configPath.length) {
      const holder = configPath.slice(0, -1).reduce<unknown>((cur, p) => (isPlainObject(cur) ? cur[p] : undefined), root);
      if (!isPlainObject(holder)) throw new OAuthError("OAUTH_FLOW", `${file}: no config object at ${configPath.join(".")}`);
      holder[configPath.at(-1)!] = config;
      next = root;
    }
    const indent = /^[ \t]*\{\s*\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
    out = JSON.stringify(next, null, indent) + (text.endsWith("\n") ? "\n" : "");
  } else {
    const doc = parseDocument(text, { keepSourceTokens: true });
    if (doc.errors.length > 0) throw new OAuthError("OAUTH_FLOW", `${file} is not valid YAML: ${doc.errors[0]!.message}`);
    const before = at(doc.toJS());
    if (isPlainObject(before) && "sops" in before) throw sopsError(file);
    const update = (path: string[], was: unknown, now: unknown) => {
      if (isPlainObject(was) && isPlainObject(now)) {
        for (const k of Object.keys(was)) if (!(k in now)) doc.deleteIn([...configPath, ...path, k]);
        for (const [k, v] of Object.entries(now)) update([...path, k], was[k], v);
      } else if (JSON.stringify(was) !== JSON.stringify(now)) setIn(doc, [...configPath, ...path], now);
    };
    update([], before, config);
    out = stringifyKeepingLines(doc, text);
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.flowcap-${process.pid}.tmp`);
  const mode = (await stat(file)).mode & 0o777;
  await writeFile(tmp, out, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}
