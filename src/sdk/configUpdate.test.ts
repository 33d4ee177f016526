import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../runtime/index.js";
import { LineCollector } from "../../test/helpers/inProcess.js";
import { emitConfigUpdate, encryptConfig, sortKeys } from "./configUpdate.js";

/** A stand-in for Estuary's encryption service on 127.0.0.1: "encrypts" secret-marked strings. */
let url = "";
const received: unknown[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    received.push(JSON.parse(body));
    if (req.url === "/fail") {
      res.writeHead(500).end("boom");
      return;
    }
    const { config } = JSON.parse(body) as { config: Record<string, unknown> };
    const enc = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, k === "token" ? `ENC[AES256_GCM,data:${Buffer.from(String(v)).toString("base64")}]` : v]));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...enc, sops: { mac: "m" } }));
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const schema = { type: "object", properties: { token: { type: "string", secret: true }, b: { type: "object" } } };

describe("config updates", () => {
  it("sorts keys recursively, as Flow does", () => {
    expect(JSON.stringify(sortKeys({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } }))).toBe('{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it("POSTs {config, schema} with sorted keys and returns the encrypted config", async () => {
    const encrypted = await encryptConfig({ token: "new-refresh-token", b: { y: 1, x: 2 } }, schema, { env: { ENCRYPTION_URL: url } });
    expect(encrypted.token).toMatch(/^ENC\[AES256_GCM/);
    expect(JSON.stringify(received.at(-1))).toBe(JSON.stringify({ config: { b: { x: 2, y: 1 }, token: "new-refresh-token" }, schema }));
  });

  it("emits a configUpdate event carrying the encrypted config, and never the new secret", async () => {
    const stream = new PassThrough();
    const lines = new LineCollector();
    stream.on("data", (c: Buffer) => lines.push(c));
    const log = createLogger({ stream });
    await emitConfigUpdate(log, "Rotating OAuth2 tokens", { token: "rotated-secret-42" }, schema, { encryptionUrl: url });
    log.info("now using rotated-secret-42");
    const [event, after] = lines.json as { message: string; fields: { eventType: string; config: { token: string } } }[];
    expect(event!.message).toBe("Rotating OAuth2 tokens");
    expect(event!.fields.eventType).toBe("configUpdate");
    expect(event!.fields.config.token).toMatch(/^ENC\[/);
    expect(after!.message).toBe("now using [redacted]");
  });

  it("fails clearly when the service refuses", async () => {
    await expect(encryptConfig({}, schema, { encryptionUrl: `${url}/fail` })).rejects.toThrow(/answered HTTP 500: boom/);
  });
});
