import { describe, expect, it } from "vitest";
import { ChildProcessError } from "../process/index.js";
import { ConnectorProcess } from "./connectorProcess.js";

const start = (command: string[]) => ConnectorProcess.start({ kind: "local", command, cwd: process.cwd(), env: {} } as never);

describe("a connector that fails", () => {
  it("to start: the one ChildProcessError, saying which program is missing and where it was looked for", async () => {
    const proc = start(["no-such-connector-flowcap", "--flag"]);
    const error = await proc.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    expect(error).toMatchObject({ code: "CHILD_FAILED", userFacing: true, command: "connector" });
    expect((error as Error).message).toBe(`cannot start the connector: no-such-connector-flowcap was not found (command: ["no-such-connector-flowcap","--flag"], in ${process.cwd()})`);
  });

  it("by exiting non-zero: the one ChildProcessError, led by its last log as Flow reports it, with its stderr tail", async () => {
    const proc = start(["sh", "-c", `echo '{"level":"info","message":"starting"}' >&2; echo '{"level":"error","message":"the API refused the token"}' >&2; exit 3`]);
    expect(await proc.next()).toBeUndefined();
    const error = await proc.finish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildProcessError);
    expect(error).toMatchObject({ code: "CHILD_FAILED", exitCode: 3, signal: null, detail: "the API refused the token" });
    expect((error as Error).message).toBe("connector exited with status 3: the API refused the token");
    expect((error as ChildProcessError).stderrTail).toHaveLength(2);
  });
});
