import pg from "pg";
import { FlowcapError } from "flowcap";
import type { Config } from "../models.js";
import { tapCopyData } from "./copyTap.js";

/**
 * Connections to the database, as Estuary's connector makes them (`main.go` `connect`):
 * `application_name=estuary_flow`, TCP keepalives, the statement timeout, no parallel workers.
 * Sessions also fix the output styles that value parsing relies on (ISO dates, `postgres`
 * intervals, hex bytea, shortest exact floats); the time zone stays the server's, as Estuary's.
 */
const SESSION_OPTIONS = ["DateStyle=ISO,MDY", "IntervalStyle=postgres", "bytea_output=hex", "extra_float_digits=1"];

export interface ConnectOptions {
  /** A `replication=database` connection, for the replication protocol. */
  replication?: boolean;
  /** False: no tap on the socket (`copyTap.ts`), so COPY rows take pg's own path (tests compare both). */
  copyTap?: boolean;
}

function sslOption(mode: Config["sslmode"]): pg.ClientConfig["ssl"] {
  switch (mode) {
    case "disable":
      return false;
    case "verify-ca":
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case "verify-full":
      return { rejectUnauthorized: true };
    default:
      return { rejectUnauthorized: false };
  }
}

function clientConfig(config: Config, ssl: pg.ClientConfig["ssl"], options: ConnectOptions): pg.ClientConfig {
  const settings = [...SESSION_OPTIONS];
  if (!options.replication) settings.push(`statement_timeout=${config.statementTimeoutMs}`, "max_parallel_workers_per_gather=0");
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    application_name: "estuary_flow",
    keepAlive: true,
    keepAliveInitialDelayMillis: 120_000,
    connectionTimeoutMillis: options.replication ? 30_000 : 20_000,
    ssl,
    options: settings.map((s) => `-c ${s}`).join(" "),
    ...(options.replication ? { replication: "database" } : {}),
  };
}

/** Maps connection failures that are the user's to clear messages (Estuary's error codes). */
function connectError(error: unknown, config: Config): FlowcapError {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  const user = (text: string) => new FlowcapError("CONFIG_INVALID", text, { userFacing: true, cause: error });
  switch (code) {
    case "28P01":
      return user("incorrect username or password");
    case "28000":
      return user(`user ${JSON.stringify(config.user)} is not allowed to connect: ${message}`);
    case "3D000":
      return user(`database ${JSON.stringify(config.database)} does not exist`);
    case "42501":
      return user(`user ${JSON.stringify(config.user)} does not have CONNECT privilege to database ${JSON.stringify(config.database)}`);
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
      return user(`unable to connect to database at ${config.address}: ${message}`);
  }
  return new FlowcapError("CAPTURE_FAILED", `unable to connect to database at ${config.address}: ${message}`, { cause: error });
}

/**
 * Servers (`host:port`) that answered this process's TLS request with "no": later `prefer` and
 * `allow` connections to them go straight to plain TCP. libpq asks on every connection but goes
 * on in plain TCP on the same one; pg ends the connection instead, so asking again would cost a
 * whole second connection each time (a server process started and stopped: about a third of a
 * connection's time here, BENCHMARKS.md).
 */
const refusedTls = new Set<string>();

/**
 * Connects. `sslmode` unset or `prefer`/`allow` tries TLS first and falls back to plain TCP when
 * the server does not offer it, as libpq does.
 */
export async function connect(config: Config, options: ConnectOptions = {}): Promise<pg.Client> {
  const mode = config.sslmode ?? "prefer";
  const server = `${config.host}:${config.port}`;
  const attempts: pg.ClientConfig["ssl"][] = mode === "prefer" || mode === "allow" ? (refusedTls.has(server) ? [false] : [sslOption("require"), false]) : [sslOption(mode)];
  let lastError: unknown;
  for (const ssl of attempts) {
    const client = new pg.Client(clientConfig(config, ssl, options));
    // An error after connecting (the server went away) surfaces on the next query; keep the
    // process alive until then rather than crash on an unhandled 'error' event.
    client.on("error", () => {});
    // Not on a replication connection: its CopyBoth stream is pg's to read, and sharing the tap's
    // code with it would have V8 optimize the tap for that traffic, then for COPY's again.
    if (options.copyTap !== false && !options.replication) tapCopyData(client);
    try {
      await client.connect();
      return client;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => {});
      if (!/does not support SSL/i.test(String((error as Error).message))) break;
      refusedTls.add(server);
    }
  }
  throw connectError(lastError, config);
}

/** Double-quotes an identifier, doubling any quote inside (as Estuary's quoteColumnName). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"`. */
export function quoteTable(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}
