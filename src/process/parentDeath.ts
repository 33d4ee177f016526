/**
 * A child dies with flowcap, however flowcap ends: on Linux each child is started through
 * util-linux's `setpriv --pdeathsig KILL -- <command>`, which asks the kernel (prctl
 * PR_SET_PDEATHSIG) to SIGKILL it when flowcap dies, SIGKILL included, and then execs the
 * command in place (same pid, argv, environment, exit status). It works for any program
 * (Python, a shell script, a JVM) without its cooperation. It costs one exec at spawn; the
 * record path never sees it.
 *
 * The wrapper is used only for a command that is certainly there and executable (the same
 * lookup `spawn` does, on the child's PATH and from its cwd): otherwise the command is spawned
 * directly, so a missing program fails exactly as it always did (`spawn <cmd> ENOENT`), never
 * with a setpriv error.
 *
 * Limits: the signal reaches the child flowcap started, not what that child starts in turn (a
 * shell script's own children); and where setpriv is missing or lacks `--pdeathsig` (not Linux,
 * busybox), children are only stopped when flowcap exits normally or on SIGINT/SIGTERM
 * (`cleanupOnExit.ts`).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

/** Where a setpriv that supports `--pdeathsig` is (undefined until looked for, null when there is none). */
let setpriv: string | null | undefined;

/**
 * The absolute path of a setpriv that supports `--pdeathsig`, looked for once per process (a
 * probe that runs it), or null where there is none. `FLOWCAP_PDEATHSIG=0` turns it off.
 */
export function parentDeathWrapper(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== "linux" || process.env.FLOWCAP_PDEATHSIG === "0") return null;
  for (const dir of ["/usr/bin", "/bin", ...(process.env.PATH ?? "").split(path.delimiter).filter((d) => path.isAbsolute(d))]) {
    const candidate = path.join(dir, "setpriv");
    if (!isExecutableFile(candidate)) continue;
    // A setpriv without --pdeathsig (util-linux before 2.33, busybox) fails this probe.
    const probe = spawnSync(candidate, ["--pdeathsig", "KILL", "--", candidate, "--version"], { stdio: "ignore", timeout: 10_000 });
    if (probe.status === 0) setpriv = candidate;
    break;
  }
  return setpriv;
}

/** Why a child runs without a parent-death signal, for a debug log; undefined when it has one. */
export function parentDeathUnavailable(): string | undefined {
  return parentDeathWrapper() === null ? "no setpriv with --pdeathsig here: a child outlives flowcap if flowcap is killed with SIGKILL" : undefined;
}

/**
 * The command and arguments to spawn so that the child dies with this process: `argv` behind
 * setpriv where it can be, `argv` itself otherwise (no setpriv, or a command that is not there,
 * whose spawn must fail as it always has).
 */
export function withParentDeathSignal(argv: readonly string[], env: Record<string, string | undefined>, cwd: string | undefined): { command: string; args: string[]; wrapped: boolean } {
  const [command, ...args] = argv as [string, ...string[]];
  const wrapper = parentDeathWrapper();
  if (wrapper === null || !commandExists(command, env.PATH, cwd ?? process.cwd())) return { command, args, wrapped: false };
  return { command: wrapper, args: ["--pdeathsig", "KILL", "--", command, ...args], wrapped: true };
}

/** True when `command` names an executable file, looked up as execvp does: a path as is (from `cwd`), a bare name on `PATH`. */
export function commandExists(command: string, pathVariable: string | undefined, cwd: string): boolean {
  if (command.includes("/")) return isExecutableFile(path.resolve(cwd, command));
  const dirs = (pathVariable ?? "/usr/bin:/bin").split(path.delimiter);
  return dirs.some((dir) => isExecutableFile(path.resolve(cwd, dir, command)));
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
