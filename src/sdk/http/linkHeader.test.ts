import { describe, expect, it } from "vitest";
import { findLink, parseLinkHeader } from "./linkHeader.js";

describe("parseLinkHeader", () => {
  it("reads GitHub's Link header", () => {
    const links = parseLinkHeader(
      '<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last"',
    );
    expect(links).toEqual([
      { url: "https://api.github.com/repositories/1/issues?page=2", rel: ["next"], params: {} },
      { url: "https://api.github.com/repositories/1/issues?page=5", rel: ["last"], params: {} },
    ]);
    expect(findLink(links, "NEXT")!.url).toMatch(/page=2$/);
  });

  it("handles quoted parameters with commas and semicolons, commas in URLs, several rels, and repeated headers", () => {
    const links = parseLinkHeader([
      '</items?ids=1,2,3&x=a;b>; rel="next  last"; title="a, \\"quoted\\"; title"; type=application/json',
      '<https://other.example/p>;rel=prev;rel=ignored, <https://x.example/q> ; REL = "Up"',
    ], "https://api.example.com/v1/list?page=1");
    expect(links).toEqual([
      { url: "https://api.example.com/items?ids=1,2,3&x=a;b", rel: ["next", "last"], params: { title: 'a, "quoted"; title', type: "application/json" } },
      { url: "https://other.example/p", rel: ["prev"], params: {} },
      { url: "https://x.example/q", rel: ["up"], params: {} },
    ]);
  });

  it("resolves relative URLs against the request's URL", () => {
    expect(parseLinkHeader('<?page=3>; rel="next"', "https://a.example/v1/items?page=2")[0]!.url).toBe("https://a.example/v1/items?page=3");
    expect(parseLinkHeader('<../other>; rel="next"', "https://a.example/v1/items/")[0]!.url).toBe("https://a.example/v1/other");
  });

  it("decodes RFC 8187 extended parameters", () => {
    expect(parseLinkHeader("<https://a.example/>; rel=next; title*=UTF-8'de'n%c3%a4chstes%20Kapitel; title=plain")[0]!.params).toEqual({ title: "nächstes Kapitel" });
  });

  it("skips what it cannot read and keeps the rest", () => {
    expect(parseLinkHeader('garbage, <https://a.example/2>; rel="next", <unterminated')).toEqual([{ url: "https://a.example/2", rel: ["next"], params: {} }]);
    expect(parseLinkHeader("")).toEqual([]);
    expect(parseLinkHeader(undefined)).toEqual([]);
  });
});
