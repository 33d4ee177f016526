import { isPlainObject } from "../util/mergePatch.js";
import { compareFlowValues, flowNumber, FlowNumber, formatF64, isFlowObject, stringifyFlowJson, type FlowObject, type FlowValue } from "./flowJson.js";

/** A document of a transaction, combined with the others of its key. */
export interface CombinedDocument {
  binding: number;
  doc: FlowObject;
  /** Documents the connector wrote for this key in the transaction (1 when not combined). */
  combined: number;
}

interface Entry extends CombinedDocument {
  key: FlowValue[];
}

/**
 * A transaction's documents as Flow's runtime commits them (crates/runtime capture/protocol.rs:
 * captured documents go into a combiner keyed by each binding's collection key, which is drained
 * in binding, then key, order): documents of one key are reduced into one by the collection
 * schema's `reduce` annotations (`lastWriteWins` when there is none), and come out ordered by key.
 */
export class TransactionCombiner {
  private readonly entries = new Map<string, Entry>();

  /** `schemas[binding]` is the binding's collection write schema. */
  constructor(private readonly schemas: readonly unknown[]) {}

  get size(): number {
    return this.entries.size;
  }

  add(binding: number, key: FlowValue[], doc: FlowObject): void {
    const id = `${binding}\u0000${stringifyFlowJson(key)}`;
    const existing = this.entries.get(id);
    if (!existing) {
      this.entries.set(id, { binding, key, doc, combined: 1 });
      return;
    }
    existing.doc = reduceDocument(this.schemas[binding], existing.doc, doc) as FlowObject;
    existing.combined++;
  }

  /** The combined documents, by binding then key; the combiner is empty afterwards. */
  drain(): CombinedDocument[] {
    const out = [...this.entries.values()].sort((a, b) => a.binding - b.binding || compareFlowValues(a.key, b.key));
    this.entries.clear();
    return out.map(({ binding, doc, combined }) => ({ binding, doc, combined }));
  }
}

function strategyOf(schema: unknown): string {
  if (!isPlainObject(schema) || !isPlainObject(schema.reduce)) return "lastWriteWins";
  return typeof schema.reduce.strategy === "string" ? schema.reduce.strategy : "lastWriteWins";
}

/** The schema of property `name` of an object schema (its `properties`, else `additionalProperties`). */
function propertySchema(schema: unknown, name: string): unknown {
  if (!isPlainObject(schema)) return undefined;
  if (isPlainObject(schema.properties) && Object.hasOwn(schema.properties, name)) return schema.properties[name];
  return isPlainObject(schema.additionalProperties) ? schema.additionalProperties : undefined;
}

function add(a: FlowNumber, b: FlowNumber): FlowNumber {
  if (/^-?\d+$/.test(a.text) && /^-?\d+$/.test(b.text)) return flowNumber((BigInt(a.value) + BigInt(b.value)).toString());
  const sum = Number(a.value) + Number(b.value);
  return new FlowNumber(formatF64(sum), sum);
}

/**
 * Reduces a later document (`rhs`) into an earlier one (`lhs`) by the `reduce` strategy the
 * schema declares at each location: `merge` (objects property by property, arrays item by item),
 * `firstWriteWins`, `sum`, `append`, `minimize`, `maximize`, and `lastWriteWins` for everything
 * else. Annotations under conditionals (`if`/`then`, `oneOf`) are not followed: there the later
 * value wins.
 */
export function reduceDocument(schema: unknown, lhs: FlowValue, rhs: FlowValue): FlowValue {
  switch (strategyOf(schema)) {
    case "firstWriteWins":
      return lhs;
    case "merge":
      if (isFlowObject(lhs) && isFlowObject(rhs)) {
        const out: FlowObject = new Map(lhs);
        for (const [k, v] of rhs) out.set(k, out.has(k) ? reduceDocument(propertySchema(schema, k), out.get(k)!, v) : v);
        return out;
      }
      if (Array.isArray(lhs) && Array.isArray(rhs)) {
        const items = isPlainObject(schema) ? schema.items : undefined;
        return Array.from({ length: Math.max(lhs.length, rhs.length) }, (_, i) => (i >= rhs.length ? lhs[i]! : i >= lhs.length ? rhs[i]! : reduceDocument(items, lhs[i]!, rhs[i]!)));
      }
      return rhs;
    case "sum":
      return lhs instanceof FlowNumber && rhs instanceof FlowNumber ? add(lhs, rhs) : rhs;
    case "append":
      return Array.isArray(lhs) && Array.isArray(rhs) ? [...lhs, ...rhs] : rhs;
    case "minimize":
      return compareFlowValues(lhs, rhs) <= 0 ? lhs : rhs;
    case "maximize":
      return compareFlowValues(lhs, rhs) >= 0 ? lhs : rhs;
    default:
      return rhs;
  }
}
