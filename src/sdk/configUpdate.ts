import { RawJson, type Logger } from "../runtime/index.js";
import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { collectSecrets } from "../util/redact.js";
import { sortKeys } from "../util/sortKeys.js";

export { sortKeys };

/** Where Estuary encrypts configs; `ENCRYPTION_URL` overrides it (tests point it at a local server). */
export const DEFAULT_ENCRYPTION_URL = "https://config-encryption.estuary.dev/v1/encrypt-config";

/** Options of encryptConfig. */
export interface EncryptOptions {
  /** Default: `ENCRYPTION_URL` from the environment, else Estuary's service. */
  encryptionUrl?: string;
  /** The environment to read `ENCRYPTION_URL` from: process.env by default. */
  env?: Record<string, string | undefined>;
  /** How long the encryption request may take. */
  timeoutMs?: number;
}

/**
 * Encrypts an endpoint config the way Flow's control plane does, by POSTing
 * `{config, schema}` (keys sorted) to the encryption service, and returns the encrypted config.
 */
export async function encryptConfig(config: Record<string, unknown>, schema: unknown, options: EncryptOptions = {}): Promise<Record<string, unknown>> {
  return (await encryptConfigText(config, schema, options)).config;
}

/** encryptConfig, also returning the service's answer as it came (the text Flow must get). */
async function encryptConfigText(config: Record<string, unknown>, schema: unknown, options: EncryptOptions): Promise<{ config: Record<string, unknown>; text: string }> {
  const url = options.encryptionUrl ?? (options.env ?? process.env).ENCRYPTION_URL ?? DEFAULT_ENCRYPTION_URL;
  const body = JSON.stringify({ config: sortKeys(config), schema });
  let response;
  try {
    const { request } = await import("undici");
    response = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body,
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
    });
  } catch (error) {
    throw new FlowcapError("INTERNAL", `could not reach the config encryption service at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.body.text();
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new FlowcapError("INTERNAL", `the config encryption service at ${url} answered HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  let encrypted: unknown;
  try {
    encrypted = JSON.parse(text);
  } catch (error) {
    throw new FlowcapError("INTERNAL", `the config encryption service at ${url} did not answer JSON`, { cause: error });
  }
  if (!isPlainObject(encrypted)) throw new FlowcapError("INTERNAL", `the config encryption service at ${url} did not answer a JSON object`);
  return { config: encrypted, text };
}

/**
 * Persists a changed endpoint config (a rotated refresh token, a migrated setting): registers its
 * new secrets with the logger, encrypts it, and emits Flow's `configUpdate` event so the control
 * plane republishes the task with it. Call it before using the new values, so a crash in
 * between cannot lose them.
 *
 * The event carries the encryption service's answer byte for byte: log redaction never touches
 * it (with `user: postgres, password: postgres`, Flow must still get `"user":"postgres"`).
 */
export async function emitConfigUpdate(
  log: Logger,
  message: string,
  config: Record<string, unknown>,
  configSchema: unknown,
  options: EncryptOptions = {},
): Promise<void> {
  log.redactor.add(collectSecrets(configSchema, config));
  const { text } = await encryptConfigText(config, configSchema, options);
  log.event.configUpdate(message, new RawJson(text));
}
