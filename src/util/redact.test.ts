import { describe, expect, it } from "vitest";
import { collectSecrets, Redactor, REDACTED } from "./redact.js";

const schema = {
  type: "object",
  properties: {
    host: { type: "string" },
    password: { type: "string", secret: true },
    api_key: { type: "string", airbyte_secret: true },
    credentials: {
      oneOf: [
        { type: "object", properties: { credentials_title: { const: "Token" }, token: { type: "string", secret: true } } },
        { $ref: "#/$defs/OAuth" },
      ],
    },
    tunnel: { type: "object", properties: { keys: { type: "array", items: { type: "string", secret: true } } } },
    extra: { type: "object", additionalProperties: { type: "string", secret: true } },
  },
  $defs: {
    OAuth: {
      type: "object",
      properties: { client_id: { type: "string", secret: true }, client_secret: { type: "string", secret: true }, refresh_token: { type: "string", secret: true } },
    },
  },
};

describe("collectSecrets", () => {
  it("finds secret values through properties, oneOf, $ref, items and additionalProperties", () => {
    const config = {
      host: "db.example.com",
      password: "hunter2!",
      api_key: "ak_live_123",
      credentials: { credentials_title: "OAuth", client_id: "cid-1", client_secret: "cs-2", refresh_token: "rt-3" },
      tunnel: { keys: ["k1-private", "k2-private"] },
      extra: { x: "xtra-secret" },
    };
    expect(collectSecrets(schema, config).sort()).toEqual(
      ["hunter2!", "ak_live_123", "cid-1", "cs-2", "rt-3", "k1-private", "k2-private", "xtra-secret"].sort(),
    );
  });

  it("takes whole secret objects and numbers", () => {
    const s = { type: "object", properties: { sa: { type: "object", secret: true }, pin: { type: "integer", secret: true } } };
    expect(collectSecrets(s, { sa: { key: "-----BEGIN-----", id: "sa-id" }, pin: 123456 }).sort()).toEqual(["-----BEGIN-----", "123456", "sa-id"]);
  });

  it("survives recursive $refs and garbage schemas", () => {
    const recursive = { $ref: "#/$defs/n", $defs: { n: { type: "object", properties: { s: { secret: true }, next: { $ref: "#/$defs/n" } } } } };
    expect(collectSecrets(recursive, { s: "one1", next: { s: "two2", next: {} } }).sort()).toEqual(["one1", "two2"]);
    expect(collectSecrets(null, { a: 1 })).toEqual([]);
    expect(collectSecrets(true, "x")).toEqual([]);
  });
});

describe("Redactor", () => {
  it("replaces secrets inside strings, longest first, and their URL-encoded forms", () => {
    const r = new Redactor();
    r.add(["p@ss word/1", "p@ss"]);
    expect(r.redact("login p@ss word/1 failed")).toBe(`login ${REDACTED} failed`);
    expect(r.redact("GET /x?pw=p%40ss%20word%2F1")).toBe(`GET /x?pw=${REDACTED}`);
    expect(r.redact("p@ss alone")).toBe(`${REDACTED} alone`);
  });

  it("redacts very short secrets only where they are the whole value", () => {
    const r = new Redactor();
    r.add(["ab"]);
    expect(r.redact("ab")).toBe(REDACTED);
    expect(r.redact("about")).toBe("about");
  });
});
