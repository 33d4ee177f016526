import { runChecks, type CheckResult, type ConformanceCheck } from "../../host/index.js";
import { lintOAuth } from "../../oauth/index.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";

const MARK: Record<CheckResult["status"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

/** The results as a table for people. */
export function resultsTable(results: CheckResult[]): string {
  const idWidth = Math.max(5, ...results.map((r) => r.id.length));
  const lines = [`${"check".padEnd(idWidth)}  result  detail`, `${"-".repeat(idWidth)}  ------  ------`];
  for (const r of results) {
    const [first, ...rest] = r.detail.split("\n");
    lines.push(`${r.id.padEnd(idWidth)}  ${MARK[r.status].padEnd(6)}  ${r.title}: ${first}`);
    for (const more of rest) lines.push(`${" ".repeat(idWidth + 10)}${more}`);
  }
  const count = (s: CheckResult["status"]) => results.filter((r) => r.status === s).length;
  lines.push("", `${count("pass")} passed, ${count("fail")} failed, ${count("warn")} warned, ${count("skip")} skipped`);
  return lines.join("\n");
}

/**
 * `flowcap oauth lint` as a check: the spec's oauth2 block and credentials schema, judged as the
 * Flow host will use them. (The host library may not import oauth, so the CLI adds it here.)
 */
export const oauthCheck: ConformanceCheck = {
  id: "oauth",
  title: "its oauth2 block and credentials schema lint clean",
  async run(ctx) {
    if (!ctx.spec) return { status: "skip", detail: "needs the spec check to pass" };
    const findings = lintOAuth(ctx.spec);
    if (!ctx.spec.oauth2 && findings.length === 0) return { status: "skip", detail: "the spec has no oauth2 block" };
    const errors = findings.filter((f) => f.severity === "error");
    const lines = findings.map((f) => `${f.severity} [${f.rule}] ${f.path}: ${f.message}${f.waiver ? ` (waived: ${f.waiver.reason})` : ""}`);
    if (errors.length) return { status: "fail", detail: `${errors.length} error(s):\n${lines.join("\n")}` };
    const warnings = findings.filter((f) => f.severity === "warning");
    if (warnings.length) return { status: "warn", detail: `${warnings.length} warning(s):\n${lines.join("\n")}` };
    return `${ctx.spec.oauth2!.provider}: clean${findings.length ? ` (${findings.length} waived by the spec:\n${lines.join("\n")})` : ""}`;
  },
};

const command = defineCommand(
  {
    name: "check",
    summary: "run the protocol conformance suite against a capture's connector (any language)",
    usage: "flowcap check --source <flow.yaml> [--capture <name>] [--only id,id] [--snapshot-collections name,name] [--json]",
    options: {
      ...catalogOptions,
      only: { type: "string", value: "<ids>", description: "run only these checks (comma-separated ids)" },
      json: { type: "boolean", description: "print the results as one JSON line each" },
      "session-timeout": { type: "string", value: "<seconds>", description: "how long a session may take to checkpoint", default: "30" },
      "snapshot-collections": {
        type: "string",
        value: "<names>",
        description: "collections whose resources re-capture everything each session (comma-separated): the resume check lets them repeat documents",
      },
    },
  },
  async ({ values }) => {
    const { catalog, capture } = await loadSelectedCapture(values);
    const out = new Output();
    const results = await runChecks(catalog, capture, {
      run: { logLevel: (values["log-level"] as string | undefined) ?? "warn" },
      sessionTimeoutMs: Number(values["session-timeout"]) * 1000,
      extraChecks: [oauthCheck],
      ...(typeof values.only === "string" ? { only: values.only.split(",").map((s) => s.trim()) } : {}),
      ...(typeof values["snapshot-collections"] === "string" ? { snapshotCollections: values["snapshot-collections"].split(",").map((s) => s.trim()) } : {}),
      onResult: (r) => {
        if (!values.json) process.stderr.write(`${MARK[r.status]} ${r.id} (${r.durationMs} ms)\n`);
      },
    });
    if (values.json) for (const r of results) await out.line(JSON.stringify(r));
    else await out.line(resultsTable(results));
    return results.some((r) => r.status === "fail") ? 1 : 0;
  },
);

export const run = command.run;
export const spec = command.spec;
