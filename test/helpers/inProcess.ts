import { PassThrough, Writable } from "node:stream";
import { serve, type Connector, type ServeOptions } from "../../src/runtime/index.js";

/** Lines written to a stream, as they arrive. */
export class LineCollector {
  readonly lines: string[] = [];
  private partial = "";
  private waiters: (() => void)[] = [];

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split("\n");
    this.partial = parts.pop()!;
    this.lines.push(...parts);
    for (const w of this.waiters.splice(0)) w();
  }

  /** The JSON values of the complete lines so far. */
  get json(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Text not yet terminated by a newline (must be empty at the end: no partial messages). */
  get unterminated(): string {
    return this.partial;
  }

  /** Waits until `predicate` holds for the lines so far. */
  async until(predicate: (lines: string[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.lines)) {
      if (Date.now() > deadline) throw new Error(`timed out; lines so far:\n${this.lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

export interface InProcessRun {
  stdin: PassThrough;
  stdout: LineCollector;
  stderr: LineCollector;
  /** Writes a request line (objects are JSON-encoded). */
  send(request: object | string): void;
  /** Closes stdin. */
  end(): void;
  /** The exit code serve() resolved to. */
  exitCode: Promise<number>;
  /** The stderr log lines, parsed. */
  logs(): { level: string; message: string; fields: Record<string, unknown> }[];
}

/** Runs serve() on in-memory streams. */
export function serveInProcess(connector: Connector, options: Partial<ServeOptions> & { stdoutStream?: Writable } = {}): InProcessRun {
  const stdin = new PassThrough();
  const stdout = new LineCollector();
  const stderr = new LineCollector();
  const stdoutStream = options.stdoutStream ?? new Writable({ write: (chunk, _enc, cb) => (stdout.push(chunk as Buffer), cb()) });
  const stderrStream = new Writable({ write: (chunk, _enc, cb) => (stderr.push(chunk as Buffer), cb()) });
  const exitCode = serve(connector, {
    env: { LOG_LEVEL: "debug" },
    gracefulStopMs: 2000,
    ...options,
    stdin,
    stdout: stdoutStream,
    stderr: stderrStream,
  });
  return {
    stdin,
    stdout,
    stderr,
    send: (request) => stdin.write((typeof request === "string" ? request : JSON.stringify(request)) + "\n"),
    end: () => stdin.end(),
    exitCode,
    logs: () => stderr.json as { level: string; message: string; fields: Record<string, unknown> }[],
  };
}

/** A minimal open request for `bindings` resource names. */
export function openRequest(config: Record<string, unknown>, names: string[], state: Record<string, unknown> = {}) {
  return {
    open: {
      capture: {
        name: "acmeCo/test",
        connectorType: "LOCAL",
        config,
        bindings: names.map((name) => ({
          resourceConfig: { name },
          resourcePath: [name],
          collection: { name: `acmeCo/${name}`, key: ["/id"], writeSchema: { type: "object" } },
          stateKey: name,
        })),
      },
      version: "test",
      range: { keyEnd: 4294967295, rClockEnd: 4294967295 },
      state,
    },
  };
}
