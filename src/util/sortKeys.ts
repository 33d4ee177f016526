import { isPlainObject } from "./mergePatch.js";

/**
 * Sorts object keys recursively, as Flow prints documents: two values that differ only in key
 * order then stringify alike (and sops' MAC, which depends on the order, matches).
 */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}
