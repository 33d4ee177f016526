/** Escapes one RFC 6901 reference token: `~` becomes `~0`, `/` becomes `~1`. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Builds a JSON pointer from path tokens: `["a", "b/c"]` gives `/a/b~1c`. */
export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => "/" + escapePointerToken(String(t))).join("");
}

/** Splits a JSON pointer into its unescaped tokens. Throws on a pointer that does not start with `/`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`invalid JSON pointer ${JSON.stringify(pointer)}: must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Resolves a JSON pointer in a value; `undefined` where the location does not exist. */
export function getPointer(value: unknown, pointer: string): unknown {
  let cur: unknown = value;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (typeof cur === "object" && cur !== null) {
      cur = Object.prototype.hasOwnProperty.call(cur, token) ? (cur as Record<string, unknown>)[token] : undefined;
    } else return undefined;
  }
  return cur;
}

/** Turns an ajv-style instance path (`/credentials/client_id`, `/bindings/2`) into `credentials.client_id`, `bindings[2]`. */
export function readablePath(pointer: string): string {
  let out = "";
  for (const token of parsePointer(pointer)) {
    if (/^(0|[1-9][0-9]*)$/.test(token)) out += `[${token}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(token)) out += (out ? "." : "") + token;
    else out += `[${JSON.stringify(token)}]`;
  }
  return out;
}
