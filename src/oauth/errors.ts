import { FlowcapError, type FlowcapErrorCode, type FlowcapErrorOptions } from "../util/errors.js";

/** Codes an OAuthError carries. */
export type OAuthErrorCode = Extract<FlowcapErrorCode, "OAUTH_TEMPLATE" | "OAUTH_FLOW" | "OAUTH_TOKEN" | "OAUTH_REAUTHORIZE">;

/**
 * Something went wrong with OAuth: a template that does not render (`OAUTH_TEMPLATE`), a local
 * authorization flow that failed (`OAUTH_FLOW`: state mismatch, provider error, timeout), a token
 * endpoint that refused (`OAUTH_TOKEN`), or credentials that must be re-authorized
 * (`OAUTH_REAUTHORIZE`, always user-facing). `error`/`errorDescription` hold the provider's
 * RFC 6749 §5.2 fields when it sent them.
 */
export class OAuthError extends FlowcapError {
  declare readonly code: OAuthErrorCode;
  /** The provider's `error` code, such as `invalid_grant` or `access_denied`. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;

  constructor(code: OAuthErrorCode, message: string, options: FlowcapErrorOptions & { error?: string; errorDescription?: string } = {}) {
    super(code, message, { ...options, userFacing: options.userFacing ?? (code === "OAUTH_REAUTHORIZE" || code === "OAUTH_FLOW" || code === "OAUTH_TEMPLATE") });
    this.error = options.error;
    this.errorDescription = options.errorDescription;
  }
}
