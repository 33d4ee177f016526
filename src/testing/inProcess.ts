import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import type { ConnectorChild, ConnectorLauncher } from "../host/index.js";
import { serve, type Connector } from "../runtime/index.js";

/**
 * Runs `connector` in this process wherever the host would spawn a command: serve() over
 * in-memory pipes, so a test gets the same protocol checks, state folding and transactions as a
 * spawned connector, without a build or a process. SIGTERM closes its stdin (a graceful stop);
 * SIGKILL cuts its pipes at once, so nothing it writes afterwards is read.
 */
export function inProcessLauncher(connector: Connector, options: { gracefulStopMs?: number } = {}): ConnectorLauncher {
  return (_endpoint, env) => new InProcessConnector(connector, env, options.gracefulStopMs);
}

let nextPid = 1;

class InProcessConnector extends EventEmitter implements ConnectorChild {
  readonly pid = -nextPid++;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private ended = false;

  constructor(connector: Connector, env: Record<string, string>, gracefulStopMs?: number) {
    super();
    // Writes after the end (a connector still winding down after SIGKILL) go nowhere.
    this.stdout.on("error", () => {});
    this.stderr.on("error", () => {});
    serve(connector, {
      stdin: this.stdin,
      stdout: this.stdout,
      stderr: this.stderr,
      env,
      exit: false,
      handleSignals: false,
      routeConsole: false,
      ...(gracefulStopMs !== undefined ? { gracefulStopMs } : {}),
    }).then(
      (code) => this.end(code, null),
      (error: unknown) => {
        this.stderr.write(JSON.stringify({ level: "error", message: String(error) }) + "\n");
        this.end(1, null);
      },
    );
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.ended) return false;
    if (signal === "SIGKILL") {
      this.end(null, "SIGKILL");
      this.stdin.destroy();
    } else {
      this.stdin.end();
    }
    return true;
  }

  private end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.stdout.end();
    this.stderr.end();
    // A child process's 'close' follows the end of its pipes.
    setImmediate(() => this.emit("close", code, signal));
  }
}
