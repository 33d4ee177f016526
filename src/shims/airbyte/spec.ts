import type { OAuth2 } from "../../protocol/index.js";
import type { ConnectorSpec, Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject } from "../../util/mergePatch.js";
import { RESOURCE_CONFIG_SCHEMA, RESOURCE_PATH_POINTERS } from "./bindings.js";
import { deriveOAuth2 } from "./oauth.js";
import type { AirbyteConnectorSpecification } from "./types.js";

/** Used when neither the source nor the options name a documentation page (Flow requires one). */
export const FALLBACK_DOCUMENTATION_URL = "https://docs.airbyte.com/integrations/";

export interface SpecMappingOptions {
  /** Flow's `oauth2`; when given, nothing is derived from the source's spec. */
  oauth2?: OAuth2;
  /** Overrides the source's `documentationUrl`. */
  documentationUrl?: string;
}

/**
 * Flow's spec for an Airbyte source: `configSchema` is the source's `connectionSpecification`
 * unchanged (the config is handed to the source as Flow gives it), `documentationUrl` is
 * copied, resources are `{stream, syncMode, namespace?, cursorField?}` with paths
 * `[namespace, stream]`, and `oauth2` comes from the options or, when sound, from the source's
 * declarative OAuth (a log line says why not otherwise).
 */
export function flowSpec(spec: AirbyteConnectorSpecification, options: SpecMappingOptions, log: Logger): ConnectorSpec {
  if (!isPlainObject(spec) || !isPlainObject(spec.connectionSpecification)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", "the source's SPEC has no connectionSpecification object", { userFacing: true });
  }
  let documentationUrl = options.documentationUrl ?? (typeof spec.documentationUrl === "string" && spec.documentationUrl ? spec.documentationUrl : undefined);
  if (!documentationUrl) {
    log.debug(`the source's spec has no documentationUrl: using ${FALLBACK_DOCUMENTATION_URL} (set one with --documentation-url)`);
    documentationUrl = FALLBACK_DOCUMENTATION_URL;
  }
  let oauth2 = options.oauth2;
  if (!oauth2) {
    const derived = deriveOAuth2(spec);
    if (derived.oauth2) {
      oauth2 = derived.oauth2;
      log.debug(`derived Flow's oauth2 from the source's declarative OAuth (provider ${oauth2.provider})`);
    } else if (derived.reason) {
      log.info(`no oauth2 in the spec: ${derived.reason}`);
    }
  }
  return {
    configSchema: spec.connectionSpecification,
    resourceConfigSchema: RESOURCE_CONFIG_SCHEMA,
    documentationUrl,
    ...(oauth2 ? { oauth2 } : {}),
    resourcePathPointers: RESOURCE_PATH_POINTERS,
  };
}
