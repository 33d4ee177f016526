/**
 * JSON Schema as connectors write it, and the TypeScript type a schema describes. flowcap takes
 * the schema as the source of truth (it is what Flow's UI renders, with annotations such as
 * `secret`, `order` and `x-oauth2-provider`) and infers the type from it, so the two cannot drift
 * and there is no code generation step. Properties that are `required` or have a `default` (ajv
 * fills defaults in before the connector sees the config) are non-optional.
 *
 * Inference covers `type` (and type lists), `properties`/`required`/`additionalProperties`,
 * `items`, `enum`, `const`, `oneOf`/`anyOf` (unions) and `allOf` (intersections). A `$ref`, or
 * anything else it does not understand, becomes `unknown`.
 */

export type JsonType = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null";

/** A JSON Schema document (draft-07 and later keywords, plus any annotation). */
export type JsonSchema = boolean | JsonSchemaObject;

/**
 * A JSON Schema object (draft-07 / 2020-12 keywords, each as JSON Schema defines it), written
 * `as const` so that FromSchema can infer its TypeScript type; any other keyword is allowed.
 */
export interface JsonSchemaObject {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly default?: unknown;
  readonly title?: string;
  readonly description?: string;
  /** Flow's UI hides the value and flowcap redacts it from logs. */
  readonly secret?: boolean;
  readonly [keyword: string]: unknown;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The TypeScript type of values valid against schema `S`. */
export type FromSchema<S> = S extends true
  ? unknown
  : S extends false
    ? never
    : S extends { readonly const: infer C }
      ? C
      : S extends { readonly enum: readonly (infer E)[] }
        ? E
        : S extends { readonly oneOf: readonly (infer U)[] }
          ? FromSchema<U>
          : S extends { readonly anyOf: readonly (infer U)[] }
            ? FromSchema<U>
            : S extends { readonly allOf: readonly unknown[] }
              ? UnionToIntersection<FromSchema<S["allOf"][number]>>
              : S extends { readonly type: infer T }
                ? T extends readonly (infer One)[]
                  ? FromType<One, S>
                  : FromType<T, S>
                : S extends { readonly properties: object }
                  ? FromObject<S>
                  : unknown;

type FromType<T, S> = T extends "string"
  ? string
  : T extends "number" | "integer"
    ? number
    : T extends "boolean"
      ? boolean
      : T extends "null"
        ? null
        : T extends "array"
          ? S extends { readonly items: infer I }
            ? FromSchema<I>[]
            : unknown[]
          : T extends "object"
            ? FromObject<S>
            : unknown;

type RequiredKeys<S, P> =
  | (S extends { readonly required: readonly (infer R)[] } ? R : never)
  | { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type AdditionalOf<S> = S extends { readonly additionalProperties: false }
  ? unknown
  : S extends { readonly additionalProperties: infer A }
    ? A extends true
      ? { [key: string]: unknown }
      : { [key: string]: FromSchema<A> | undefined }
    : S extends { readonly properties: object }
      ? unknown
      : { [key: string]: unknown };

type FromObject<S> = S extends { readonly properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P as K extends RequiredKeys<S, P> ? K : never]: FromSchema<P[K]> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S, P> ? never : K]?: FromSchema<P[K]>;
      } & AdditionalOf<S>
    >
  : AdditionalOf<S>;
