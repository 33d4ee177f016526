import { describe, expect, it } from "vitest";
import { CONFORMANCE_CHECKS, selectChecks, type CheckContext } from "../host/index.js";
import type { SpecResponse } from "../protocol/index.js";
import { defaultChecks } from "./conformance.js";

const spec = (extra: Partial<SpecResponse> = {}): SpecResponse => ({
  protocol: 3032023,
  configSchema: { type: "object", properties: { credentials: { type: "object" } } },
  resourceConfigSchema: { type: "object" },
  documentationUrl: "https://example.com",
  ...extra,
});

describe("the default conformance suite", () => {
  it("is the protocol checks, then OAuth's check, which needs the spec", () => {
    const ids = defaultChecks().map((c) => c.id);
    expect(ids).toEqual([...CONFORMANCE_CHECKS.map((c) => c.id), "oauth"]);
    expect(selectChecks(defaultChecks(), ["oauth"]).map((c) => c.id)).toEqual(["spec", "oauth"]);
  });

  it("judges the spec the spec check learned: skipped without one or without oauth2, failed on lint errors", async () => {
    const oauth = defaultChecks().find((c) => c.id === "oauth")!;
    const ctx = (s?: SpecResponse) => ({ spec: s }) as CheckContext;
    expect(await oauth.run(ctx())).toEqual({ status: "skip", detail: "needs the spec check to pass" });
    expect(await oauth.run(ctx(spec()))).toEqual({ status: "skip", detail: "the spec has no oauth2 block" });
    const leaky = spec({
      oauth2: {
        provider: "acme",
        authUrlTemplate: "https://acme.example/authorize?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&state={{#urlencode}}{{{ state }}}{{/urlencode}}&response_type=code",
        accessTokenUrlTemplate: "https://acme.example/token?client_secret={{{ client_secret }}}&code={{{ code }}}",
        accessTokenBody: "",
        accessTokenResponseMap: { access_token: "/access_token" },
      },
    });
    const outcome = await oauth.run(ctx(leaky));
    expect(outcome).toMatchObject({ status: "fail" });
    expect((outcome as { detail: string }).detail).toMatch(/\[secret-in-url\] oauth2\.accessTokenUrlTemplate/);
  });
});
