/**
 * OAuth2 for Flow capture connectors (`flowcap/oauth`): declare the `oauth2` block and its
 * credentials schema (with presets for well-known providers), render its templates exactly as
 * Flow's host does, lint them, run the whole authorization flow locally, and keep access tokens
 * fresh at run time.
 */
export {
  renderTemplate,
  renderAuthUrl,
  renderTokenRequest,
  renderHeaders,
  applyResponseMap,
  HOST_DEFAULT_REDIRECT_URI,
  FLOWCTL_REDIRECT_URI,
  CODE_CHALLENGE_METHOD,
  type RenderOptions,
  type AuthUrlVariables,
  type TokenRequestVariables,
  type TokenRequest,
  type RefreshRequestVariables,
} from "./render.js";
export { lintOAuth, LINT_WAIVERS_KEYWORD, type OAuthLintFinding, type OAuthLintRule, type OAuthLintSeverity, type OAuthLintTarget, type OAuthLintOptions, type OAuthLintWaiver } from "./lint.js";
export {
  defineOAuth2,
  oauth2Spec,
  oauth2CredentialsSchema,
  accessTokenCredentialsSchema,
  clientCredentialsSchema,
  credentialsSchema,
  OAUTH_CREDENTIALS_TITLE,
  ACCESS_TOKEN_CREDENTIALS_TITLE,
  CLIENT_CREDENTIALS_TITLE,
  type OAuth2Definition,
  type OAuth2FlowOptions,
  type OAuth2CredentialsKind,
  type OAuth2CredentialsSchema,
  type ClientAuthentication,
} from "./spec.js";
export { oauth2Providers, github, google, microsoft, salesforce, hubspot } from "./providers/presets.js";
export { createPkce, isValidCodeVerifier } from "./pkce.js";
export {
  runLocalFlow,
  previewFlow,
  defaultRedirectUri,
  DEFAULT_LOCAL_PORT,
  DEFAULT_LOCAL_FLOW_TIMEOUT_MS,
  type LocalFlowOptions,
  type LocalFlowResult,
  type FlowPreview,
  type FlowPreviewOptions,
  type FlowClientOptions,
} from "./localFlow.js";
export { buildCredentials, maskCredentials, oauthCredentialsBranch } from "./credentials.js";
export { writeCredentialsToFile, writeConfigToFile, type WriteCredentialsOptions, type WriteCredentialsResult } from "./configFile.js";
export {
  createOAuth2TokenSource,
  persistWithConfigUpdate,
  DEFAULT_REFRESH_AT_LIFETIME_FRACTION,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  type OAuth2TokenSource,
  type OAuth2TokenSourceOptions,
  type OAuth2Credentials,
  type TokenGrant,
} from "./tokens.js";
export { DEFAULT_ROTATION_SAVE_ATTEMPTS, DEFAULT_ROTATION_SAVE_BASE_DELAY_MS, DEFAULT_ROTATION_SAVE_MAX_DELAY_MS, type RotationSaveOptions } from "./rotation.js";
export { OAuthError, type OAuthErrorCode } from "./errors.js";
