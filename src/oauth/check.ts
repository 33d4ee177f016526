import type { SpecResponse } from "../protocol/index.js";
import { lintOAuth } from "./lint.js";

/**
 * What the OAuth check reads of the conformance suite's context: the spec its `spec` check got
 * from the connector. oauth may not import host (the layers), so the check is typed by the part
 * of host's CheckContext it uses; `defaultChecks()` (testing/conformance.ts) puts it in the suite,
 * and the compiler holds it to host's ConformanceCheck there.
 */
export interface OAuthCheckContext {
  readonly spec?: SpecResponse;
}

/**
 * `flowcap oauth lint` as a conformance check: the spec's oauth2 block and credentials schema,
 * judged as the Flow host will use them. Skips when the spec has no oauth2 block (and nothing
 * else OAuth-like), fails on lint errors, warns on warnings; waived findings are listed.
 */
export const oauthCheck = {
  id: "oauth",
  title: "its oauth2 block and credentials schema lint clean",
  needs: ["spec"],
  async run(ctx: OAuthCheckContext): Promise<string | { status: "fail" | "warn" | "skip"; detail: string }> {
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
} as const;
