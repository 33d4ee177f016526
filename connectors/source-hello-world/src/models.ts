import type { FromSchema } from "flowcap";

/** The endpoint config: how many greetings to produce per second. */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Hello World",
  type: "object",
  properties: {
    rate: {
      type: "number",
      title: "Rate",
      description: "Documents per second to produce.",
      default: 1,
      exclusiveMinimum: 0,
    },
  },
  additionalProperties: false,
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;

/** A greeting document. `count` is the collection key and increases by one per document. */
export const greetingSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Greeting",
  type: "object",
  properties: {
    count: { type: "integer", description: "Number of this greeting, from 1." },
    ts: { type: "string", format: "date-time", description: "When it was produced." },
    message: { type: "string" },
  },
  required: ["count", "ts", "message"],
} as const;

export type Greeting = FromSchema<typeof greetingSchema>;

/** What a binding remembers: the count of the last committed greeting. */
export interface GreetingState {
  count: number;
}
