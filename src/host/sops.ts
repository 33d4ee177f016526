import { execFile } from "node:child_process";
import { isPlainObject } from "../util/mergePatch.js";
import { CatalogError } from "./sourceFile.js";

/** True for a config that sops encrypted: it carries sops' metadata stanza. */
export function isSopsEncrypted(config: unknown): config is Record<string, unknown> & { sops: unknown } {
  return isPlainObject(config) && isPlainObject(config.sops);
}

/**
 * Decrypts a sops-encrypted config the way Flow's runtime does before a connector sees it
 * (crates/runtime/src/unseal): `sops --decrypt`, then the stanza's `encrypted_suffix` (Estuary
 * encrypts `*_sops` fields) stripped from every key. `encrypted` is the config as read; sops reads
 * `file` when there is one (its MAC covers the file as written), else the config on stdin. Errors
 * name the fix: sops missing from PATH, or the key it needs.
 */
export async function decryptSops(encrypted: Record<string, unknown>, where: string, options: { file?: string; sops?: string } = {}): Promise<Record<string, unknown>> {
  const sops = options.sops ?? process.env.FLOWCAP_SOPS ?? "sops";
  const args = options.file ? ["--decrypt", "--output-type", "json", options.file] : ["--decrypt", "--input-type", "json", "--output-type", "json", "/dev/stdin"];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(sops, args, { maxBuffer: 64 << 20, timeout: 120_000 }, (error, out, err) => {
      if (!error) return resolve(out);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(
          new CatalogError(
            `${where} is sops-encrypted (Estuary's convention for test credentials), but \`${sops}\` is not on PATH: install sops (https://github.com/getsops/sops/releases) with access to the key it was encrypted with, or decrypt the config yourself (sops --decrypt --in-place <file>)`,
            { cause: error },
          ),
        );
      }
      const tail = String(err).trim().split("\n").slice(-3).join("\n  ");
      reject(new CatalogError(`${where} is sops-encrypted, and \`sops --decrypt\` failed (do you have the key it was encrypted with?):\n  ${tail || error.message}`, { cause: error }));
    });
    if (!options.file) child.stdin?.end(JSON.stringify(encrypted));
  });
  let decrypted: unknown;
  try {
    decrypted = JSON.parse(stdout);
  } catch (error) {
    throw new CatalogError(`${where}: \`sops --decrypt\` did not print a JSON config`, { cause: error });
  }
  if (!isPlainObject(decrypted)) throw new CatalogError(`${where}: the decrypted config is not a mapping`);
  delete decrypted.sops;
  const suffix = isPlainObject(encrypted.sops) ? encrypted.sops.encrypted_suffix : undefined;
  return stripSuffix(decrypted, typeof suffix === "string" ? suffix : undefined);
}

/** Every key ending in `suffix` renamed without it, at any depth. */
export function stripSuffix(value: Record<string, unknown>, suffix: string | undefined): Record<string, unknown> {
  if (!suffix) return value;
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (!isPlainObject(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, sub]) => [k.endsWith(suffix) ? k.slice(0, -suffix.length) : k, strip(sub)]));
  };
  return strip(value) as Record<string, unknown>;
}
