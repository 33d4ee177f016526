/** A JSON object, as parsed. */
export type JsonObject = { [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Applies an RFC 7396 JSON merge patch and returns the result. `target` is not modified;
 * unchanged sub-objects are shared with it.
 *
 * A `null` in the patch deletes the key; objects merge recursively; anything else replaces.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: JsonObject = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * Computes a merge patch that turns `from` into `to` (the inverse of applyMergePatch).
 * Arrays and scalars are replaced whole. Returns `undefined` when nothing changed.
 */
export function diffMergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(to) || !isPlainObject(from)) {
    return deepEqual(from, to) ? undefined : to;
  }
  const patch: JsonObject = {};
  let changed = false;
  for (const key of Object.keys(from)) {
    if (!(key in to) || to[key] === undefined) {
      patch[key] = null;
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    if (!(key in from)) {
      patch[key] = value;
      changed = true;
      continue;
    }
    const sub = isPlainObject(value) && isPlainObject(from[key]) ? diffMergePatch(from[key], value) : deepEqual(from[key], value) ? undefined : value;
    if (sub !== undefined) {
      patch[key] = sub;
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => k in bo && deepEqual(ao[k], bo[k]));
}
