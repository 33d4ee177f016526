import { defineOAuth2 } from "flowcap/oauth";

/**
 * How Flow's UI signs users in: the provider's authorize and token endpoints. Replace them with
 * your provider's (or use a preset: `oauth2Providers.github()`, `google`, `microsoft`,
 * `salesforce`, `hubspot`). `npm run lint:oauth` checks the result as Flow's host will use it.
 */
export const oauth = defineOAuth2({
  provider: "<% provider %>",
  authorizeUrl: "https://auth.example.com/oauth/authorize",
  tokenUrl: "https://auth.example.com/oauth/token",
  scopes: ["read"],
});
