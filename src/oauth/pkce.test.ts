import { describe, expect, it } from "vitest";
import { codeChallengeS256, createCodeVerifier, createPkce, createState, isValidCodeVerifier } from "./pkce.js";

describe("PKCE and state", () => {
  it("computes the S256 challenge of RFC 7636 Appendix B", () => {
    expect(codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("makes verifiers of 43 to 128 base64url characters, and never repeats", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { codeVerifier, codeChallenge, codeChallengeMethod } = createPkce();
      expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(isValidCodeVerifier(codeVerifier)).toBe(true);
      expect(codeChallenge).toBe(codeChallengeS256(codeVerifier));
      expect(codeChallenge).not.toMatch(/[+/=]/);
      expect(codeChallengeMethod).toBe("S256");
      seen.add(codeVerifier);
    }
    expect(seen.size).toBe(200);
    expect(createCodeVerifier(96)).toHaveLength(128);
    expect(() => createCodeVerifier(31)).toThrow(RangeError);
    expect(isValidCodeVerifier("short")).toBe(false);
    expect(isValidCodeVerifier("a".repeat(129))).toBe(false);
  });

  it("makes 40-character alphanumeric states", () => {
    const states = Array.from({ length: 200 }, () => createState());
    for (const s of states) expect(s).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(new Set(states).size).toBe(200);
    // Every character of the alphabet shows up: the draw is not biased to a subset.
    expect(new Set(states.join("")).size).toBe(62);
  });
});
