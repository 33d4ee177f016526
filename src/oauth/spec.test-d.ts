import { expectTypeOf, test } from "vitest";
import type { FromSchema } from "../sdk/index.js";
import { oauth2Providers } from "./providers/presets.js";
import { accessTokenCredentialsSchema, credentialsSchema, defineOAuth2 } from "./spec.js";

test("the credentials type is inferred from the built schema, discriminated by credentials_title", () => {
  const hubspot = oauth2Providers.hubspot();
  const config = { type: "object", properties: { credentials: credentialsSchema(hubspot.credentials, accessTokenCredentialsSchema()) }, required: ["credentials"] } as const;
  type Config = FromSchema<typeof config>;
  expectTypeOf<Config["credentials"]>().toEqualTypeOf<
    | { credentials_title: "OAuth Credentials"; client_id: string; client_secret: string; refresh_token: string }
    | { credentials_title: "Private App Credentials"; access_token: string }
  >();

  const sf = oauth2Providers.salesforce();
  type Sf = FromSchema<typeof sf.credentials>;
  expectTypeOf<Sf["instance_url"]>().toEqualTypeOf<string>();

  const rotating = defineOAuth2({ provider: "acme", authorizeUrl: "https://a/auth", tokenUrl: "https://a/token", credentials: "rotating" });
  type Rotating = FromSchema<typeof rotating.credentials>;
  expectTypeOf<Rotating>().toEqualTypeOf<{
    credentials_title: "OAuth Credentials";
    client_id: string;
    client_secret: string;
    refresh_token: string;
    access_token: string;
    access_token_expires_at: string;
  }>();
  expectTypeOf(rotating.credentials["x-oauth2-provider"]).toEqualTypeOf<"acme">();
});
