import { OMITTED, type TupleValue } from "./api/pgoutput.js";
import type { TableInfo } from "./discovery.js";
import { knownScalarType } from "./discovery.js";
import { transcoderFor, type ColumnType, type Transcoder } from "./values.js";

/**
 * The properties of a row's document in their order: the kept columns and `_meta` (index -1),
 * sorted bytewise by name as Estuary's `encrow.Shape` sorts them.
 */
export function documentSlots(names: readonly (string | undefined)[]): { name: string; index: number }[] {
  const slots = names.flatMap((name, index) => (name === undefined ? [] : [{ name, index }]));
  slots.push({ name: "_meta", index: -1 });
  slots.sort((a, b) => Buffer.compare(Buffer.from(a.name, "utf8"), Buffer.from(b.name, "utf8")));
  return slots;
}

/**
 * The JSON of a row, built the way Estuary's `encrow.Shape` builds it: properties sorted
 * bytewise by name with `_meta` among them, each value transcoded straight from PostgreSQL's text
 * into the output string (no intermediate object, serialized once).
 */
export class RowShape {
  /** Per sorted slot: the column index it takes its value from, or -1 for `_meta`. */
  private readonly order: number[];
  /** Per sorted slot: `"name":`. */
  private readonly prefixes: string[];
  private readonly transcoders: (Transcoder | undefined)[];

  /**
   * @param names the row's column names, in the order values arrive (undefined: a column left out)
   * @param transcoders one per column
   */
  constructor(names: (string | undefined)[], transcoders: (Transcoder | undefined)[]) {
    const slots = documentSlots(names);
    this.order = slots.map((s) => s.index);
    this.prefixes = slots.map((s) => JSON.stringify(s.name) + ":");
    this.transcoders = transcoders;
  }

  /** The document for `values` with `_meta` JSON `meta`; OMITTED values are left out. */
  document(values: readonly TupleValue[], meta: string | undefined): string {
    let out = "{";
    let first = true;
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      let json: string;
      if (index < 0) {
        if (meta === undefined) continue;
        json = meta;
      } else {
        const value = values[index];
        if (value === OMITTED || value === undefined) continue;
        json = value === null ? "null" : this.transcoders[index]!(value);
      }
      out += (first ? "" : ",") + this.prefixes[i] + json;
      first = false;
    }
    return out + "}";
  }
}

const OID_TYPES: Record<number, string> = {
  16: "bool",
  17: "bytea",
  20: "int8",
  21: "int2",
  23: "int4",
  26: "oid",
  114: "json",
  700: "float4",
  701: "float8",
  1082: "date",
  1083: "time",
  1114: "timestamp",
  1184: "timestamptz",
  1186: "interval",
  1266: "timetz",
  1700: "numeric",
  2950: "uuid",
  3802: "jsonb",
  869: "inet",
};

/**
 * The transcoder of a column: from discovery when the column is known, else from its type OID
 * (a column added while the capture runs), else its text as a string.
 */
export function columnTranscoder(table: TableInfo | undefined, name: string, typeOid: number | undefined, isKey: boolean): Transcoder {
  const column = table?.columns.find((c) => c.name === name);
  let type: ColumnType | undefined = column?.type;
  if (!type && typeOid !== undefined && OID_TYPES[typeOid]) type = { name: OID_TYPES[typeOid]!, typtype: "b", isArray: false };
  if (!type) return (text) => JSON.stringify(text);
  // Arrays of types it does not know stay text, as Estuary's (pgx has no codec for them).
  if (type.isArray && type.typtype === "b" && !knownScalarType(type.name)) return (text) => JSON.stringify(text);
  return transcoderFor(type, isKey);
}

/** The `_meta.source` fields after `schema` and before `loc`, pre-serialized. */
export function sourceNames(schema: string, table: string): { schema: string; table: string } {
  return { schema: JSON.stringify(schema), table: JSON.stringify(table) };
}
