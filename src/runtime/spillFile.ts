import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

let opened = 0;

/**
 * Creates and opens a new temporary file only this process can read, then unlinks it. `wx+`
 * (O_EXCL) refuses a name that exists, so nothing planted at the name (a symlink) is ever
 * followed; the name need not be unguessable, only new.
 */
function openExclusive(): number {
  for (;;) {
    const file = path.join(tmpdir(), `flowcap-spool-${process.pid}-${Date.now().toString(36)}-${opened++}`);
    try {
      const fd = openSync(file, "wx+", 0o600);
      unlinkSync(file);
      return fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Spilled bytes are kept in pages of this size (at most a spool block's, so a page is read back into a block). */
export const SPILL_PAGE_BYTES = 16 * 1024;

/**
 * One temporary file shared by every spool of a process, for what does not fit their common
 * memory budget (see `SpoolBudget`). It is made of fixed-size pages: a spool spills into pages it
 * takes, reads them back when it is written out, and gives them back, and freed pages are reused,
 * so the file is as large as the most that was ever spilled at once, however long the process
 * runs. One file, not one per spool: a capture of a thousand bindings whose reader stalls must
 * not need a thousand file descriptors.
 *
 * The file is unlinked as soon as it is opened (it is only ever read through its descriptor, so
 * it cannot outlive the process) and opened only when something spills.
 */
export class SpillFile {
  private fd: number | undefined;
  private pages = 0;
  private readonly free: number[] = [];

  /** Pages the file holds (in use or free). */
  get pageCount(): number {
    return this.pages;
  }

  /** Takes a page (a freed one if any). */
  take(): number {
    if (this.fd === undefined) {
      this.fd = openExclusive();
    }
    return this.free.pop() ?? this.pages++;
  }

  /** Writes `bytes` at `offset` into page `page` (they must fit in it). */
  write(page: number, offset: number, bytes: Uint8Array): void {
    const at = page * SPILL_PAGE_BYTES + offset;
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd!, bytes, done, bytes.length - done, at + done);
  }

  /** Reads the first `length` bytes of page `page` into `into`. */
  read(page: number, into: Buffer, length: number): void {
    const at = page * SPILL_PAGE_BYTES;
    for (let done = 0; done < length; ) {
      const n = readSync(this.fd!, into, done, length - done, at + done);
      if (n <= 0) throw new Error(`spool file ended in page ${page}, at ${done} of ${length} bytes`);
      done += n;
    }
  }

  /** Gives pages back; once none is in use, the file is emptied. */
  release(pages: readonly number[]): void {
    for (const page of pages) this.free.push(page);
    if (this.fd !== undefined && this.free.length === this.pages) {
      ftruncateSync(this.fd, 0);
      this.pages = 0;
      this.free.length = 0;
    }
  }

  /** Closes the file (every page is then gone). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.pages = 0;
    this.free.length = 0;
  }
}
