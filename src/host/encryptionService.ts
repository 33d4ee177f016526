import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FlowcapError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { collectSecrets } from "../util/redact.js";

/** The `sops` stanza of a config this stand-in "encrypted". */
export const LOCAL_ENCRYPTION_MARK = "flowcap local stand-in for Flow's config encryption: values are held by the running flowcap";

const HANDLE = /^ENC\[flowcap-local,(\d+)\]$/;

/**
 * A local stand-in for Flow's config encryption service (config-encryption.estuary.dev), for
 * connectors that persist a changed config, a rotated OAuth refresh token say, by POSTing
 * `{config, schema}` to `ENCRYPTION_URL` and logging the answer as a `configUpdate` event. It
 * listens on 127.0.0.1 and answers the config with every value the schema marks secret replaced
 * by an opaque `ENC[flowcap-local,N]` handle, under a `sops` stanza, so the event's log line
 * carries no secret (as with the real service); `decrypt` gives the config back.
 */
export class LocalEncryptionService {
  private readonly values: string[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LocalEncryptionService> {
    const server = createServer();
    const service = new LocalEncryptionService(server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          body = undefined;
        }
        if (req.method !== "POST" || !isPlainObject(body) || !isPlainObject(body.config)) {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "POST {config, schema} as JSON" }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(service.encrypt(body.config, body.schema)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    server.unref();
    return service;
  }

  /** What to set `ENCRYPTION_URL` to. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/encrypt-config`;
  }

  /** The config with its secret values (by `schema`) replaced by handles. */
  encrypt(config: Record<string, unknown>, schema: unknown): Record<string, unknown> {
    const secrets = new Set(collectSecrets(schema, config));
    const seal = (value: unknown): unknown => {
      if (typeof value === "string" && secrets.has(value)) return `ENC[flowcap-local,${this.values.push(value) - 1}]`;
      if (Array.isArray(value)) return value.map(seal);
      if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, seal(v)]));
      return value;
    };
    return { ...(seal(config) as Record<string, unknown>), sops: { flowcap: LOCAL_ENCRYPTION_MARK } };
  }

  /** True for a config this stand-in encrypted. */
  static sealed(config: unknown): boolean {
    return isPlainObject(config) && isPlainObject(config.sops) && config.sops.flowcap === LOCAL_ENCRYPTION_MARK;
  }

  /** A config this stand-in encrypted, with its values back and the `sops` stanza gone. */
  decrypt(config: Record<string, unknown>): Record<string, unknown> {
    const open = (value: unknown): unknown => {
      if (typeof value === "string") {
        const m = HANDLE.exec(value);
        if (!m) return value;
        const plain = this.values[Number(m[1])];
        if (plain === undefined) throw new FlowcapError("CONFIG_INVALID", `configUpdate holds ${value}, which this preview's encryption service never issued`, { userFacing: true });
        return plain;
      }
      if (Array.isArray(value)) return value.map(open);
      if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, open(v)]));
      return value;
    };
    const { sops: _sops, ...rest } = config;
    return open(rest) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
