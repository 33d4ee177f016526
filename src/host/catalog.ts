import path from "node:path";
import { isPlainObject } from "../util/mergePatch.js";
import { parseDurationSeconds } from "./duration.js";
import { decryptSops, isSopsEncrypted } from "./sops.js";
import { CatalogError, SourceFile, type YamlPath } from "./sourceFile.js";

/** The default capture interval (Flow's): five minutes. */
export const DEFAULT_INTERVAL_SECONDS = 300;

/** A connector run as a local process (`endpoint.local`). */
export interface LocalEndpoint {
  kind: "local";
  /** argv, run without a shell. */
  command: string[];
  /** The endpoint config the connector sees. */
  config: Record<string, unknown>;
  /** Absolute path of the config file, when the config is one. */
  configFile?: string;
  /** True when the config file is sops-encrypted (`config` is what sops decrypted). */
  configEncrypted?: boolean;
  env: Record<string, string>;
  /** The directory of the catalog file that declares the capture; the command runs there. */
  cwd: string;
  protobuf: boolean;
}

/** A connector image (`endpoint.connector`); flowcap cannot run images (no Docker engine). */
export interface ImageEndpoint {
  kind: "image";
  image: string;
  config: Record<string, unknown>;
  configFile?: string;
  cwd: string;
}

export interface BindingDef {
  resource: Record<string, unknown>;
  /** The target collection's name. */
  target: string;
  disable: boolean;
  backfill: number;
}

export interface CaptureDef {
  name: string;
  /** Absolute path of the file that declares it. */
  file: string;
  endpoint: LocalEndpoint | ImageEndpoint;
  bindings: BindingDef[];
  intervalSeconds: number;
  /** `shards.logLevel`, if set. */
  logLevel?: string;
}

export interface CollectionDef {
  name: string;
  file: string;
  key: string[];
  writeSchema: Record<string, unknown> | boolean;
  readSchema?: Record<string, unknown> | boolean;
  /** Absolute path of the schema file when `schema` (or `writeSchema`) names one. */
  schemaFile?: string;
}

export interface Catalog {
  /** Absolute path of the file the catalog was loaded from. */
  source: string;
  /** Every file read, the source first. */
  files: string[];
  captures: Map<string, CaptureDef>;
  collections: Map<string, CollectionDef>;
  /** Things that are not errors but deserve a word (unknown keys flowcap ignores). */
  warnings: string[];
}

const CAPTURE_KEYS = new Set(["endpoint", "bindings", "interval", "shards", "autoDiscover", "expectPubId", "delete", "redactSalt"]);
/** `endpoint.local`'s fields (LocalConfig in crates/models/src/connector.rs). */
const LOCAL_KEYS = new Set(["command", "config", "env", "protobuf"]);
const NAME = /^[\p{L}\p{N}\-_.]+(\/[\p{L}\p{N}\-_.]+)+$/u;

/**
 * Loads a Flow catalog the way flowctl does: the source file and everything it `import`s
 * (relative paths, each once), its `captures` (local connectors, with configs inline or in a
 * YAML/JSON file) and `collections` (schemas inline or in a file). Errors name the file, the
 * place inside it and what is wrong.
 */
export async function loadCatalog(source: string, options: { displayRoot?: string } = {}): Promise<Catalog> {
  const root = path.resolve(source);
  const catalog: Catalog = { source: root, files: [], captures: new Map(), collections: new Map(), warnings: [] };
  const displayRoot = options.displayRoot ?? process.cwd();
  const visit = async (file: string, importedFrom?: { source: SourceFile; at: YamlPath }) => {
    if (catalog.files.includes(file)) return;
    catalog.files.push(file);
    let src: SourceFile;
    try {
      src = await SourceFile.load(file, displayRoot);
    } catch (error) {
      if (importedFrom && error instanceof CatalogError) throw importedFrom.source.error(importedFrom.at, `cannot import ${path.relative(displayRoot, file)}: ${error.message.replace(/^[^:]+: /, "")}`);
      throw error;
    }
    const top = src.toJS();
    if (top === null || top === undefined) return;
    if (!isPlainObject(top)) throw src.error([], "a catalog file must be a mapping (with import, captures, collections, ...)");
    const imports = top.import ?? [];
    if (!Array.isArray(imports)) throw src.error(["import"], "must be a list of files to import");
    for (const [i, entry] of imports.entries()) {
      if (typeof entry !== "string" || entry === "") throw src.error(["import", i], "must be a relative path to a catalog file");
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) && !entry.startsWith("file://")) throw src.error(["import", i], `flowcap imports local files only, not ${entry}`);
      const target = entry.startsWith("file://") ? new URL(entry).pathname : path.resolve(src.directory, entry);
      await visit(target, { source: src, at: ["import", i] });
    }
    if (top.captures !== undefined) {
      if (!isPlainObject(top.captures)) throw src.error(["captures"], "must be a mapping of capture names to captures");
      for (const [name, spec] of Object.entries(top.captures)) {
        if (catalog.captures.has(name)) throw src.error(["captures", name], `capture ${name} is also declared in ${path.relative(displayRoot, catalog.captures.get(name)!.file)}`);
        catalog.captures.set(name, await readCapture(src, name, spec, catalog.warnings));
      }
    }
    if (top.collections !== undefined) {
      if (!isPlainObject(top.collections)) throw src.error(["collections"], "must be a mapping of collection names to collections");
      for (const [name, spec] of Object.entries(top.collections)) {
        if (catalog.collections.has(name)) throw src.error(["collections", name], `collection ${name} is also declared in ${path.relative(displayRoot, catalog.collections.get(name)!.file)}`);
        catalog.collections.set(name, await readCollection(src, name, spec));
      }
    }
  };
  await visit(root);
  return catalog;
}

async function readCapture(src: SourceFile, name: string, spec: unknown, warnings: string[]): Promise<CaptureDef> {
  const at = ["captures", name];
  if (!NAME.test(name)) throw src.error(at, `${JSON.stringify(name)} is not a valid task name (it needs a prefix, like acmeCo/source-foo)`);
  if (!isPlainObject(spec)) throw src.error(at, "must be a mapping with endpoint and bindings");
  for (const key of Object.keys(spec)) if (!CAPTURE_KEYS.has(key)) warnings.push(`${src.where([...at, key])}: unknown key, ignored`);

  const endpoint = spec.endpoint;
  if (!isPlainObject(endpoint)) throw src.error([...at, "endpoint"], "is required: `local: {command, config}` or `connector: {image, config}`");
  let resolved: LocalEndpoint | ImageEndpoint;
  if (isPlainObject(endpoint.local)) {
    const local = endpoint.local;
    const lat = [...at, "endpoint", "local"];
    for (const key of Object.keys(local)) if (!LOCAL_KEYS.has(key)) warnings.push(`${src.where([...lat, key])}: unknown key, ignored (endpoint.local takes ${[...LOCAL_KEYS].join(", ")})`);
    const command = local.command;
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === "string")) {
      throw src.error([...lat, "command"], "must be a non-empty list of strings (the connector's argv)");
    }
    const env = local.env ?? {};
    if (!isPlainObject(env) || !Object.values(env).every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
      throw src.error([...lat, "env"], "must be a mapping of variable names to values");
    }
    const { config, configFile, configEncrypted } = await readConfig(src, [...lat, "config"], local.config);
    resolved = {
      kind: "local",
      command: command as string[],
      config,
      ...(configFile ? { configFile } : {}),
      ...(configEncrypted ? { configEncrypted } : {}),
      env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      cwd: src.directory,
      protobuf: local.protobuf === true,
    };
  } else if (isPlainObject(endpoint.connector)) {
    const image = endpoint.connector.image;
    if (typeof image !== "string" || !image) throw src.error([...at, "endpoint", "connector", "image"], "must name an image");
    const { config, configFile } = await readConfig(src, [...at, "endpoint", "connector", "config"], endpoint.connector.config);
    resolved = { kind: "image", image, config, ...(configFile ? { configFile } : {}), cwd: src.directory };
  } else {
    throw src.error([...at, "endpoint"], "must be `local: {command, config}` or `connector: {image, config}`");
  }

  const bindingsValue = spec.bindings ?? [];
  if (!Array.isArray(bindingsValue)) throw src.error([...at, "bindings"], "must be a list of bindings");
  const bindings = bindingsValue.map((b, i): BindingDef => {
    const bat = [...at, "bindings", i];
    if (!isPlainObject(b)) throw src.error(bat, "must be a mapping with resource and target");
    if (!isPlainObject(b.resource)) throw src.error([...bat, "resource"], "is required: the resource config, a mapping");
    if (typeof b.target !== "string" || !NAME.test(b.target)) throw src.error([...bat, "target"], "is required: the name of the collection to capture into (like acmeCo/things)");
    if (b.disable !== undefined && typeof b.disable !== "boolean") throw src.error([...bat, "disable"], "must be true or false");
    if (b.backfill !== undefined && !(Number.isInteger(b.backfill) && (b.backfill as number) >= 0)) throw src.error([...bat, "backfill"], "must be a whole number, 0 or more");
    return { resource: b.resource, target: b.target, disable: b.disable === true, backfill: (b.backfill as number | undefined) ?? 0 };
  });

  let intervalSeconds = DEFAULT_INTERVAL_SECONDS;
  if (spec.interval !== undefined) {
    const parsed = typeof spec.interval === "string" ? parseDurationSeconds(spec.interval) : undefined;
    if (parsed === undefined) throw src.error([...at, "interval"], `${JSON.stringify(spec.interval)} is not a duration (like 5m, 30s or 1h30m)`);
    intervalSeconds = parsed;
  }
  let logLevel: string | undefined;
  if (spec.shards !== undefined) {
    if (!isPlainObject(spec.shards)) throw src.error([...at, "shards"], "must be a mapping");
    if (spec.shards.logLevel !== undefined) {
      if (typeof spec.shards.logLevel !== "string" || !/^(trace|debug|info|warn|error)$/.test(spec.shards.logLevel)) {
        throw src.error([...at, "shards", "logLevel"], "must be one of trace, debug, info, warn, error");
      }
      logLevel = spec.shards.logLevel;
    }
  }
  return { name, file: src.file, endpoint: resolved, bindings, intervalSeconds, ...(logLevel ? { logLevel } : {}) };
}

/** An endpoint config: inline, or a relative YAML/JSON file, decrypted with sops when it is sops-encrypted. */
async function readConfig(src: SourceFile, at: YamlPath, value: unknown): Promise<{ config: Record<string, unknown>; configFile?: string; configEncrypted?: boolean }> {
  if (value === undefined || value === null) return { config: {} };
  if (isPlainObject(value)) return { config: value };
  if (typeof value !== "string") throw src.error(at, "must be a mapping, or the relative path of a YAML or JSON file");
  const configFile = path.resolve(src.directory, value);
  let file: SourceFile;
  try {
    file = await SourceFile.load(configFile);
  } catch (error) {
    throw src.error(at, `cannot load config file: ${(error as Error).message}`, { cause: error });
  }
  const config = file.toJS();
  if (!isPlainObject(config)) throw file.error([], "an endpoint config file must hold a mapping");
  if (isSopsEncrypted(config)) return { config: await decryptSops(config, file.display, { file: configFile }), configFile, configEncrypted: true };
  return { config, configFile };
}

async function readCollection(src: SourceFile, name: string, spec: unknown): Promise<CollectionDef> {
  const at = ["collections", name];
  if (!NAME.test(name)) throw src.error(at, `${JSON.stringify(name)} is not a valid collection name (it needs a prefix, like acmeCo/things)`);
  if (!isPlainObject(spec)) throw src.error(at, "must be a mapping with schema and key");
  const key = spec.key;
  if (!Array.isArray(key) || key.length === 0 || !key.every((k) => typeof k === "string" && k.startsWith("/"))) {
    throw src.error([...at, "key"], "is required: a list of JSON pointers, like [/id]");
  }
  const schemaKey = spec.schema !== undefined ? "schema" : "writeSchema";
  if (spec[schemaKey] === undefined) throw src.error(at, "needs a schema (or writeSchema and readSchema)");
  const write = await readSchema(src, [...at, schemaKey], spec[schemaKey]);
  const read = spec.readSchema !== undefined && schemaKey === "writeSchema" ? await readSchema(src, [...at, "readSchema"], spec.readSchema) : undefined;
  return {
    name,
    file: src.file,
    key: key as string[],
    writeSchema: write.schema,
    ...(read ? { readSchema: read.schema } : {}),
    ...(write.file ? { schemaFile: write.file } : {}),
  };
}

async function readSchema(src: SourceFile, at: YamlPath, value: unknown): Promise<{ schema: Record<string, unknown> | boolean; file?: string }> {
  if (typeof value === "boolean" || isPlainObject(value)) return { schema: value };
  if (typeof value !== "string") throw src.error(at, "must be a JSON schema, or the relative path of a schema file");
  const file = path.resolve(src.directory, value);
  let loaded: SourceFile;
  try {
    loaded = await SourceFile.load(file);
  } catch (error) {
    throw src.error(at, `cannot load schema: ${(error as Error).message}`, { cause: error });
  }
  const schema = loaded.toJS();
  if (typeof schema !== "boolean" && !isPlainObject(schema)) throw loaded.error([], "a schema file must hold a JSON schema (a mapping)");
  return { schema, file };
}

/** The capture to run: the named one, or the only one. */
export function selectCapture(catalog: Catalog, name?: string): CaptureDef {
  const names = [...catalog.captures.keys()];
  if (name !== undefined) {
    const capture = catalog.captures.get(name);
    if (!capture) throw new CatalogError(`no capture named ${name} in ${path.relative(process.cwd(), catalog.source)} (it has: ${names.join(", ") || "none"})`);
    return capture;
  }
  if (names.length === 1) return catalog.captures.get(names[0]!)!;
  if (names.length === 0) throw new CatalogError(`${path.relative(process.cwd(), catalog.source)} declares no capture`);
  throw new CatalogError(`${path.relative(process.cwd(), catalog.source)} declares ${names.length} captures (${names.join(", ")}): choose one with --capture`);
}

/** The collection a binding writes into; an error naming the binding when it is not in the catalog. */
export function bindingCollection(catalog: Catalog, capture: CaptureDef, index: number): CollectionDef {
  const target = capture.bindings[index]!.target;
  const collection = catalog.collections.get(target);
  if (!collection) {
    throw new CatalogError(
      `${path.relative(process.cwd(), capture.file)}: captures.${capture.name}.bindings[${index}].target: collection ${target} is not declared in the catalog (declare it under collections, or run flowcap discover)`,
    );
  }
  return collection;
}
