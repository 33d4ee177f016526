import type { Ajv, ValidateFunction } from "ajv";
import { FlowcapError } from "../util/errors.js";
import { getPointer } from "../util/jsonPointer.js";
import { createSchemaCompiler, type CollectionSpec } from "../protocol/index.js";

/** What the runtime writes at a collection's uuidPtr before a document is committed (flowctl preview shows it). */
export const UUID_PLACEHOLDER = "DocUUIDPlaceholder-329Bb50aa48EAa9ef";

/** A captured document that its collection would refuse. */
export class DocumentInvalidError extends FlowcapError {
  constructor(message: string, data: Record<string, unknown>) {
    super("DOCUMENT_INVALID", message, { userFacing: true, data });
  }
}

/**
 * Checks documents as Flow does before committing them: against the collection's write schema,
 * and for a key whose every location holds a scalar.
 */
export class DocumentValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    // The first problem only: a document is refused as soon as one is found.
    this.ajv = createSchemaCompiler({ allErrors: false, validateSchema: false });
  }

  private validatorFor(collection: CollectionSpec): ValidateFunction {
    let validate = this.compiled.get(collection.name);
    if (!validate) {
      try {
        validate = this.ajv.compile(collection.writeSchema ?? true);
      } catch (error) {
        throw new FlowcapError("CATALOG_INVALID", `the schema of collection ${collection.name} does not compile: ${(error as Error).message}`, { userFacing: true, cause: error });
      }
      this.compiled.set(collection.name, validate);
    }
    return validate;
  }

  /** Throws a DocumentInvalidError naming the binding, the line and the problem. */
  check(collection: CollectionSpec, doc: Record<string, unknown>, where: string): void {
    for (const ptr of collection.key) {
      const value = getPointer(doc, ptr);
      if (value === undefined) throw new DocumentInvalidError(`${where}: document has no value at key ${ptr} of ${collection.name}`, { collection: collection.name, key: ptr });
      if (typeof value === "object" && value !== null) {
        throw new DocumentInvalidError(`${where}: key ${ptr} of ${collection.name} holds ${Array.isArray(value) ? "an array" : "an object"}; key values must be scalars`, { collection: collection.name, key: ptr });
      }
    }
    const validate = this.validatorFor(collection);
    if (!validate(doc)) {
      const e = validate.errors?.[0];
      const detail = e ? `${e.instancePath || "/"} ${e.message ?? e.keyword}${e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : ""}` : "invalid";
      throw new DocumentInvalidError(`${where}: document does not match the schema of ${collection.name}: ${detail}`, { collection: collection.name });
    }
  }
}
