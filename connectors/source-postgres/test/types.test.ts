import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostgresCluster } from "../../../test/helpers/postgres.js";
import { bindingOf, createPublication, discover, endpointConfig, runSession, startCluster, unary, type Doc } from "./harness.js";

/**
 * Discovery and value formatting for every column type the issue lists, against a real server:
 * the schemas are Estuary's mapping, and a row is captured with the same values whether it was
 * backfilled or replicated, each formatted as Estuary's connector formats it (the expectations
 * are the values in Estuary's test snapshots, reference §4.3). The server runs in PST8PDT, as
 * Estuary's test server does, so timestamptz shows its offset.
 */

let pg: PostgresCluster;
beforeAll(async () => {
  pg = await startCluster({ timezone: "'PST8PDT'" });
  await pg.sql(`CREATE TYPE test.mood AS ENUM ('happy', 'sad')`);
  await pg.sql(`CREATE TYPE test.pair AS (a int, b text)`);
  await pg.sql(`CREATE DOMAIN test.positive AS int CHECK (VALUE > 0)`);
  await pg.sql(`CREATE TABLE test.types (
    id int PRIMARY KEY,
    c_bool bool, c_int2 int2, c_int4 int4 NOT NULL, c_int8 int8, c_oid oid,
    c_numeric numeric, c_float4 float4, c_float8 float8,
    c_varchar varchar(10), c_bpchar char(10), c_text text,
    c_bytea bytea, c_bit bit(3), c_varbit varbit, c_xml xml,
    c_json json, c_jsonb jsonb, c_jsonpath jsonpath,
    c_date date, c_timestamp timestamp, c_timestamptz timestamptz, c_time time, c_timetz timetz, c_interval interval,
    c_money money, c_point point, c_box box, c_circle circle,
    c_inet inet, c_inet6 inet, c_cidr cidr, c_macaddr macaddr, c_uuid uuid,
    c_tsvector tsvector, c_tsquery tsquery,
    c_int_array int4[], c_text_array text[], c_empty_array int4[],
    c_int4range int4range, c_daterange daterange,
    c_enum test.mood, c_composite test.pair, c_domain test.positive,
    c_generated int GENERATED ALWAYS AS (c_int2::int * 2) STORED
  )`);
  await pg.sql(`COMMENT ON COLUMN test.types.c_text IS 'A comment'`);
  await createPublication(pg, "pub_types", ["test.types"]);
});
afterAll(async () => pg?.stop());

const ROW = `
  true, -32768, 2147483647, -9223372036854775808, 4294967295,
  '123456.7890', 123.456, 123.456789012345,
  'abc', 'fixed', 'hello "world"',
  '\\xdeadbeef', B'101', B'10', '<a>x</a>',
  '{"a": 1}', '{"b": [1, 2]}', '$."name"',
  '2024-01-15', '1999-12-31 23:59:59.999999', '2024-01-15 14:30:00+00', '23:59:59.999999', '14:30:00+05:30', '1 year 2 months 3 days',
  '$123.45', '(1,2)', '((1,2),(3,4))', '<(1,2),3>',
  '192.168.1.1', '::1', '192.168.1.0/24', '08:00:2b:01:02:03', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  'a fat cat', 'fat & rat',
  '{{1,2},{3,4}}', '{"a b",NULL}', '{}',
  '[5,5]', '[2024-01-01,2024-12-31)',
  'happy', ROW(1234, ' ''hello'''), 7`;

/** Estuary's values for ROW (reference §4.3 and its test snapshots). */
const EXPECTED = {
  c_bool: true,
  c_int2: -32768,
  c_int4: 2147483647,
  c_oid: 4294967295,
  c_numeric: "123456.7890",
  c_float4: 123.456,
  c_float8: 123.456789012345,
  c_varchar: "abc",
  c_bpchar: "fixed     ",
  c_text: 'hello "world"',
  c_bytea: "3q2+7w==",
  c_bit: "101",
  c_varbit: "10",
  c_xml: "<a>x</a>",
  c_json: { a: 1 },
  c_jsonb: { b: [1, 2] },
  c_jsonpath: '$."name"',
  c_date: "2024-01-15",
  c_timestamp: "1999-12-31T23:59:59.999999Z",
  c_timestamptz: "2024-01-15T06:30:00-08:00",
  c_time: "23:59:59.999999Z",
  c_timetz: "14:30:00+05:30",
  c_interval: "14 mon 3 day",
  c_money: "$123.45",
  c_point: "(1,2)",
  c_box: "(3,4),(1,2)",
  c_circle: "<(1,2),3>",
  c_inet: "192.168.1.1/32",
  c_inet6: "::1/128",
  c_cidr: "192.168.1.0/24",
  c_macaddr: "08:00:2b:01:02:03",
  c_uuid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
  c_tsvector: "'a' 'cat' 'fat'",
  c_tsquery: "'fat' & 'rat'",
  c_int_array: [1, 2, 3, 4],
  c_text_array: ["a b", null],
  c_empty_array: [],
  c_int4range: "[5,6)",
  c_daterange: "[2024-01-01T00:00:00Z,2024-12-31T00:00:00Z)",
  c_enum: "happy",
  c_composite: `(1234," 'hello'")`,
  c_domain: 7,
};

/** Special values: infinities, NaN, nulls and the rest of Estuary's edge cases. */
const SPECIAL_ROW = `
  false, 0, 0, 9223372036854775807, 0,
  'NaN', 'NaN', '-Infinity',
  '', '', NULL,
  '\\x', B'000', B'', NULL,
  'null', 'null', '$',
  'infinity', 'infinity', '-infinity', '00:00:00', '00:00:00+00', '5 hours 30 minutes',
  '-$999.99', NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL,
  NULL, NULL,
  '{}', NULL, NULL,
  'empty', NULL,
  NULL, NULL, NULL`;

const SPECIAL_EXPECTED = {
  c_numeric: "NaN",
  c_float4: "NaN",
  c_float8: "-Infinity",
  c_bpchar: "          ",
  c_text: null,
  c_bytea: "",
  c_json: null,
  c_jsonb: null,
  c_date: "9999-12-31",
  c_timestamp: "9999-12-31T23:59:59Z",
  c_timestamptz: "0000-01-01T00:00:00Z",
  c_time: "00:00:00Z",
  c_timetz: "00:00:00Z",
  c_interval: " 05:30:00",
  c_money: "-$999.99",
  c_int_array: [],
  c_int4range: "empty",
};

/** Text that COPY escapes (tab, newline, backslash) or JSON does (quotes, control characters), and UTF-8. */
const TRICKY_INSERT = `INSERT INTO test.types (id, c_int4, c_text, c_varchar, c_bpchar, c_jsonb, c_json, c_text_array, c_enum) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, 'sad')`;
const TRICKY_TEXT = 'tab\there\nline\r\\ back "quoted" \u0001\u001f\u007f é 😀 \u2028 \\N';
const TRICKY_VALUES = [TRICKY_TEXT, "a\tb\\c", "é\n", '{"k": "a\\"b\\\\c\\n\\u0001 é", "n": 1.50}', '{"k": "\\ud800 x\\ty"}', ["x\ty", 'q"\\', null, "😀"]];
const TRICKY_EXPECTED = {
  c_text: TRICKY_TEXT,
  c_varchar: "a\tb\\c",
  c_bpchar: "é\n        ",
  c_jsonb: { k: 'a"b\\c\n\u0001 é', n: 1.5 },
  c_json: { k: "\ufffd x\ty" },
  c_text_array: ["x\ty", 'q"\\', null, "😀"],
  c_enum: "sad",
  c_int8: null,
};

describe("source-postgres types", () => {
  it("discovers every column type as Estuary maps it, nullable columns as nullable, generated columns left out", async () => {
    const config = endpointConfig(pg, { publicationName: "pub_types", slotName: "slot_types" });
    const [binding] = await discover(config);
    expect(binding).toBeDefined();
    await expect(JSON.stringify(binding, null, 2) + "\n").toMatchFileSnapshot("../snapshots/discover.json");
    const props = ((binding!.documentSchema.$defs as Record<string, { properties: Record<string, Record<string, unknown>> }>).TestTypes!).properties;
    const shape = (name: string) => {
      const { description, ...rest } = props[name]!;
      void description;
      return rest;
    };
    expect(binding!.key).toEqual(["/id"]);
    expect(shape("id")).toEqual({ type: "integer" });
    expect(shape("c_int4")).toEqual({ type: "integer" });
    expect(shape("c_int8")).toEqual({ type: ["integer", "null"] });
    expect(shape("c_bool")).toEqual({ type: ["boolean", "null"] });
    expect(shape("c_numeric")).toEqual({ type: ["string", "null"], format: "number" });
    expect(shape("c_float8")).toEqual({ type: ["number", "string", "null"], format: "number" });
    expect(shape("c_varchar")).toEqual({ type: ["string", "null"], maxLength: 10 });
    expect(shape("c_bpchar")).toEqual({ type: ["string", "null"], maxLength: 10, minLength: 10 });
    expect(shape("c_bytea")).toEqual({ type: ["string", "null"], contentEncoding: "base64" });
    expect(shape("c_json")).toEqual({ contentMediaType: "application/json" });
    expect(shape("c_jsonb")).toEqual({ contentMediaType: "application/vnd.estuary.postgresql.jsonb+json" });
    expect(shape("c_date")).toEqual({ type: ["string", "null"], format: "date" });
    expect(shape("c_timestamp")).toEqual({ type: ["string", "null"], format: "date-time" });
    expect(shape("c_timestamptz")).toEqual({ type: ["string", "null"], format: "date-time" });
    expect(shape("c_time")).toEqual({ type: ["string", "null"], format: "time" });
    expect(shape("c_timetz")).toEqual({ type: ["string", "null"], format: "time" });
    expect(shape("c_interval")).toEqual({ type: ["string", "null"] });
    expect(shape("c_inet")).toEqual({ type: ["string", "null"] });
    expect(shape("c_uuid")).toEqual({ type: ["string", "null"], format: "uuid" });
    expect(shape("c_int_array")).toEqual({ items: { type: ["integer", "null"] }, type: ["array", "null"] });
    expect(shape("c_enum")).toEqual({ type: ["string", "null"] });
    expect(shape("c_int4range")).toEqual({ type: ["string", "null"] });
    expect(shape("c_composite")).toEqual({});
    expect(shape("c_domain")).toEqual({ type: ["integer", "null"] });
    expect(props.c_generated).toBeUndefined();
    expect(props.c_text!.description).toBe("A comment (source type: text)");
    expect(props.c_int4!.description).toBe("(source type: non-nullable int4)");
    expect(props.c_int_array!.description).toBe("(source type: _int4)");
    expect(props.c_enum!.description).toBe("(source type: enum)");
  });

  it("formats each value as Estuary does, byte for byte the same whether backfilled or replicated", async () => {
    await pg.sql(`INSERT INTO test.types VALUES (1, ${ROW}), (2, ${SPECIAL_ROW})`);
    await pg.sql(TRICKY_INSERT, [5, ...TRICKY_VALUES]);
    const config = endpointConfig(pg, { publicationName: "pub_types", slotName: "slot_types" });
    const [discovered] = await discover(config);
    const lines: string[] = [];
    let inserted = false;
    const session = await runSession({
      config,
      bindings: [bindingOf(discovered!)],
      state: {},
      onLine: (text) => lines.push(text),
      until: async (p) => {
        const mode = (p.state.bindingStateV1 as Record<string, { mode: string }> | undefined)?.["test%2Ftypes"]?.mode;
        if (mode === "Active" && !inserted) {
          inserted = true;
          await pg.sql(`INSERT INTO test.types VALUES (3, ${ROW}), (4, ${SPECIAL_ROW})`);
          await pg.sql(TRICKY_INSERT, [6, ...TRICKY_VALUES]);
        }
        return p.committed.some((d) => d.id === 6);
      },
    });
    const byId = new Map(session.committed.map((d) => [d.id as number, d]));
    for (const id of [1, 3]) {
      const doc = byId.get(id)!;
      expect(doc, `row ${id}`).toMatchObject(EXPECTED);
      expect(doc.c_generated).toBeUndefined();
    }
    for (const id of [2, 4]) expect(byId.get(id), `row ${id}`).toMatchObject(SPECIAL_EXPECTED);
    for (const id of [5, 6]) expect(byId.get(id), `row ${id}`).toMatchObject(TRICKY_EXPECTED);
    // Backfilled rows (read with COPY, written from bytes) and replicated ones (pgoutput, strings)
    // are the same bytes but for _meta and the key.
    const columns = (id: number) => {
      const line = lines.find((l) => l.trimEnd().endsWith(`"id":${id}}}}`))!;
      return line.replace(/"_meta":\{"op":"c","source":\{.*?\}\},/, "").replace(/,"id":\d+\}\}\}\s*$/, "");
    };
    for (const [backfilled, replicated] of [[1, 3], [2, 4], [5, 6]] as const) expect(columns(backfilled), `rows ${backfilled} and ${replicated}`).toBe(columns(replicated));
    // int8 keeps all 64 bits (JSON.parse would round them).
    expect(lines.filter((l) => l.includes(`"c_int8":-9223372036854775808`))).toHaveLength(2);
    expect(lines.filter((l) => l.includes(`"c_int8":9223372036854775807`))).toHaveLength(2);
    const backfilled = byId.get(1)!._meta;
    const replicated = byId.get(3)!._meta;
    expect(backfilled).toEqual({ op: "c", source: { schema: "test", snapshot: true, table: "types", loc: [-1, 0, 0] } });
    expect(replicated.op).toBe("c");
    expect(Object.keys(replicated.source)).toEqual(["ts_ms", "schema", "table", "loc", "txid"]);
    // Keys sorted bytewise, `_meta` among them (after upper case, before lower case).
    expect(Object.keys(byId.get(3) as Doc)[0]).toBe("_meta");
  });

  it("keys a table without a primary key by a NOT NULL unique index, else by the WAL location, and backfills the keyless one by CTID ranges", async () => {
    await pg.sql(`CREATE TABLE test.indexed (code text NOT NULL, n int, note text)`);
    await pg.sql(`CREATE UNIQUE INDEX indexed_code ON test.indexed (code)`);
    await pg.sql(`CREATE TABLE test.keyless (n int, note text)`);
    await pg.sql(`INSERT INTO test.keyless SELECT g, 'note ' || g FROM generate_series(1, 2500) g`);
    await createPublication(pg, "pub_keys", ["test.indexed", "test.keyless"]);
    const config = endpointConfig(pg, { publicationName: "pub_keys", slotName: "slot_keys", backfill_chunk_size: 1000 });
    const { response } = await unary({ discover: { connectorType: "LOCAL", config } });
    const [indexed, keyless] = (response!.discovered as { bindings: (Parameters<typeof bindingOf>[0] & { isFallbackKey?: boolean })[] }).bindings;
    expect(indexed).toMatchObject({ recommendedName: "test/indexed", key: ["/code"], isFallbackKey: true, resourceConfig: { namespace: "test", stream: "indexed" } });
    expect(keyless).toMatchObject({ recommendedName: "test/keyless", key: ["/_meta/source/loc/0", "/_meta/source/loc/1", "/_meta/source/loc/2"], isFallbackKey: true, resourceConfig: { mode: "Without Primary Key" } });

    let changed = false;
    const session = await runSession({
      config,
      bindings: [bindingOf(keyless!)],
      state: {},
      until: async (p) => {
        const state = (p.state.bindingStateV1 as Record<string, { mode: string; key_columns: unknown }> | undefined)?.["test%2Fkeyless"];
        if (state?.mode === "Active" && !changed) {
          changed = true;
          await pg.sql(`INSERT INTO test.keyless VALUES (9999, 'late')`);
        }
        return p.committed.some((d) => d.n === 9999);
      },
    });
    const backfilled = session.committed.filter((d) => d._meta.source.snapshot);
    expect(backfilled.map((d) => d.n as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    expect(new Set(backfilled.map((d) => JSON.stringify(d._meta.source.loc))).size).toBe(2500);
    const late = session.committed.find((d) => d.n === 9999)!;
    expect(late._meta.op).toBe("c");
    expect((late._meta.source.loc as number[]).every((x) => x > 0)).toBe(true);
  });

  it("answers spec as Estuary's connector does", async () => {
    const { response } = await unary({ spec: { connectorType: "LOCAL", config: {} } });
    await expect(JSON.stringify(response, null, 2) + "\n").toMatchFileSnapshot("../snapshots/spec.json");
    expect(response).toMatchObject({ spec: { protocol: 3032023, documentationUrl: "https://go.estuary.dev/source-postgresql", resourcePathPointers: ["/namespace", "/stream"] } });
  });
});
