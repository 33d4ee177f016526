import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./fixtures.js";

export interface DockerInstruction {
  op: string;
  args: string;
}

/** The repository's Dockerfile: its instructions (continuation lines joined, comments dropped), and by stage. */
export function dockerfile() {
  const text = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const instructions: DockerInstruction[] = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
  const stages: { from: string; name: string; body: DockerInstruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") {
      const m = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ from: `${m[1] ?? ""} ${m[2]}`.trim(), name: m[3] ?? "", body: [] });
    } else stages.at(-1)?.body.push(ins);
  }
  return { text, instructions, stages };
}

/** The runtime stage's labels, as name → value. */
export function dockerLabels(): Record<string, string> {
  const runtime = dockerfile().stages.at(-1)!;
  return Object.fromEntries(
    runtime.body
      .filter((i) => i.op === "LABEL")
      .map((i) => {
        const at = i.args.indexOf("=");
        return [i.args.slice(0, at), i.args.slice(at + 1)];
      }),
  );
}
