import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temp folder, `postgres` on 127.0.0.1 at
 * a free port with its socket in that folder, `wal_level=logical`, fsync off. Debian's package puts
 * the binaries in /usr/lib/postgresql/<version>/bin, off PATH. PostgreSQL refuses to run as root,
 * so under root (CI) both run as the `postgres` user (or `nobody`), which owns the folder.
 */
export interface PostgresCluster {
  host: string;
  port: number;
  /** The superuser, `postgres`, with password `postgres`. */
  superuser: { user: string; password: string };
  dir: string;
  /** A connected superuser client on `database` (default postgres); closed by stop(). */
  connect(database?: string, user?: string, password?: string): Promise<pg.Client>;
  /** Runs SQL as the superuser on `postgres`. */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

/** The directory of PostgreSQL's server binaries (the newest installed version), or undefined. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv && existsSync(path.join(fromEnv, "initdb"))) return fromEnv;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  try {
    return path.dirname(execFileSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The uid/gid to run PostgreSQL as: ourselves, unless we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((l) => l.split(":"));
  for (const name of ["postgres", "nobody"]) {
    const entry = passwd.find((f) => f[0] === name);
    if (entry) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as");
}

function run(bin: string, args: string[], as: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], ...(as ?? {}), env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} exited ${code}: ${output}`))));
  });
}

export interface StartOptions {
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number>;
  /** Also accept TLS (`ssl = on`), with a self-signed certificate made for this cluster. */
  tls?: boolean;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (no initdb): apt-get install -y postgresql");
  const as = runAs();
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-pg-"));
  const data = path.join(dir, "data");
  const pwfile = path.join(dir, "pw");
  writeFileSync(pwfile, "postgres\n");
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(pwfile, as.uid, as.gid);
  }
  await run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], as);
  const port = await freePort();
  const tls: Record<string, string> = {};
  if (options.tls) {
    const cert = path.join(dir, "server.crt");
    const key = path.join(dir, "server.key");
    await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert], undefined);
    if (as) for (const file of [cert, key]) chownSync(file, as.uid, as.gid);
    chmodSync(key, 0o600); // PostgreSQL refuses a key others may read
    Object.assign(tls, { ssl: "on", ssl_cert_file: `'${cert}'`, ssl_key_file: `'${key}'` });
  }
  const settings: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: `'${dir}'`,
    wal_level: "logical",
    max_replication_slots: 20,
    max_wal_senders: 20,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    shared_buffers: "'64MB'",
    log_min_messages: "warning",
    timezone: "'UTC'",
    ...tls,
    ...options.settings,
  };
  writeFileSync(path.join(data, "postgresql.auto.conf"), Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n");
  if (as) chownSync(path.join(data, "postgresql.auto.conf"), as.uid, as.gid);

  let log = "";
  const server: ChildProcess = spawn(path.join(bin, "postgres"), ["-D", data], { stdio: ["ignore", "pipe", "pipe"], ...(as ?? {}), env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  server.stdout!.on("data", (c: Buffer) => (log += c));
  server.stderr!.on("data", (c: Buffer) => (log = (log + c).slice(-20_000)));
  const exited = new Promise<void>((resolve) => server.on("close", () => resolve()));

  const clients: pg.Client[] = [];
  const host = "127.0.0.1";
  const superuser = { user: "postgres", password: "postgres" };
  const connect = async (database = "postgres", user = superuser.user, password = superuser.password) => {
    const client = new pg.Client({ host, port, user, password, database });
    await client.connect();
    client.on("error", () => {});
    clients.push(client);
    return client;
  };

  // Wait until it accepts connections (an event, not a guess: retry on refusal, fail on exit).
  let admin: pg.Client | undefined;
  let dead = false;
  void exited.then(() => (dead = true));
  for (let attempt = 0; !admin; attempt++) {
    if (dead) throw new Error(`postgres exited during startup: ${log}`);
    try {
      admin = await connect();
    } catch (error) {
      if (attempt > 600) throw new Error(`postgres did not accept connections: ${String(error)}\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    host,
    port,
    superuser,
    dir,
    connect,
    async sql(text, values) {
      return (await admin!.query(text, values)).rows;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      server.kill("SIGINT"); // fast shutdown
      const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
