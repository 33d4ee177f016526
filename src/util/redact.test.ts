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

  it("catches a secret URL-encoded every way URLs and forms encode it (%20 and +, either hex case)", () => {
    const r = new Redactor();
    r.add(["my pass/wörd!"]);
    const encodings = [
      encodeURIComponent("my pass/wörd!"), // my%20pass%2Fw%C3%B6rd!
      new URLSearchParams({ p: "my pass/wörd!" }).toString().slice(2), // my+pass%2Fw%C3%B6rd%21
      "my%20pass%2fw%c3%b6rd%21", // lower-case hex, RFC 3986
      "my+pass%2Fw%C3%B6rd!",
    ];
    for (const encoded of encodings) expect(r.redact(`GET /login?u=a&p=${encoded}&next=1`), encoded).toBe(`GET /login?u=a&p=${REDACTED}&next=1`);
  });

  it("catches a secret in base64 and base64url at any alignment, so HTTP Basic credentials are caught whatever the client id", () => {
    const r = new Redactor();
    r.add(["s3cr3t-client-secret~?>"]);
    for (const clientId of ["id", "a-longer-client-id", "x"]) {
      const basic = Buffer.from(`${clientId}:s3cr3t-client-secret~?>`).toString("base64");
      const out = r.redact(`401 Unauthorized: {"error":"invalid_client","header":"Basic ${basic}"}`);
      expect(out, clientId).toContain(REDACTED);
      // What is left of the encoding after the client id's part holds at most a few bits of the secret's ends.
      const encoded = out.slice(out.indexOf("Basic ") + 6, out.indexOf('"}'));
      const before = encoded.slice(0, encoded.indexOf(REDACTED));
      const after = encoded.slice(encoded.indexOf(REDACTED) + REDACTED.length);
      expect(Buffer.from(`${clientId}:`).toString("base64").startsWith(before.slice(0, -2)), encoded).toBe(true);
      expect(after.replace(/=+$/, "").length, encoded).toBeLessThanOrEqual(2);
    }
    const url = Buffer.from("s3cr3t-client-secret~?>").toString("base64url");
    expect(r.redact(`token=${url}`)).toMatch(/^token=\[redacted\].?$/); // the last character mixes in what follows
  });

  it("catches numeric secrets, and secrets written inside JSON strings", () => {
    const r = new Redactor();
    r.add([918273, 'quote"and\\back']);
    expect(r.redact("pin 918273 refused")).toBe(`pin ${REDACTED} refused`);
    expect(r.redact(JSON.stringify({ password: 'quote"and\\back' }))).toBe(`{"password":"${REDACTED}"}`);
  });

  it("redacts very short secrets only where they are the whole value", () => {
    const r = new Redactor();
    r.add(["ab"]);
    expect(r.redact("ab")).toBe(REDACTED);
    expect(r.redact("about")).toBe("about");
  });
});
