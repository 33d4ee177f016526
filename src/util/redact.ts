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

/** Base64 fragments shorter than this are not redacted (too likely to occur by chance). */
export const MIN_BASE64_FRAGMENT_LENGTH = 6;

/**
 * Every form a secret takes on its way out that the redactor looks for:
 *
 * - the value itself, and as it is written inside a JSON string (`"` and `\` escaped), where a
 *   relayed line or an HTTP body excerpt holds it;
 * - URL-encoded, the ways URLs and form bodies are encoded in the field: JavaScript's
 *   `encodeURIComponent`, RFC 3986 (Python's `quote`), and `application/x-www-form-urlencoded`
 *   (WHATWG's `URLSearchParams`, Python's `quote_plus`), each with a space as `%20` and as `+`,
 *   with upper- and lower-case hex digits;
 * - base64 and base64url, at each of the three alignments a value can take inside longer encoded
 *   text: the characters that encode the secret's bytes alone, without the ones mixed with its
 *   neighbours. So `base64("client_id:client_secret")` (HTTP Basic credentials) is caught
 *   through the secret, whatever the client id, as is a secret inside an encoded JSON blob.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  for (const form of urlForms(secret)) forms.add(form);
  for (const form of base64Fragments(Buffer.from(secret, "utf8"))) forms.add(form);
  forms.delete("");
  return [...forms];
}

/** Characters each URL encoding leaves as they are (besides ASCII letters and digits). */
const URL_SAFE_SETS = ["-_.!~*'()" /* encodeURIComponent */, "-_.~" /* RFC 3986, Python's quote */, "-_.*" /* x-www-form-urlencoded */];

function urlForms(secret: string): string[] {
  const out: string[] = [];
  const bytes = Buffer.from(secret, "utf8");
  for (const safe of URL_SAFE_SETS) {
    for (const space of ["%20", "+"]) {
      for (const upper of [true, false]) {
        let text = "";
        for (const byte of bytes) {
          const ch = String.fromCharCode(byte);
          if (byte < 0x80 && (/[A-Za-z0-9]/.test(ch) || safe.includes(ch))) text += ch;
          else if (byte === 0x20) text += space;
          else {
            const hex = byte.toString(16).padStart(2, "0");
            text += "%" + (upper ? hex.toUpperCase() : hex);
          }
        }
        out.push(text);
      }
    }
  }
  return out;
}

/** The base64 and base64url characters that encode `bytes` alone, at each of the three alignments. */
function base64Fragments(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString("base64");
    // Characters before `skip` hold bits of the bytes before the secret; from `end` on, of the bytes after it.
    const skip = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    if (end - skip < MIN_BASE64_FRAGMENT_LENGTH) continue;
    const fragment = encoded.slice(skip, end);
    out.push(fragment, fragment.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replaces registered secret values, in every form they take (see `secretForms`), in text on its
 * way out. One Redactor belongs to the connector's logger, which applies it to every string and
 * number of every line before serializing it; nothing else (captured documents, the config of a
 * `configUpdate` event) goes through it.
 *
 * The cost is paid per log line, never per record: one precompiled pattern over all forms.
 */
export class Redactor {
  /** Every registered form: a string equal to one of them is redacted whole, however short. */
  private exact = new Set<string>();
  /** Forms long enough to be looked for inside text. */
  private substrings = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers secret values (strings, or numbers as they are written), with all their forms. */
  add(values: Iterable<string | number | bigint>): void {
    for (const value of values) {
      const text = String(value);
      if (text === "") continue;
      for (const form of secretForms(text)) {
        if (this.exact.has(form)) continue;
        this.exact.add(form);
        if (form.length >= MIN_SUBSTRING_SECRET_LENGTH) {
          this.substrings.add(form);
          this.pattern = undefined;
        }
      }
    }
  }

  /** How many forms are registered (0: the redactor leaves everything as it is). */
  get size(): number {
    return this.exact.size;
  }

  redact(text: string): string {
    if (this.exact.size === 0) return text;
    if (this.exact.has(text)) return REDACTED;
    if (this.substrings.size === 0) return text;
    // Longest first, so a secret that contains another is replaced whole.
    this.pattern ??= new RegExp(
      [...this.substrings]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join("|"),
      "g",
    );
    return text.replace(this.pattern, REDACTED);
  }
}
