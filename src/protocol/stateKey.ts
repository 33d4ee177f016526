/**
 * Computes a binding's state key exactly as Flow does (`assemble::encode_state_key`): the resource
 * path joined with `/`, with every character other than Unicode letters and digits and
 * `- _ + . =` percent-encoded as upper-case UTF-8 bytes, and `.v<backfill>` appended when the
 * backfill counter is not zero. Bumping `backfill` therefore gives the binding a fresh state.
 */
export function stateKey(resourcePath: readonly string[], backfill = 0): string {
  let out = "";
  for (const ch of resourcePath.join("/")) {
    if (/^[\p{Alphabetic}\p{N}\-_+.=]$/u.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, "utf8")) out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return backfill !== 0 ? `${out}.v${backfill}` : out;
}
