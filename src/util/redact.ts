import { isPlainObject } from "./mergePatch.js";

/** What a redacted secret is replaced with in log output. */
export const REDACTED = "[redacted]";

/**
 * Secrets shorter than this are redacted only where a whole string equals them: replacing every
 * occurrence of, say, a 2-character value would shred every log line while hiding nothing.
 */
export const MIN_SUBSTRING_SECRET_LENGTH = 4;

type Schema = { [key: string]: unknown };

/** True for the annotations Flow's UI (`secret`) and Airbyte (`airbyte_secret`) use to mark secrets. */
function isSecretSchema(schema: Schema): boolean {
  return schema.secret === true || schema.airbyte_secret === true;
}

/**
 * Collects the values of `config` that `schema` marks as secret (`secret: true` or
 * `airbyte_secret: true`), following `properties`, `patternProperties`, `additionalProperties`,
 * `items`, `oneOf`/`anyOf`/`allOf`, `if`/`then`/`else` and local `$ref`s.
 */
export function collectSecrets(schema: unknown, config: unknown): string[] {
  const found = new Set<string>();
  const root = isPlainObject(schema) ? schema : {};
  const addAll = (value: unknown) => {
    if (typeof value === "string") {
      if (value !== "") found.add(value);
    } else if (typeof value === "number" || typeof value === "bigint") found.add(String(value));
    else if (Array.isArray(value)) value.forEach(addAll);
    else if (isPlainObject(value)) Object.values(value).forEach(addAll);
  };
  const walk = (node: unknown, value: unknown, seenRefs: Set<string>) => {
    if (!isPlainObject(node) || value === undefined || value === null) return;
    if (typeof node.$ref === "string") {
      const ref = node.$ref;
      if (!seenRefs.has(ref)) {
        const target = resolveLocalRef(root, ref);
        if (target) walk(target, value, new Set(seenRefs).add(ref));
      }
    }
    if (isSecretSchema(node)) {
      addAll(value);
      return;
    }
    for (const key of ["oneOf", "anyOf", "allOf"]) {
      const list = node[key];
      if (Array.isArray(list)) for (const sub of list) walk(sub, value, seenRefs);
    }
    for (const key of ["if", "then", "else"]) walk(node[key], value, seenRefs);
    if (isPlainObject(value)) {
      const props = isPlainObject(node.properties) ? node.properties : {};
      const patterns = isPlainObject(node.patternProperties) ? Object.entries(node.patternProperties) : [];
      for (const [key, sub] of Object.entries(value)) {
        let matched = false;
        // Descending into the value: a $ref seen above can only loop at the same value, so start afresh.
        if (key in props) {
          walk(props[key], sub, new Set());
          matched = true;
        }
        for (const [pattern, psub] of patterns) {
          if (safeRegExp(pattern)?.test(key)) {
            walk(psub, sub, new Set());
            matched = true;
          }
        }
        if (!matched) walk(node.additionalProperties, sub, new Set());
      }
    } else if (Array.isArray(value)) {
      const items = node.items;
      value.forEach((v, i) => walk(Array.isArray(items) ? items[i] : items, v, new Set()));
    }
  };
  walk(root, config, new Set());
  return [...found];
}

function resolveLocalRef(root: Schema, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const token = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isPlainObject(cur)) return undefined;
    cur = cur[token];
  }
  return cur;
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}

/**
 * Replaces registered secret values in strings. One Redactor belongs to a logger, which applies
 * it to every string of every line before serializing it.
 */
export class Redactor {
  private exact = new Set<string>();
  private substrings: string[] = [];

  /** Registers secret values (and their URL-encoded forms, which end up in logged URLs). */
  add(values: Iterable<string>): void {
    let changed = false;
    for (const value of values) {
      for (const form of new Set([value, encodeURIComponent(value)])) {
        if (form === "" || this.exact.has(form)) continue;
        this.exact.add(form);
        if (form.length >= MIN_SUBSTRING_SECRET_LENGTH) {
          this.substrings.push(form);
          changed = true;
        }
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    if (changed) this.substrings.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.exact.size;
  }

  redact(text: string): string {
    if (this.exact.size === 0) return text;
    if (this.exact.has(text)) return REDACTED;
    let out = text;
    for (const secret of this.substrings) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }
}
