import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { LineCollector } from "./inProcess.js";

export interface ChildRun {
  child: ChildProcessWithoutNullStreams;
  stdout: LineCollector;
  stderr: LineCollector;
  send(request: object | string): void;
  end(): void;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Parsed stderr log lines. */
  logs(): { level: string; message: string; fields: Record<string, unknown> }[];
  /** Resident set size of the process, in bytes (Linux). */
  rssBytes(): number;
}

/**
 * Spawns a connector the way Flow's runtime does for a local connector: argv directly, no shell,
 * LOG_LEVEL set. `readStdout: false` leaves stdout unread (a stalled reader) until resumeStdout().
 */
export function spawnConnector(argv: string[], options: { env?: Record<string, string>; cwd?: string; readStdout?: boolean } = {}): ChildRun & { resumeStdout(): void } {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout = new LineCollector();
  const stderr = new LineCollector();
  const resumeStdout = () => child.stdout.on("data", (c: Buffer) => stdout.push(c));
  if (options.readStdout !== false) resumeStdout();
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  child.stdin.on("error", () => {}); // the connector may exit before reading everything
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout,
    stderr,
    send: (request) => child.stdin.write((typeof request === "string" ? request : JSON.stringify(request)) + "\n"),
    end: () => child.stdin.end(),
    exit,
    logs: () => stderr.json as { level: string; message: string; fields: Record<string, unknown> }[],
    rssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return Number(kb) * 1024;
    },
    resumeStdout,
  };
}

/**
 * One exchange with a connector run in `cwd`: sends `requests`, closes stdin at once unless one
 * is an `open` (a session then ends by itself), and returns the answers and the last log line.
 */
export async function exchange(argv: string[], cwd: string, ...requests: object[]) {
  const run = spawnConnector(argv, { cwd });
  for (const r of requests) run.send(r);
  if (!requests.some((r) => "open" in r)) run.end();
  const { code } = await run.exit;
  run.end();
  return { code, out: run.stdout.json, last: run.logs().at(-1) };
}

/**
 * Samples a process's RSS `count` times, `intervalMs` apart, after waiting `settleMs`: for tests
 * that a stalled reader leaves a connector's memory bounded and flat.
 */
export async function sampleRss(run: Pick<ChildRun, "rssBytes">, { settleMs = 1000, count = 8, intervalMs = 250 } = {}): Promise<{ max: number; growth: number }> {
  await new Promise((r) => setTimeout(r, settleMs));
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(run.rssBytes());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return { max: Math.max(...samples), growth: samples.at(-1)! - samples[0]! };
}
