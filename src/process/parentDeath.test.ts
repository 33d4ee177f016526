import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startChild } from "./index.js";
import { commandExists, parentDeathWrapper, withParentDeathSignal } from "./parentDeath.js";

const python = (script: string) => ["python3", "-c", script];
/** Prints the child's parent-death signal (prctl PR_GET_PDEATHSIG), its argv, and exits 7 after a line on stderr. */
const PROBE = "import ctypes, sys\nsig = ctypes.c_int(0)\nctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)\nprint(sig.value)\nprint(' '.join(sys.argv[1:]))\nsys.stderr.write('bye\\n')\nsys.exit(7)";

async function run(argv: string[]) {
  const child = startChild({ argv });
  const lines: string[] = [];
  const outcome = await child.consume((line) => void lines.push(line.toString())).catch((e: unknown) => e as Error);
  return { lines, outcome, child };
}

describe.runIf(process.platform === "linux" && parentDeathWrapper() !== null)("the parent-death signal", () => {
  it("is set on every spawned child (SIGKILL, 9), which otherwise runs as it would have: its argv, its stderr, its exit code", async () => {
    const { lines, outcome, child } = await run([...python(PROBE), "--config", "a b.json"]);
    expect(lines).toEqual(["9", "--config a b.json"]);
    expect(outcome).toMatchObject({ code: "CHILD_FAILED", exitCode: 7, stderrTail: ["bye"] });
    expect((outcome as Error).message).toBe(`python3 -c ${PROBE} --config a b.json exited with code 7\nlast lines of its stderr:\nbye`);
    expect(child.pid).toBeGreaterThan(0);
  });

  it("never stands in the way of a missing program's error: it fails exactly as a bare spawn does", async () => {
    for (const argv of [["no-such-program-flowcap"], ["/nonexistent/source-binary", "spec"], ["./not-here.sh"]]) {
      expect(withParentDeathSignal(argv, process.env, process.cwd()).wrapped).toBe(false);
      const { outcome } = await run(argv);
      expect((outcome as Error).message).toBe(`${argv.join(" ")} could not be started: spawn ${argv[0]} ENOENT`);
    }
  });

  it("wraps a program found as spawn would find it: a bare name on the child's PATH, a path from its cwd", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flowcap-test-"));
    writeFileSync(path.join(dir, "tool"), "#!/bin/sh\n");
    writeFileSync(path.join(dir, "data"), "");
    chmodSync(path.join(dir, "tool"), 0o755);
    expect(commandExists("tool", dir, "/")).toBe(true);
    expect(commandExists("tool", "/usr/bin", "/")).toBe(false);
    expect(commandExists("./tool", undefined, dir)).toBe(true);
    expect(commandExists("./data", undefined, dir)).toBe(false); // not executable
    expect(commandExists(dir, undefined, "/")).toBe(false); // a directory
    expect(withParentDeathSignal(["tool", "x"], { PATH: dir }, "/")).toEqual({ command: parentDeathWrapper(), args: ["--pdeathsig", "KILL", "--", "tool", "x"], wrapped: true });
  });
});
