import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** What a connector wrote and how much memory it held, read through a stall. */
export interface StalledRun {
  code: number | null;
  /** The largest resident set the process ever had (Linux's VmHWM), in bytes, as last sampled. */
  peakRssBytes: number;
  /** Resident set samples, in bytes, every `sampleMs`, during the stall and after. */
  samples: number[];
  /** `captured` lines per binding index. */
  capturedByBinding: Map<number, number>;
  checkpoints: number;
  /** The last `captured` line. */
  lastCaptured: string | undefined;
  stderr: string;
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0);
  } catch {
    return 0; // exited between samples
  }
}

const CAPTURED = '{"captured":{';
const BINDING = /^\{"captured":\{"binding":(\d+),/;

/**
 * Runs a connector as Flow would (argv, no shell), sends `requests` (stdin stays open: the
 * session ends by itself), leaves its stdout unread for `stallMs` (Flow's reader stalled), then
 * reads it at full speed to the end. Samples its resident set throughout (VmRSS and the kernel's
 * own high-water mark, VmHWM, which catches peaks between samples) and counts what it wrote,
 * without keeping the lines (a million of them would weigh on this process, not the connector).
 * With `endAfterCaptured`, stdin is closed once that many documents have been read (for a
 * connector that captures for ever, as Flow stops one).
 */
export function runThroughStall(argv: string[], requests: object[], options: { stallMs: number; env?: Record<string, string>; sampleMs?: number; endAfterCaptured?: number }): Promise<StalledRun> {
  const sampleMs = options.sampleMs ?? 100;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    const samples: number[] = [];
    let peakKb = 0;
    const sample = () => {
      const rss = statusKb(child.pid!, "VmRSS");
      if (rss > 0) samples.push(rss * 1024);
      peakKb = Math.max(peakKb, statusKb(child.pid!, "VmHWM"));
    };
    const sampler = setInterval(sample, sampleMs);
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    child.stdin.on("error", () => {});
    child.stdin.write(requests.map((r) => JSON.stringify(r) + "\n").join(""));
    const capturedByBinding = new Map<number, number>();
    let checkpoints = 0;
    let captured = 0;
    let lastCaptured: string | undefined;
    let partial = "";
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith(CAPTURED)) {
            const binding = Number(BINDING.exec(line)?.[1] ?? 0);
            capturedByBinding.set(binding, (capturedByBinding.get(binding) ?? 0) + 1);
            lastCaptured = line;
            if (++captured === options.endAfterCaptured) child.stdin.end();
          } else if (line.startsWith('{"checkpoint"')) checkpoints++;
        }
      });
      child.stdout.resume();
    }, options.stallMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(sampler);
      child.stdin.destroy();
      resolve({ code, peakRssBytes: peakKb * 1024, samples, capturedByBinding, checkpoints, lastCaptured, stderr });
    });
  });
}
