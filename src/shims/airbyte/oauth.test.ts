import { describe, expect, it } from "vitest";
import { fixturePath, haveSharedFixtures, readFixture } from "../../../test/helpers/fixtures.js";
import { deriveOAuth2 } from "./oauth.js";
import type { AirbyteConnectorSpecification } from "./types.js";

const spec = (advanced_auth: unknown): AirbyteConnectorSpecification => ({ connectionSpecification: { type: "object" }, advanced_auth });
const credentialsOutputs = {
  complete_oauth_output_specification: { properties: { refresh_token: { path_in_connector_config: ["credentials", "refresh_token"] } } },
  complete_oauth_server_output_specification: {
    properties: { client_id: { path_in_connector_config: ["credentials", "client_id"] }, client_secret: { path_in_connector_config: ["credentials", "client_secret"] } },
  },
};

describe("deriveOAuth2", () => {
  it("rewrites a declarative OAuth flow as Flow's Mustache templates", () => {
    const derived = deriveOAuth2(
      spec({
        auth_flow_type: "oauth2.0",
        oauth_config_specification: {
          ...credentialsOutputs,
          oauth_user_input_from_connector_config_specification: { properties: { region: { path_in_connector_config: ["region"] } } },
          oauth_connector_input_specification: {
            consent_url: "https://{{region}}.example.com/authorize?{{client_id_param}}&{{redirect_uri_param}}&{{state_param}}&{{scope_param}}&response_type=code&code_challenge={{ code_verifier_value | codeChallengeS256 }}",
            access_token_url: "https://{{ region }}.example.com/token",
            access_token_headers: { Authorization: "Basic {{ (client_id_value ~ ':' ~ client_secret_value) | b64encode }}", "Content-Type": "application/x-www-form-urlencoded" },
            access_token_params: { grant_type: "authorization_code", code: "{{ auth_code_value }}", redirect_uri: "{{ redirect_uri_value }}", scope: "{{ scope_value | urlEncoder }}" },
            scope: "read write",
          },
        },
      }),
    );
    expect(derived.reason).toBeUndefined();
    expect(derived.oauth2).toEqual({
      provider: "example",
      authUrlTemplate:
        "https://{{{ config.region }}}.example.com/authorize?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&state={{#urlencode}}{{{ state }}}{{/urlencode}}&scope=read%20write&response_type=code&code_challenge={{{ code_challenge }}}",
      accessTokenUrlTemplate: "https://{{{ config.region }}}.example.com/token",
      accessTokenHeaders: { Authorization: "Basic {{#basicauth}}{{{ client_id }}}:{{{ client_secret }}}{{/basicauth}}", "Content-Type": "application/x-www-form-urlencoded" },
      accessTokenBody: "grant_type=authorization_code&code={{#urlencode}}{{{ code }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&scope=read%2520write",
      accessTokenResponseMap: { refresh_token: "/refresh_token" },
    });
  });

  it("writes a JSON token body when the headers do not ask for a form", () => {
    const derived = deriveOAuth2(
      spec({
        oauth_config_specification: {
          ...credentialsOutputs,
          oauth_connector_input_specification: {
            consent_url: "https://x.io/a?{{client_id_param}}",
            access_token_url: "https://x.io/t",
            access_token_params: { code: "{{auth_code_value}}", grant_type: "authorization_code" },
          },
        },
      }),
    );
    expect(derived.oauth2?.accessTokenBody).toBe('{"code": "{{{ code }}}", "grant_type": "authorization_code"}');
  });

  it("says why not when the flow cannot be derived soundly", () => {
    const declarative = (over: Record<string, unknown>) =>
      deriveOAuth2(spec({ oauth_config_specification: { ...credentialsOutputs, oauth_connector_input_specification: { consent_url: "https://x.io/a", access_token_url: "https://x.io/t" }, ...over } })).reason;
    expect(deriveOAuth2(spec({ auth_flow_type: "oauth2.0", oauth_config_specification: credentialsOutputs })).reason).toMatch(/does not name the provider's endpoints/);
    expect(deriveOAuth2(spec({ auth_flow_type: "oauth1.0" })).reason).toMatch(/oauth1.0 flow, and Flow runs OAuth 2.0 flows only/);
    expect(deriveOAuth2({ connectionSpecification: {}, authSpecification: { auth_type: "oauth2.0" } }).reason).toMatch(/deprecated authSpecification/);
    expect(declarative({ complete_oauth_output_specification: { properties: { token: { path_in_connector_config: ["auth", "token"] } } } })).toMatch(
      /puts token at auth.token, and Flow puts OAuth values under credentials/,
    );
    expect(
      declarative({ complete_oauth_server_output_specification: { properties: { developer_token: { path_in_connector_config: ["credentials", "developer_token"] } } } }),
    ).toMatch(/server-side value developer_token is not one Flow's OAuth flow provides/);
    expect(
      deriveOAuth2(
        spec({ oauth_config_specification: { ...credentialsOutputs, oauth_connector_input_specification: { consent_url: "https://x.io/a?{{ tenant }}", access_token_url: "https://x.io/t" } } }),
      ).reason,
    ).toMatch(/the variable "tenant" .* has no Flow equivalent/);
    expect(deriveOAuth2({ connectionSpecification: {} })).toEqual({});
  });
});

describe.runIf(haveSharedFixtures)("deriveOAuth2 on real specs", () => {
  it("derives Zendesk's flow from its declarative OAuth", () => {
    const zendesk = JSON.parse(readFixture("airbyte", "specs", "source-zendesk-support.json")) as AirbyteConnectorSpecification;
    expect(deriveOAuth2(zendesk).oauth2).toEqual({
      provider: "zendesk",
      authUrlTemplate:
        "https://{{{ config.subdomain }}}.zendesk.com/oauth/authorizations/new?response_type=code&client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&scope=read&state={{#urlencode}}{{{ state }}}{{/urlencode}}",
      accessTokenUrlTemplate:
        "https://{{{ config.subdomain }}}.zendesk.com/oauth/tokens?grant_type=authorization_code&code={{#urlencode}}{{{ code }}}{{/urlencode}}&client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&scope=read",
      accessTokenResponseMap: { access_token: "/access_token", refresh_token: "/refresh_token" },
    });
    expect(fixturePath("airbyte", "specs")).toBeTruthy();
  });

  it("explains why TickTick's flow is not derived", () => {
    const ticktick = JSON.parse(readFixture("airbyte", "specs", "source-ticktick.json")) as AirbyteConnectorSpecification;
    expect(deriveOAuth2(ticktick).reason).toMatch(/puts access_token at authorization.client_access_token, and Flow puts OAuth values under credentials/);
  });
});
