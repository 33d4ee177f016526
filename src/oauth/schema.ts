import { isPlainObject } from "../util/mergePatch.js";

/** Walking a config schema to its OAuth credentials (local `$ref`s, `oneOf` branches). */

export type Schema = Record<string, unknown>;

/** A schema node and where it is, as a readable path (`configSchema.$defs.OAuth`). */
export interface Located {
  node: Schema;
  path: string;
}

/** Resolves local `$ref`s (`#/$defs/X`, `#/definitions/X`), following chains. */
export function resolve(root: Schema, located: Located): Located {
  let { node, path } = located;
  for (let i = 0; i < 10 && typeof node.$ref === "string" && node.$ref.startsWith("#/"); i++) {
    const tokens = node.$ref.slice(2).split("/").map((t) => decodeURIComponent(t).replace(/~1/g, "/").replace(/~0/g, "~"));
    let cur: unknown = root;
    for (const t of tokens) cur = isPlainObject(cur) ? cur[t] : undefined;
    if (!isPlainObject(cur)) break;
    node = { ...cur, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== "$ref")) };
    path = "configSchema." + tokens.join(".");
  }
  return { node, path };
}

/** The alternatives of a schema node (`oneOf`/`anyOf`), or the node itself. */
export function alternatives(root: Schema, located: Located): Located[] {
  for (const key of ["oneOf", "anyOf"] as const) {
    const list = located.node[key];
    if (Array.isArray(list) && list.length > 0) {
      return list.filter(isPlainObject).map((sub, i) => resolve(root, { node: sub, path: `${located.path}.${key}[${i}]` }));
    }
  }
  return [located];
}

/** Credentials branches that carry `x-oauth2-provider`. */
export function oauthBranches(root: Schema, credentials: Located): Located[] {
  return alternatives(root, credentials).filter((b) => typeof b.node["x-oauth2-provider"] === "string" || typeof credentials.node["x-oauth2-provider"] === "string");
}

/** True for a property marked secret the way Flow (`secret`) or Airbyte (`airbyte_secret`) does. */
export function isSecret(node: unknown): boolean {
  return isPlainObject(node) && (node.secret === true || node.airbyte_secret === true);
}

/** The `credentials` property of a config schema, `$ref` resolved. */
export function credentialsProperty(schema: Schema): Located | undefined {
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  return isPlainObject(props.credentials) ? resolve(schema, { node: props.credentials, path: "configSchema.properties.credentials" }) : undefined;
}

/** The discriminator property of the credentials' auth methods, if any (`credentials_title`). */
export function discriminatorOf(credentials: Located): string | undefined {
  const d = credentials.node.discriminator;
  return isPlainObject(d) && typeof d.propertyName === "string" ? d.propertyName : undefined;
}

const SENSITIVE_KEY = /token|secret|password|passwd|api[-_]?key|private[-_]?key|assertion/i;
/** Fields about a credential rather than the credential: its expiry, type, URL or title. */
const NOT_SENSITIVE = /expir|_at$|_type$|_ur[li]$|_title$/i;

/** True for a property name that holds a secret whatever its schema says (`refresh_token`, `api_key`). */
export function isSensitiveName(key: string): boolean {
  return SENSITIVE_KEY.test(key) && !NOT_SENSITIVE.test(key);
}
