/**
 * Private temporary directories for the files a child reads (configs, catalogs, state: secrets,
 * often). Each is made under this machine's temp dir as `flowcap-<pid>-<random>`, naming the
 * process that owns it, and removed once the child is done with it. A process that dies before
 * it can remove its directories (SIGKILL, a crash, the machine going down) leaves them behind
 * for at most one more start (SIGINT, SIGTERM and a normal exit remove them, `cleanupOnExit.ts`):
 * the first TempDir a later flowcap makes first removes every such
 * directory, of this user, whose owner no longer runs.
 */
import { lstatSync, rmSync } from "node:fs";
import { mkdtemp, open, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlowcapError } from "../util/errors.js";
import { cleanupOnExit } from "./cleanupOnExit.js";

/** The names of the directories TempDir makes: `flowcap-<owner pid>-<mkdtemp's 6 characters>`. */
const OWNED_NAME = /^flowcap-(\d+)-[A-Za-z0-9]{6}$/;

let swept: Promise<void> | undefined;

/**
 * A private temporary directory (mode 0700) for the files a child reads. Files are written as
 * `<name>.json` with mode 0600 (some sources load them with `require()`, which needs the
 * suffix); `remove()` deletes the directory and everything in it.
 */
export class TempDir {
  /** Removes the directory should flowcap exit, or die of SIGINT/SIGTERM, before remove(). */
  private readonly forget: () => void;

  private constructor(readonly path: string) {
    this.forget = cleanupOnExit(() => rmSync(path, { recursive: true, force: true }));
  }

  /** Makes a directory owned by this process, after removing those of owners that are gone (once per process). */
  static async create(): Promise<TempDir> {
    const root = tmpdir();
    await (swept ??= removeStaleTempDirs(root));
    return new TempDir(await mkdtemp(path.join(root, `flowcap-${process.pid}-`)));
  }

  /** Writes `value` as JSON to `<dir>/<name>.json` (mode 0600) and returns the file's path. */
  async writeJson(name: string, value: unknown): Promise<string> {
    return this.writeText(name, JSON.stringify(value));
  }

  /** Writes text that already is JSON to `<dir>/<name>.json` (mode 0600) and returns the path. */
  async writeText(name: string, json: string): Promise<string> {
    if (!/^[\w.-]+$/.test(name)) throw new FlowcapError("INTERNAL", `invalid temporary file name ${JSON.stringify(name)}`);
    const file = path.join(this.path, `${name}.json`);
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.writeFile(json, "utf8");
    } finally {
      await handle.close();
    }
    return file;
  }

  /** Reads a JSON file back (e.g. a config the child rewrote). */
  async readJson(name: string): Promise<unknown> {
    return JSON.parse(await readFile(path.join(this.path, `${name}.json`), "utf8"));
  }

  /** Removes the directory and its files. Never throws. */
  async remove(): Promise<void> {
    this.forget();
    await rm(this.path, { recursive: true, force: true }).catch(() => {});
  }
}

/** Runs `fn` with a fresh TempDir, and removes it afterwards whatever happens. */
export async function withTempDir<T>(fn: (dir: TempDir) => Promise<T>): Promise<T> {
  const dir = await TempDir.create();
  try {
    return await fn(dir);
  } finally {
    await dir.remove();
  }
}

/**
 * Removes the TempDir directories under `root` that belong to this user and whose owning
 * process no longer runs. A pid that now names another process keeps its directory until that
 * one ends too; never throws (a directory it cannot read or remove is left).
 */
export async function removeStaleTempDirs(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  const uid = process.getuid?.();
  await Promise.all(
    names.map(async (name) => {
      const owner = OWNED_NAME.exec(name)?.[1];
      if (owner === undefined || Number(owner) === process.pid || isRunning(Number(owner))) return;
      const dir = path.join(root, name);
      try {
        const stat = lstatSync(dir);
        if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) return;
      } catch {
        return;
      }
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }),
  );
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
