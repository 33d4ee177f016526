import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Document, isMap, isSeq, YAMLMap, YAMLSeq } from "yaml";
import type { DiscoveredBinding, SpecResponse } from "../protocol/index.js";
import { getPointer } from "../util/jsonPointer.js";
import { deepEqual } from "../util/mergePatch.js";
import type { Catalog, CaptureDef } from "./catalog.js";
import { stringifyKeepingLines } from "../util/yamlStyle.js";
import { SourceFile } from "./sourceFile.js";

/** What `updateCatalog` changed, for the report. */
export interface CatalogUpdate {
  addedBindings: string[];
  keptBindings: string[];
  /** Bindings in the catalog that discovery no longer returns (kept, since the user wrote them). */
  undiscoveredBindings: string[];
  addedCollections: string[];
  updatedSchemas: string[];
  /** Collections whose key in the catalog differs from the discovered one (the catalog's is kept). */
  keyDifferences: { collection: string; catalog: string[]; discovered: string[] }[];
  writtenFiles: string[];
}

/** The resource path of a resource config, by the spec's pointers; undefined when a location is missing. */
export function resourcePathOf(resourceConfig: Record<string, unknown>, pointers: readonly string[]): string[] | undefined {
  const path: string[] = [];
  for (const ptr of pointers) {
    const v = getPointer(resourceConfig, ptr);
    if (v === undefined || v === null) continue; // optional parts (such as an absent namespace) are skipped, as Flow does
    path.push(typeof v === "string" ? v : JSON.stringify(v));
  }
  return path.length ? path : undefined;
}

/**
 * Updates the catalog's files with a discovery, the way `flowctl raw discover` does while keeping
 * what the user wrote: each discovered resource without a binding gets one
 * (`{resource, target: <prefix>/<recommendedName>}`), existing bindings stay as written, each
 * bound collection's schema becomes the discovered one (in its schema file, or inline), and new
 * collections are declared next to the catalog's other collections of the same prefix (or in
 * `<prefix>/flow.yaml`, imported from the capture's file). Comments and formatting of the files
 * are kept.
 */
export async function updateCatalog(catalog: Catalog, capture: CaptureDef, spec: SpecResponse, discovered: DiscoveredBinding[]): Promise<CatalogUpdate> {
  const update: CatalogUpdate = { addedBindings: [], keptBindings: [], undiscoveredBindings: [], addedCollections: [], updatedSchemas: [], keyDifferences: [], writtenFiles: [] };
  const pointers = spec.resourcePathPointers ?? [];
  const prefix = capture.name.includes("/") ? capture.name.slice(0, capture.name.lastIndexOf("/")) : "acmeCo";
  const documents = new Map<string, Document>();
  const texts = new Map<string, string>();
  const open = async (file: string): Promise<Document> => {
    let doc = documents.get(file);
    if (!doc) {
      try {
        const source = await SourceFile.load(file);
        doc = source.document;
        texts.set(file, source.text);
      } catch {
        doc = new Document({});
      }
      documents.set(file, doc);
    }
    return doc;
  };
  const sameResource = (a: Record<string, unknown>, b: Record<string, unknown>) => {
    if (!pointers.length) return deepEqual(a, b);
    const pa = resourcePathOf(a, pointers);
    return pa !== undefined && deepEqual(pa, resourcePathOf(b, pointers));
  };
  const label = (rc: Record<string, unknown>) => (resourcePathOf(rc, pointers) ?? [JSON.stringify(rc)]).join("/");

  const captureDoc = await open(capture.file);
  const bindingsPath = ["captures", capture.name, "bindings"];
  let bindingsNode = captureDoc.getIn(bindingsPath, true);
  if (!isSeq(bindingsNode)) {
    bindingsNode = new YAMLSeq();
    captureDoc.setIn(bindingsPath, bindingsNode);
  }
  const targets = new Map<string, DiscoveredBinding>();
  for (const found of discovered) {
    const existing = capture.bindings.find((b) => sameResource(b.resource, found.resourceConfig));
    if (existing) {
      update.keptBindings.push(label(found.resourceConfig));
      targets.set(existing.target, found);
      continue;
    }
    const target = `${prefix}/${found.recommendedName}`;
    const binding: Record<string, unknown> = { resource: found.resourceConfig, target };
    if (found.disable) binding.disable = true;
    (bindingsNode as YAMLSeq).add(captureDoc.createNode(binding));
    update.addedBindings.push(label(found.resourceConfig));
    targets.set(target, found);
  }
  for (const b of capture.bindings) {
    if (!discovered.some((d) => sameResource(b.resource, d.resourceConfig))) update.undiscoveredBindings.push(label(b.resource));
  }

  // Collections.
  const schemaFiles = new Map<string, unknown>();
  for (const [target, found] of targets) {
    const existing = catalog.collections.get(target);
    if (existing) {
      if (existing.schemaFile) schemaFiles.set(existing.schemaFile, found.documentSchema);
      else {
        const doc = await open(existing.file);
        const key = doc.hasIn(["collections", target, "writeSchema"]) ? "writeSchema" : "schema";
        doc.setIn(["collections", target, key], doc.createNode(found.documentSchema));
      }
      update.updatedSchemas.push(target);
      if (!deepEqual(existing.key, found.key)) update.keyDifferences.push({ collection: target, catalog: existing.key, discovered: found.key });
      continue;
    }
    const home = collectionsFileFor(catalog, target, capture);
    const doc = await open(home.file);
    if (home.importFrom) {
      const importer = await open(home.importFrom);
      const rel = path.relative(path.dirname(home.importFrom), home.file).split(path.sep).join("/");
      const imports = importer.getIn(["import"], true);
      const already = isSeq(imports) && imports.items.some((i) => String((i as { value?: unknown }).value ?? i) === rel);
      if (!already) {
        if (isSeq(imports)) imports.add(importer.createNode(rel));
        else importer.setIn(["import"], importer.createNode([rel]));
      }
    }
    const local = target.startsWith(prefix + "/") ? target.slice(prefix.length + 1) : target.split("/").pop()!;
    const schemaRel = `${local}.schema.yaml`;
    schemaFiles.set(path.join(path.dirname(home.file), schemaRel), found.documentSchema);
    if (!isMap(doc.getIn(["collections"], true))) doc.setIn(["collections"], new YAMLMap());
    doc.setIn(["collections", target], doc.createNode({ schema: schemaRel, key: found.key }));
    update.addedCollections.push(target);
  }

  for (const [file, doc] of documents) {
    await mkdir(path.dirname(file), { recursive: true });
    // The lines discover did not change come out byte for byte as they went in.
    const text = texts.get(file);
    await writeFile(file, text !== undefined ? stringifyKeepingLines(doc, text) : String(doc));
    update.writtenFiles.push(file);
  }
  for (const [file, schema] of schemaFiles) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, String(new Document(schema)));
    update.writtenFiles.push(file);
  }
  return update;
}

/** Where a new collection is declared: beside others of its prefix, else `<prefix>/flow.yaml` next to the capture. */
function collectionsFileFor(catalog: Catalog, name: string, capture: CaptureDef): { file: string; importFrom?: string } {
  const prefix = name.slice(0, name.lastIndexOf("/"));
  for (const c of catalog.collections.values()) {
    if (c.name.startsWith(prefix + "/")) return { file: c.file };
  }
  const file = path.join(path.dirname(capture.file), prefix, "flow.yaml");
  return catalog.files.includes(file) ? { file } : { file, importFrom: capture.file };
}


