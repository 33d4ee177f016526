import type { Writable } from "node:stream";
import { isUserFacing } from "../util/errors.js";

/**
 * The CLI's output to people and pipes. Writes wait for 'drain' (a preview piped into a slow
 * reader slows the capture down rather than buffering it), and a closed pipe (`| head`) is
 * reported through `closed` instead of crashing with EPIPE.
 */
export class Output {
  private broken = false;
  readonly closed: Promise<void>;
  /** Called before each line is written (to clear a status line drawn on the same terminal). */
  beforeWrite: (() => void) | undefined;

  constructor(readonly stream: Writable = process.stdout) {
    this.closed = new Promise((resolve) => {
      stream.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
          this.broken = true;
          resolve();
        } else throw error;
      });
    });
  }

  get isBroken(): boolean {
    return this.broken;
  }

  async line(text: string): Promise<void> {
    if (this.broken) return;
    this.beforeWrite?.();
    if (!this.stream.write(text + "\n")) {
      await Promise.race([new Promise((r) => this.stream.once("drain", r)), this.closed]);
    }
  }
}

/** Prints an error for a person: the message alone for user mistakes, with the stack for bugs. */
export function printError(error: unknown, stderr: Writable = process.stderr): void {
  if (isUserFacing(error)) stderr.write(`flowcap: ${(error as Error).message}\n`);
  else if (error instanceof Error) stderr.write(`flowcap: ${error.message}\n${error.stack ?? ""}\n`);
  else stderr.write(`flowcap: ${String(error)}\n`);
}
