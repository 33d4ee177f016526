import { describe, expect, it } from "vitest";
import { stateKey } from "./stateKey.js";

describe("stateKey", () => {
  // The vectors of Flow's `assemble::encode_state_key` tests (flow-protocol.md §5.5).
  it.each([
    [["table"], 0, "table"],
    [["public", "table"], 0, "public%2Ftable"],
    [["public", "table"], 1, "public%2Ftable.v1"],
    [["he!lo৬", "a/part%", "_¾the-=res+."], 3, "he%21lo৬%2Fa%2Fpart%25%2F_¾the-=res+..v3"],
    [
      ["prefix", "http://user:password@foo.bar.example.com:9000/hooks///baz?type=critical&test=true"],
      42,
      "prefix%2Fhttp%3A%2F%2Fuser%3Apassword%40foo.bar.example.com%3A9000%2Fhooks%2F%2F%2Fbaz%3Ftype=critical%26test=true.v42",
    ],
  ])("encodes %j with backfill %i as Flow does", (path, backfill, expected) => {
    expect(stateKey(path, backfill)).toBe(expected);
  });

  it("percent-encodes multi-byte characters that are not letters or digits as upper-case UTF-8", () => {
    expect(stateKey(["a b", "€", "😀"])).toBe("a%20b%2F%E2%82%AC%2F%F0%9F%98%80");
  });

  it("reproduces the stateKey of Flow's open-request golden from the path it encodes", () => {
    // The golden's binding carries stateKey "a%2Fcdc%2Ftable+baz.v3" (with a synthetic resourcePath).
    expect(stateKey(["a", "cdc", "table+baz"], 3)).toBe("a%2Fcdc%2Ftable+baz.v3");
  });
});
