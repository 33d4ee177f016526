import { isPlainObject } from "../util/mergePatch.js";
import { REDACTED } from "../util/redact.js";
import { credentialsProperty, discriminatorOf, isSecret, isSensitiveName, oauthBranches, type Located, type Schema } from "./schema.js";


/** The credentials branch an OAuth flow fills: the one whose `x-oauth2-provider` is `provider` (or the only one). */
export function oauthCredentialsBranch(configSchema: unknown, provider?: string): { branch: Located; discriminator?: string; discriminatorValue?: unknown } | undefined {
  const schema: Schema = isPlainObject(configSchema) ? configSchema : {};
  const credentials = credentialsProperty(schema);
  if (!credentials) return undefined;
  const branches = oauthBranches(schema, credentials);
  const branch = branches.find((b) => (b.node["x-oauth2-provider"] ?? credentials.node["x-oauth2-provider"]) === provider) ?? branches[0];
  if (!branch) return undefined;
  const discriminator = discriminatorOf(credentials);
  const props = isPlainObject(branch.node.properties) ? branch.node.properties : {};
  const tag = discriminator ? props[discriminator] : undefined;
  const discriminatorValue = isPlainObject(tag) ? (tag.const ?? tag.default ?? (Array.isArray(tag.enum) ? tag.enum[0] : undefined)) : undefined;
  return { branch, discriminator, discriminatorValue };
}

/**
 * The `credentials` object Flow ends up storing after an OAuth sign-in: the auth method's
 * discriminator (as the UI sets it), the mapped token response, the client id and secret (which
 * the host injects in place of its placeholders), then the injected values (Object.assign'ed last,
 * as the host does).
 */
export function buildCredentials(
  configSchema: unknown,
  mapped: Record<string, unknown>,
  options: { clientId: string; clientSecret: string; provider?: string; injectedValues?: Record<string, unknown> },
): Record<string, unknown> {
  const found = oauthCredentialsBranch(configSchema, options.provider);
  const head: Record<string, unknown> = found?.discriminator && found.discriminatorValue !== undefined ? { [found.discriminator]: found.discriminatorValue } : {};
  return { ...head, ...mapped, client_id: options.clientId, client_secret: options.clientSecret, ...options.injectedValues };
}

/**
 * The credentials with their secrets masked for printing: the properties the OAuth branch marks
 * secret, `client_secret`, and anything named like a token, secret or password.
 */
export function maskCredentials(credentials: Record<string, unknown>, configSchema: unknown, provider?: string): Record<string, unknown> {
  const found = oauthCredentialsBranch(configSchema, provider);
  const props = found && isPlainObject(found.branch.node.properties) ? found.branch.node.properties : {};
  return Object.fromEntries(
    Object.entries(credentials).map(([k, v]) => [k, v !== undefined && v !== null && v !== "" && (isSecret(props[k]) || k === "client_secret" || isSensitiveName(k)) ? REDACTED : v]),
  );
}
