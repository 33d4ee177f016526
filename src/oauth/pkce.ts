import { createHash, randomBytes, randomInt } from "node:crypto";

/** RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** True for a code verifier RFC 7636 §4.1 allows. */
export function isValidCodeVerifier(verifier: string): boolean {
  return CODE_VERIFIER.test(verifier);
}

/**
 * A PKCE code verifier as RFC 7636 §4.1 recommends: 32 random bytes, base64url-encoded without
 * padding (43 characters). `bytes` may be 32 to 96 (43 to 128 characters).
 */
export function createCodeVerifier(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 32 || bytes > 96) throw new RangeError(`a code verifier needs 32 to 96 random bytes, not ${bytes}`);
  return randomBytes(bytes).toString("base64url");
}

/** The S256 code challenge: base64url(SHA-256(ASCII(verifier))), no padding (RFC 7636 §4.2). */
export function codeChallengeS256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A fresh PKCE pair. */
export function createPkce(): { codeVerifier: string; codeChallenge: string; codeChallengeMethod: "S256" } {
  const codeVerifier = createCodeVerifier();
  return { codeVerifier, codeChallenge: codeChallengeS256(codeVerifier), codeChallengeMethod: "S256" };
}

const STATE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A fresh `state`: 40 characters of `[A-Za-z0-9]`, like the host's, drawn uniformly (≈238 bits).
 * The charset survives every encoding a template may apply to it.
 */
export function createState(length = 40): string {
  let out = "";
  for (let i = 0; i < length; i++) out += STATE_CHARS[randomInt(STATE_CHARS.length)];
  return out;
}
