// The cases of airbyte-to-flow's own Rust tests (`fix_document_schema.rs`, `remap.rs`,
// `normalize.rs`, `airbyte_source_interceptor.rs` at estuary/airbyte 1465a983e627c51f6f10a398048aafcdc21ccc84),
// restated against flowcap's implementation, plus the cases where flowcap departs on purpose.
import { describe, expect, it } from "vitest";
import { createDocumentNormalizer } from "./patchedDocuments.js";
import { atfRecommendedName, dateToDateTime, fixDocumentSchemaKeys, fixNonstandardAttributes, remapConfig, removeEnums, unmapConfig } from "./patchedSchema.js";
import { formatRfc3339, parseLooseDateTime } from "./looseDateTime.js";

describe("airbyte-to-flow's schema rules", () => {
  it("makes a key property required and non-null (test_fix_document_schema_keys_prop)", () => {
    expect(fixDocumentSchemaKeys({ properties: { id: { type: ["string", "null"] } } }, ["/id"], "s")).toEqual({ properties: { id: { type: "string" } }, required: ["id"] });
  });

  it("follows a nested key (test_fix_document_schema_keys_prop_deep)", () => {
    const schema = { properties: { doc: { type: ["object", "null"], properties: { id: { type: ["string", "null"] } } } } };
    expect(fixDocumentSchemaKeys(schema, ["/doc/id"], "s")).toEqual({
      properties: { doc: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } },
      required: ["doc"],
    });
  });

  it("fixes the key in $defs[<ref>] (test_fix_document_schema_ref_and_defs)", () => {
    const schema = { $defs: { test: { properties: { id: { type: ["string", "null"] } } } }, $ref: "test" };
    expect(fixDocumentSchemaKeys(schema, ["/id"], "s")).toEqual({ $defs: { test: { properties: { id: { type: "string" } }, required: ["id"] } }, $ref: "test" });
  });

  it("leaves a schema with allOf as it is (test_fix_document_schema_allOf)", () => {
    const schema = { $defs: { test: { properties: { id: { type: ["string", "null"] } } } }, allOf: [{ $ref: "test" }, { type: "object" }] };
    expect(fixDocumentSchemaKeys(schema, ["/id"], "s")).toEqual(schema);
  });

  it("removes null by swap-remove, as Rust's Vec::swap_remove does", () => {
    const fixed = fixDocumentSchemaKeys({ type: ["null", "object", "array"], properties: { id: { type: ["null", "integer", "string"] } } }, ["/id"], "s");
    expect(fixed.type).toEqual(["array", "object"]);
    expect((fixed.properties as { id: unknown }).id).toEqual({ type: ["string", "integer"] });
  });

  it("refuses a key the schema does not declare, and an array index, naming the stream and key", () => {
    expect(() => fixDocumentSchemaKeys({ properties: {} }, ["/subject"], "attribute_definitions")).toThrow(/stream "attribute_definitions", key \/subject: the document schema has no property "subject"/);
    expect(() => fixDocumentSchemaKeys({ properties: { a: { type: "array" } } }, ["/a/0"], "s")).toThrow(/array index \/0\//);
  });

  it("drops Airbyte's keywords and unknown formats (test_fix_nonstandard_jsonschema_attributes_multiple, _format_int32_int64)", () => {
    const schema = {
      type: ["object", "null"],
      airbyte_hidden: true,
      properties: {
        my_key: {
          type: ["object", "null"],
          properties: {
            group: { type: "array", items: { group: "x", type: "string", format: "date-time" } },
            airbyte_type: { type: "string", airbyte_type: "string", xml: {}, format: "double" },
            id: { type: ["string", "null"], group: "test", format: "base64" },
            n: { type: "string", format: "int64" },
          },
        },
      },
    };
    fixNonstandardAttributes(schema);
    expect(schema).toEqual({
      type: ["object", "null"],
      properties: {
        my_key: {
          type: ["object", "null"],
          properties: {
            group: { type: "array", items: { type: "string", format: "date-time" } },
            airbyte_type: { type: "string" },
            id: { type: ["string", "null"] },
            n: { type: "string", format: "integer" },
          },
        },
      },
    });
  });

  it("replaces enums by their values' types (test_remove_enums)", () => {
    const schema = {
      type: ["object", "null"],
      properties: {
        preDefinedType: { type: ["string"], enum: ["a", "b", "c", true] },
        allStrings: { enum: ["a", "b", "c"] },
        allIntegers: { enum: [123, 456] },
        mixedNumbers: { enum: [123, 4.56] },
        grabBag: { enum: [123, "456", true, { oh: "geez" }, []], "x-untouched-annotation": true },
      },
    };
    removeEnums(schema);
    expect(schema.properties).toEqual({
      preDefinedType: { type: ["string"] },
      allStrings: { type: "string" },
      allIntegers: { type: "integer" },
      mixedNumbers: { type: ["integer", "number"] },
      grabBag: { type: ["array", "boolean", "integer", "object", "string"], "x-untouched-annotation": true },
    });
  });

  it("turns format date into date-time (test_date_to_datetime)", () => {
    const schema = { type: ["object", "null"], properties: { x: { type: ["string"], format: "date" }, y: { format: "date-time" } } };
    dateToDateTime(schema);
    expect(schema.properties).toEqual({ x: { type: ["string"], format: "date-time" }, y: { format: "date-time" } });
  });

  it("names collections by dropping what Flow refuses (test_stream_to_recommended_name)", () => {
    expect(atfRecommendedName("Hello-World")).toBe("Hello-World");
    expect(atfRecommendedName("/&foo!/B ar// b+i-n.g /")).toBe("foo/Bar/bi-n.g");
  });

  it("remaps the config for the source and back (test_remap)", () => {
    const map = { "/credentials/client_id": "/app_id", "/credentials/client_secret": "/app_secret" };
    const source = remapConfig({ app_id: "id", app_secret: "secret", foo: "bar" }, map);
    expect(source).toEqual({ credentials: { client_id: "id", client_secret: "secret" }, foo: "bar" });
    expect(unmapConfig(source, map)).toEqual({ credentials: {}, app_id: "id", app_secret: "secret", foo: "bar" });
    expect(() => remapConfig({ foo: "bar" }, map)).toThrow(/spec.map.json: the config has nothing at \/app_id/);
  });
});

describe("airbyte-to-flow's record normalizations", () => {
  const schema = {
    type: "object",
    properties: {
      created: { type: "string", format: "date-time" },
      nested: { type: "object", properties: { x: { type: ["string", "null"], format: "date-time" } } },
    },
  };
  const normalize = (s: unknown, doc: Record<string, unknown>, entries = []) => {
    createDocumentNormalizer(s, entries)!(doc);
    return doc;
  };

  it("rewrites date-times as RFC 3339 (automatic_normalizations_rfc3339)", () => {
    expect(normalize(schema, { created: "2023-01-30 02:34:15", nested: { x: "2020-03-25T21:03:18.000+0000" } })).toEqual({ created: "2023-01-30T02:34:15Z", nested: { x: "2020-03-25T21:03:18Z" } });
    expect(normalize(schema, { created: "2023-01-30 02:34:15", nested: { x: "2019-03-18T16:40:23+0000" } })).toEqual({ created: "2023-01-30T02:34:15Z", nested: { x: "2019-03-18T16:40:23Z" } });
    expect(normalize(schema, { created: "2023-01-30 02:34:15", nested: { x: "2021-03-02T23:00:00" } })).toEqual({ created: "2023-01-30T02:34:15Z", nested: { x: "2021-03-02T23:00:00Z" } });
    expect(normalize(schema, { created: "2023-01-30", nested: { x: "2021-03-02" } })).toEqual({ created: "2023-01-30T00:00:00Z", nested: { x: "2021-03-02T00:00:00Z" } });
  });

  it("reads Unix seconds, milliseconds and fractional seconds, in arrays too", () => {
    const s = {
      type: "object",
      properties: {
        seconds: { type: "string", format: "date-time" },
        arr: { type: "array", items: { properties: { milliseconds: { format: "date-time" }, fractional_milliseconds: { format: "date-time" } } } },
      },
    };
    expect(normalize(s, { seconds: 1685098188, arr: [{ milliseconds: 1685098188123, fractional_milliseconds: 1685098188.123 }] })).toEqual({
      seconds: "2023-05-26T10:49:48Z",
      arr: [{ milliseconds: "2023-05-26T10:49:48.123Z", fractional_milliseconds: "2023-05-26T10:49:48.123Z" }],
    });
  });

  it("leaves RFC 3339 values, and values it cannot read, as they are", () => {
    expect(normalize(schema, { created: "2023-01-30T02:34:15.5-07:00", nested: { x: "not a date" } })).toEqual({ created: "2023-01-30T02:34:15.5-07:00", nested: { x: "not a date" } });
    expect(createDocumentNormalizer({ type: "object", properties: { a: { type: "string" } } })).toBeUndefined();
  });

  it("expands every array level, where the Rust code expands the last one (and panics on an array of date-times)", () => {
    const s = { properties: { a: { items: { properties: { b: { items: { format: "date-time" } } } } } } };
    expect(normalize(s, { a: [{ b: ["2023-01-30 02:34:15", 1685098188] }] })).toEqual({ a: [{ b: ["2023-01-30T02:34:15Z", "2023-05-26T10:49:48Z"] }] });
  });

  it("cuts a date-time to its date with .normalize.json (datetime_to_date)", () => {
    const entries = [{ pointer: "/properties/hs_latest_source_timestamp", normalization: "datetime_to_date" as const }];
    for (const [input, output] of [
      ["2023-03-05T15:41:54.565000+00:00", "2023-03-05"],
      ["2023-03-05", "2023-03-05"],
      ["hello", "hello"],
    ]) {
      expect(normalize({}, { some: "thing", properties: { hs_latest_source_timestamp: input } }, entries as never)).toEqual({ some: "thing", properties: { hs_latest_source_timestamp: output } });
    }
  });

  it("reads the date formats of dateparser that do not depend on the day it runs", () => {
    const cases: [string, string][] = [
      ["1511648546", "2017-11-25T22:22:26Z"],
      ["1620021848429", "2021-05-03T06:04:08.429Z"],
      ["1620024872717915000", "2021-05-03T06:54:32.717915Z"],
      ["Wed, 02 Jun 2021 06:31:39 PDT", "2021-06-02T13:31:39Z"],
      ["2019-11-29 08:08:05-08", "2019-11-29T16:08:05Z"],
      ["2021-05-02 23:31:36.0741-07", "2021-05-03T06:31:36.074100Z"],
      ["2014-04-26 05:24:37 PM", "2014-04-26T17:24:37Z"],
      ["2017-11-25 13:31:15 PST", "2017-11-25T21:31:15Z"],
      ["2014-04-26 13:13:44 +09:00", "2014-04-26T04:13:44Z"],
      ["2020-07-20+08:00", "2020-07-19T16:00:00Z"],
      ["May 25, 2021", "2021-05-25T00:00:00Z"],
      ["May 8, 2009 5:57:51 PM", "2009-05-08T17:57:51Z"],
      ["May 02, 2021 15:51:31 UTC", "2021-05-02T15:51:31Z"],
      ["oct 7, 70", "1970-10-07T00:00:00Z"],
      ["14 May 2019 19:11:40.164", "2019-05-14T19:11:40.164Z"],
      ["3/31/2014", "2014-03-31T00:00:00Z"],
      ["8/8/1965 01:00:01 PM", "1965-08-08T13:00:01Z"],
      ["2012/03/19 10:11:59.3186369", "2012-03-19T10:11:59.318636900Z"],
      ["08.21.71", "1971-08-21T00:00:00Z"],
      ["2014.03.30", "2014-03-30T00:00:00Z"],
      ["171113 14:14:20", "2017-11-13T14:14:20Z"],
      ["0045-01-02", "0045-01-02T00:00:00Z"],
    ];
    for (const [input, output] of cases) expect(formatRfc3339(parseLooseDateTime(input)!), input).toBe(output);
    for (const input of ["01:06:06", "May 6 at 9:24 PM", "2014年04月08日", "2021-02-30", "13/13/2014"]) expect(parseLooseDateTime(input), input).toBeUndefined();
  });
});
