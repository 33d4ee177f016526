import { describe, expect, it } from "vitest";
import { discardRest, killProcessGroup } from "./checkSession.js";
import { ConnectorProcess } from "./connectorProcess.js";

const start = (script: string) => ConnectorProcess.start({ kind: "local", command: ["sh", "-c", script], cwd: process.cwd(), env: {} } as never);

describe("killing a connector as a crash does", () => {
  it("kills every process of its group, so nothing it started holds its stdout", async () => {
    // The backgrounded sleep inherits stdout: were it left alive, stdout would stay open 60 s.
    const proc = start("sleep 60 & echo started; sleep 60");
    await new Promise((r) => proc.child.stdout!.once("data", r));
    killProcessGroup(proc);
    const started = Date.now();
    await discardRest(proc, 20_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await proc.exited).signal).toBe("SIGKILL");
  });

  it("reports a partial last line (the kill cut a write short), never as a line", async () => {
    // No request was sent, so any whole line would be a protocol violation: only half a line.
    const proc = start("printf '{\"checkpoint\":{\"state\":'; sleep 60");
    await new Promise((r) => proc.child.stdout!.once("data", r));
    killProcessGroup(proc);
    expect(await discardRest(proc, 20_000)).toBe(true);
  });

  it("fails when a process outside its group keeps its stdout open after the kill", async () => {
    // setsid puts the sleep in a session of its own, out of reach of the group kill; it says
    // "ready" (half a line, no violation) once there.
    const proc = start("setsid sh -c 'printf ready; exec sleep 4' & sleep 60");
    await new Promise((r) => proc.child.stdout!.once("data", r));
    killProcessGroup(proc);
    await expect(discardRest(proc, 500)).rejects.toThrow(/its stdout was still open 0.5s after its process group was killed: a process it started outside its group/);
  });
});
