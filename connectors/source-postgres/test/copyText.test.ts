import { describe, expect, it } from "vitest";
import { CopyDocuments, rowTexts, unescapeCopyText } from "../src/copyText.js";
import { RowShape } from "../src/documents.js";
import { byteTranscoderOf } from "../src/valueBytes.js";
import { TRUNCATE_BYTES, transcoderFor, type ColumnType } from "../src/values.js";

/**
 * Backfill rows arrive in COPY's text format and become document bytes without strings; the
 * documents must be byte for byte those of the string path (RowShape and the transcoders of
 * values.ts, which replication uses), whatever the values: these tests build COPY rows as
 * PostgreSQL writes them and compare both paths.
 */

/** A text value as COPY TO writes it (CopyAttributeOutText): `\\`, and letter escapes for \b \f \n \r \t \v. */
function copyEscape(text: string): string {
  return text.replace(/[\\\b\f\n\r\t\v]/g, (c) => ({ "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" })[c]!);
}

/**
 * A row as the tap hands it over: `[buf, start, end]`, amid other bytes (tabs, escapes and a
 * row's end, which a reader that strayed out of its bounds would take for its own).
 */
function copyRow(values: (string | null)[]): [Buffer, number, number] {
  return amid(Buffer.from(values.map((v) => (v === null ? "\\N" : copyEscape(v))).join("\t") + "\n", "utf8"));
}

function amid(row: Buffer): [Buffer, number, number] {
  const before = Buffer.from("\\N\t9\t\\");
  return [Buffer.concat([before, row, Buffer.from("\t\\x41\n")]), before.length, before.length + row.length];
}

const type = (name: string, typtype = "b", isArray = false): ColumnType => ({ name, typtype, isArray });
const META = { head: Buffer.from('{"op":"c","source":{"loc":[-1,'), tail: Buffer.from(",0]}}") };

/** Both paths' document for one row of `values`, as strings. */
function bothPaths(types: ColumnType[], values: (string | null)[], keys: boolean[] = []): { bytes: string; strings: string } {
  const names = types.map((_, i) => `c${i}`);
  const transcoders = types.map((t, i) => transcoderFor(t, keys[i] ?? false));
  const documents = new CopyDocuments(names, transcoders);
  const end = documents.document(...copyRow(values), META.head, 42, META.tail);
  const strings = new RowShape(names, transcoders).document(values, `${META.head.toString()}42${META.tail.toString()}`);
  return { bytes: documents.out.toString("utf8", 0, end), strings };
}

/** Values of each type with a byte form, common shapes and the edge cases left to the string form. */
const CORPUS: [ColumnType, string[]][] = [
  [type("int8"), ["0", "-9223372036854775808", "9223372036854775807", "42"]],
  [type("int4"), ["-2147483648", "7"]],
  [type("oid"), ["4294967295"]],
  [type("bool"), ["t", "f"]],
  [type("float8"), ["0", "-0", "1.5", "-1.5", "123.456789012345", "1e+20", "-1.5e-07", "NaN", "Infinity", "-Infinity"]],
  [type("float4"), ["123.456", "3.4028235e+38", "NaN"]],
  [type("numeric"), ["123456.7890", "-0.001", "NaN", "Infinity", "-Infinity", "0"]],
  [
    type("text"),
    [
      "",
      "hello",
      'hello "world"',
      "back\\slash \\\\ two",
      "tab\there, new\nline, cr\r, bell\x07, nul-ish \x01 \x1f, del \x7f",
      "\b\f\v all the letter escapes",
      "é ü ñ — “quotes” 日本語 😀 \u2028 \u2029",
      "ends with a backslash \\",
      "\\N",
      "N",
    ],
  ],
  [type("varchar"), ["abc", "x\ty"]],
  [type("bpchar"), ["fixed     "]],
  [type("uuid"), ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]],
  [type("mood", "e"), ["happy", "it's"]],
  [type("pair", "c"), [`(1234," 'hello'")`, `(1,"a\\\\b")`]],
  [type("jsonb"), ['{"a": 1}', '{"b": [1, 2]}', '{"k": "a\\"b\\\\c\\n\\u0001 é"}', "null", '"x"', "[]"]],
  [type("date"), ["2024-01-15", "0001-01-01", "infinity", "-infinity", "0044-03-15 BC", "10000-01-01"]],
  [
    type("timestamp"),
    ["1999-12-31 23:59:59.999999", "2024-01-15 14:30:00", "2024-01-15 14:30:00.5", "infinity", "-infinity", "0044-03-15 12:00:00 BC", "10000-01-01 00:00:00", "2024-01-15 14:30:00+00"],
  ],
  [
    type("timestamptz"),
    [
      "2024-01-15 06:30:00-08",
      "2024-01-15 14:30:00+00",
      "2024-01-15 14:30:00.123456+05:30",
      "1883-11-18 12:00:00-07:52:58",
      "1900-01-01 00:00:00+00:00:00",
      "1900-01-01 00:00:00-00:00:30",
      "2024-06-01 00:00:00.1+00:30",
      "infinity",
      "-infinity",
      "0044-03-15 12:00:00+00 BC",
      "10000-01-01 00:00:00+00",
      "2024-01-15 14:30:00",
    ],
  ],
  // No byte form: the string transcoders, through the same document builder.
  [type("interval"), ["1 year 2 mons 3 days", "-00:00:01.5", "00:00:00"]],
  [type("bytea"), ["\\xdeadbeef", "\\x"]],
  [type("int4", "b", true), ["{{1,2},{3,4}}", "{}", "{NULL,5}"]],
  [type("text", "b", true), ['{"a b",NULL,"c\\"d","e\\\\f"}']],
  [type("daterange", "r"), ["[2024-01-01,2024-12-31)", "empty"]],
  [type("inet"), ["192.168.1.1", "::1", "10.0.0.0/8"]],
  [type("time"), ["23:59:59.999999", "24:00:00"]],
  [type("timetz"), ["14:30:00+05:30"]],
  [type("json"), ['{"a": "\\ud800"}', '{"a": 1}']],
];

describe("backfill documents from COPY text rows", () => {
  it("writes each value byte for byte as the string transcoders do, NULL as null", () => {
    for (const [t, values] of CORPUS) {
      for (const value of [...values, null]) {
        const { bytes, strings } = bothPaths([t, type("int4")], [value, "1"]);
        expect(bytes, `${t.name} ${JSON.stringify(value)}`).toBe(strings);
        expect(() => JSON.parse(bytes), `${t.name} ${JSON.stringify(value)}`).not.toThrow();
      }
    }
  });

  it("has byte forms for the common types (and leaves keys' floats to the string form)", () => {
    for (const name of ["int2", "int4", "int8", "oid", "bool", "float4", "float8", "numeric", "text", "varchar", "uuid", "jsonb", "date", "timestamp", "timestamptz"]) {
      expect(byteTranscoderOf(transcoderFor(type(name), false)), name).toBeDefined();
    }
    expect(byteTranscoderOf(transcoderFor(type("float8"), true))).toBeUndefined();
    expect(bothPaths([type("float8")], ["1e+20"], [true])).toEqual({ bytes: expect.stringContaining('"100000000000000000000"'), strings: expect.stringContaining('"100000000000000000000"') });
  });

  it("sorts properties bytewise with _meta among them and leaves out dropped columns", () => {
    const transcoders = [transcoderFor(type("int4"), true), transcoderFor(type("text"), false), transcoderFor(type("int4"), false), transcoderFor(type("text"), false)];
    const documents = new CopyDocuments(["id", "Zeta", undefined, "alpha"], transcoders);
    const end = documents.document(...copyRow(["7", "z", "14", "a"]), META.head, 1234567, META.tail);
    expect(documents.out.toString("utf8", 0, end)).toBe('{"Zeta":"z","_meta":{"op":"c","source":{"loc":[-1,1234567,0]}},"alpha":"a","id":7}');
  });

  it("reads bytes that are not UTF-8 as the string path does (U+FFFD)", () => {
    const names = ["a", "b"];
    const transcoders = [transcoderFor(type("text"), false), transcoderFor(type("timestamptz"), false)];
    const row = Buffer.concat([Buffer.from("ok \xff\xfe bad", "latin1"), Buffer.from("\t2024-01-15 14:30:00+00\n")]);
    const documents = new CopyDocuments(names, transcoders);
    const end = documents.document(...amid(row), META.head, 0, META.tail);
    const text = row.toString("utf8", 0, row.indexOf(9));
    expect(documents.out.toString("utf8", 0, end)).toBe(new RowShape(names, transcoders).document([text, "2024-01-15 14:30:00+00"], `${META.head.toString()}0${META.tail.toString()}`));
    expect(text).toContain("\ufffd");
  });

  it("leaves values past the truncation limit (in UTF-8 bytes, as Estuary measures) to the string form, which truncates them", () => {
    // Past the limit in bytes, not in characters.
    const big = "é".repeat(TRUNCATE_BYTES / 2 + 10);
    const bigJson = `{"k": "${"é".repeat(TRUNCATE_BYTES / 2)}"}`;
    const { bytes, strings } = bothPaths([type("text"), type("jsonb"), type("json")], [big, bigJson, bigJson]);
    expect(bytes).toBe(strings);
    const doc = JSON.parse(bytes) as { c0: string; c1: unknown; c2: unknown };
    expect(Buffer.byteLength(doc.c0)).toBe(TRUNCATE_BYTES);
    expect(doc.c1).toEqual({ flow_truncated: true, original_size: Buffer.byteLength(bigJson) });
    expect(doc.c2).toEqual({ flow_truncated: true, original_size: Buffer.byteLength(bigJson) });
    // At the limit, nothing is cut.
    const atLimit = "é".repeat(TRUNCATE_BYTES / 2);
    expect(JSON.parse(bothPaths([type("text")], [atLimit]).bytes).c0).toBe(atLimit);
  });

  it("refuses a row whose fields do not match the described columns", () => {
    const documents = new CopyDocuments(["a", "b"], [transcoderFor(type("int4"), false), transcoderFor(type("int4"), false)]);
    expect(() => documents.document(...copyRow(["1"]), META.head, 0, META.tail)).toThrow(/1 fields where the query described 2 columns/);
    expect(() => documents.document(...copyRow(["1", "2", "3"]), META.head, 0, META.tail)).toThrow(/more than 2 fields/);
  });

  it("splits at tabs only (never an escaped one), keeps empty fields, and never reads past the row", () => {
    expect(rowTexts(...copyRow(["", ""]), 2)).toEqual(["", ""]);
    expect(rowTexts(...copyRow(["a\tb", ""]), 2)).toEqual(["a\tb", ""]);
    expect(rowTexts(...copyRow([""]), 1)).toEqual([""]);
    expect(rowTexts(...copyRow([null]), 1)).toEqual([null]);
    // A last backslash (PostgreSQL never writes one alone) stands for itself, inside the row.
    expect(rowTexts(...amid(Buffer.from("x\t\\\n")), 2)).toEqual(["x", "\\"]);
  });

  it("undoes COPY's escapes, and gives a row's texts for its resume key", () => {
    const src = Buffer.from("a\\\\b\\tc\\nd\\101\\x41\\q\\");
    const out = Buffer.alloc(src.length);
    expect(out.toString("latin1", 0, unescapeCopyText(src, 0, src.length, out))).toBe("a\\b\tc\ndAAq\\");
    expect(rowTexts(...copyRow(["1", null, "x\ty\\z", "é"]), 4)).toEqual(["1", null, "x\ty\\z", "é"]);
  });
});
