import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath, haveSharedFixtures } from "../../../test/helpers/fixtures.js";
import { RecordSpan, scanRecord, spliceMeta } from "./recordScanner.js";

const span = new RecordSpan();
function scan(line: string) {
  const bytes = Buffer.from(line);
  if (!scanRecord(bytes, span)) return undefined;
  return { stream: span.stream, namespace: span.namespace, data: bytes.toString("utf8", span.dataStart, span.dataEnd) };
}

describe("scanRecord", () => {
  it("takes a line behind the last RECORD's envelope by comparing it, and checks the rest as a whole scan does", () => {
    const s = new RecordSpan();
    const at = (line: string) => {
      const bytes = Buffer.from(line);
      return scanRecord(bytes, s) ? [s.stream, s.namespace, bytes.toString("utf8", s.dataStart, s.dataEnd), s.hasMeta] : false;
    };
    const head = '{"type": "RECORD", "record": {"stream": "users", "data": ';
    expect(at(`${head}{"id": 1}, "emitted_at": 1}}`)).toEqual(["users", null, '{"id": 1}', false]);
    expect(s.prefix.toString()).toBe(head);
    // The same envelope: only data and what follows it are walked, and checked.
    expect(at(`${head}{"id": 2, "_meta": {}}, "emitted_at": 2, "extra": [1, {"a": "}"}]}}`)).toEqual(["users", null, '{"id": 2, "_meta": {}}', true]);
    for (const broken of [`${head}{"id": 3, "score": NaN}, "emitted_at": 3}}`, `${head}{"id": 3}, "emitted_at": 3}`, `${head}{"id": 3}, "emitted_at": 3}} x`, `${head}{"id": 3}} "emitted_at": 3}`, `${head}{"id": 3, "name": "cut`]) {
      expect(at(broken), broken).toBe(false);
    }
    // A member that names the record again after data: the whole scan decides (here: the namespace counts).
    expect(at(`${head}{"id": 4}, "namespace": "public", "emitted_at": 4}}`)).toEqual(["users", "public", '{"id": 4}', false]);
    expect(at(`${head}{"id": 5}, "stream": "orders"}}`)).toEqual(["orders", null, '{"id": 5}', false]);
    expect(at(`${head}{"id": 6}, "data": {"id": 7}}}`)).toBe(false); // two data members: parsed, as JSON.parse reads them
    expect(at(`${head}{"id": 8}}, "type": "STATE"}`)).toBe(false);
    // Another line in between does not change what the prefix names.
    expect(at('{"type": "RECORD", "record": {"stream": "other", "data": {"id": 9}, "emitted_at": 9}')).toBe(false);
    expect(at(`${head}{"id": 10}, "emitted_at": 10}}`)).toEqual(["users", null, '{"id": 10}', false]);
    // faros-airbyte-cdk's order: the type comes after the record, and must.
    const faros = '{"record": {"stream": "s", "data": ';
    expect(at(`${faros}{"a": 1}}, "type": "RECORD"}`)).toEqual(["s", null, '{"a": 1}', false]);
    expect(s.prefix.toString()).toBe(faros);
    expect(at(`${faros}{"a": 2}}, "type": "RECORD"}`)).toEqual(["s", null, '{"a": 2}', false]);
    expect(at(`${faros}{"a": 3}}}`)).toBe(false);
    expect(at(`${faros}{"a": 4}}, "type": "LOG"}`)).toBe(false);
  });


  it("says of every line what a whole scan says, whatever came before it (random lines behind a repeated envelope)", () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n;
    const pick = <T>(xs: T[]) => xs[Math.floor(random(xs.length))]!;
    const heads = ['{"type": "RECORD", "record": {"stream": "users", "data": ', '{"type":"RECORD","record":{"namespace":"p","stream":"t","data":', '{"record": {"stream": "s", "data": '];
    const bodies = ['{"id": 1}', '{"a": [1, {"b": "}"}], "_meta": {"x": 1}}', "{}", '{"s": "\\"q\\""}', '{"n": 12345678901234567890}'];
    const tails = ['}, "emitted_at": 1}', '}, "emitted_at": 2, "namespace": "n"}', '}, "stream": "o"}', "}", '}, "data": {}}', '}}'];
    const ends = ["}", ', "type": "RECORD"}', ', "type": "STATE"}', "", "} ", ', "record": {}}'];
    const cached = new RecordSpan();
    for (let n = 0; n < 5000; n++) {
      let line = pick(heads) + pick(bodies) + pick(tails) + pick(ends);
      if (random(4) < 1) {
        const at = Math.floor(random(line.length));
        line = random(2) < 1 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + pick(["{", "}", '"', ",", "x", " "]) + line.slice(at);
      }
      const bytes = Buffer.from(line);
      const fresh = new RecordSpan();
      const expected = scanRecord(bytes, fresh) ? [fresh.stream, fresh.namespace, fresh.dataStart, fresh.dataEnd, fresh.hasMeta] : false;
      const got = scanRecord(bytes, cached) ? [cached.stream, cached.namespace, cached.dataStart, cached.dataEnd, cached.hasMeta] : false;
      expect(got, line).toEqual(expected);
    }
  });

  it("reads one line of a buffer of lines, never past its end", () => {
    // Each broken line would be whole if the scan ran on into the next one.
    const broken = ['{"type":"RECORD","record":{"stream":"a","data":{"x":"cut', '{"type":"RECORD","record":{"stream":"a","data":{"x":1}', '{"type":"RECORD","record":{"stream":"a","data":{"x":1},"emitted_at":'];
    const good = '{"type":"RECORD","record":{"stream":"b","data":{"y":2}}}';
    for (const line of broken) {
      const buf = Buffer.from(`${line}\n"}}}}\n${good}\n`);
      expect(scanRecord(buf, span, 0, line.length), line).toBe(false);
      const start = line.length + 7;
      expect(scanRecord(buf, span, start, start + good.length)).toBe(true);
      expect([span.stream, buf.toString("utf8", span.dataStart, span.dataEnd)]).toEqual(["b", '{"y":2}']);
      // A line's trailing `\r` is whitespace.
      expect(scanRecord(Buffer.from(`${good}\r\n`), span, 0, good.length + 1)).toBe(true);
    }
  });

  it("finds stream, namespace and the exact data text, whatever the key order and spacing", () => {
    expect(scan('{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}')).toEqual({ stream: "users", namespace: null, data: '{"id":1}' });
    // faros-airbyte-cdk order: record first, type last.
    expect(scan('{"record":{"stream":"s","emitted_at":1,"data":{"a":[1,{"b":"}"}]}},"type":"RECORD"}')).toEqual({ stream: "s", namespace: null, data: '{"a":[1,{"b":"}"}]}' });
    // Python's json.dumps spacing, and whitespace inside data.
    expect(scan('{"type": "RECORD", "record": {"namespace": "public", "stream": "t", "data": { "data" : "foo bar" }, "emitted_at": 2}}')).toEqual({
      stream: "t",
      namespace: "public",
      data: '{ "data" : "foo bar" }',
    });
    expect(scan('  {"type":"RECORD","record":{"stream":"u","namespace":null,"data":{}}}  ')).toEqual({ stream: "u", namespace: null, data: "{}" });
  });

  it("decodes a repeated stream name once, and a changed one again", () => {
    expect(scan('{"type":"RECORD","record":{"stream":"a","data":{}}}')?.stream).toBe("a");
    expect(scan('{"type":"RECORD","record":{"stream":"a","data":{}}}')?.stream).toBe("a");
    expect(scan('{"type":"RECORD","record":{"stream":"b","data":{}}}')?.stream).toBe("b");
    expect(scan('{"type":"RECORD","record":{"stream":"é","data":{}}}')?.stream).toBe("é");
  });

  it("keeps strings with escapes, quotes, braces and non-ASCII as they are, and decodes an escaped stream name", () => {
    const data = String.raw`{"q":"a \"quoted\" {brace} [x] \\","u":"\u00e9 é 😀","k\"ey":1}`;
    expect(scan(`{"type":"RECORD","record":{"stream":"str\\u0065am\\"x","data":${data}}}`)).toEqual({ stream: 'stream"x', namespace: null, data });
  });

  it("passes integers beyond 2^53 through byte for byte (JSON.parse would round them)", () => {
    const line = '{"type":"RECORD","record":{"stream":"s","data":{"_ts":1660025892365542190,"f":1e400}}}';
    expect(scan(line)?.data).toBe('{"_ts":1660025892365542190,"f":1e400}');
  });

  it("declines whatever is not a plain RECORD, leaving it to JSON.parse", () => {
    for (const line of [
      '{"type":"STATE","state":{"data":{}}}',
      '{"type":"LOG","log":{"level":"INFO","message":"hi"}}',
      '{"record":{"stream":"s","data":{}}}', // no type
      '{"type":"RECORD"}', // no record
      '{"type":"RECORD","record":{"data":{}}}', // no stream
      '{"type":"RECORD","record":{"stream":"s"}}', // no data
      '{"type":"RECORD","record":{"stream":"s","data":[1]}}', // data not an object
      '{"type":"RECORD","record":{"stream":"s","data":null}}',
      '{"type":"RECORD","record":{"stream":1,"data":{}}}',
      "not json",
      "",
      "[]",
    ]) {
      expect(scan(line), line).toBeUndefined();
    }
  });

  it("rejects broken structure instead of passing it on", () => {
    for (const line of [
      '{"type":"RECORD","record":{"stream":"s","data":{"a":1}', // truncated (a crash mid-line)
      '{"type":"RECORD","record":{"stream":"s","data":{"a":[1}}}}', // mismatched brackets
      '{"type":"RECORD","record":{"stream":"s","data":{"a":"unterminated}}}',
      '{"type":"RECORD","record":{"stream":"s","data":{"a":undefined}}}', // not a JSON literal
      '{"type":"RECORD","record":{"stream":"s","data":{"a":1}}} trailing',
      '{"type":"RECORD","record":{"stream":"s","data":{"a":1}}}}',
    ]) {
      expect(scan(line), line).toBeUndefined();
    }
  });

  it("takes nesting of any depth, and still checks its brackets", () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    for (const n of [30, 31, 32, 200]) expect(scan(`{"type":"RECORD","record":{"stream":"s","data":{"a":${deep(n)},"big":12345678901234567890}}}`)?.data).toBe(`{"a":${deep(n)},"big":12345678901234567890}`);
    expect(scan(`{"type":"RECORD","record":{"stream":"s","data":{"a":${"[".repeat(40)}${"]".repeat(39)}}}}}`)).toBeUndefined();
    expect(scan(`{"type":"RECORD","record":{"stream":"s","data":{"a":${"[".repeat(40)}}${"]".repeat(39)}}}}`)).toBeUndefined();
  });
});

describe("spliceMeta", () => {
  it("adds _meta as the last property, also to an empty object and before trailing whitespace", () => {
    const meta = '{"op":"u","row_id":7}';
    expect(JSON.parse(spliceMeta('{"a":1}', 0, 7, meta))).toEqual({ a: 1, _meta: { op: "u", row_id: 7 } });
    expect(spliceMeta("{}", 0, 2, meta)).toBe('{"_meta":{"op":"u","row_id":7}}');
    expect(spliceMeta("{ }", 0, 3, meta)).toBe('{ "_meta":{"op":"u","row_id":7}}');
    expect(JSON.parse(spliceMeta('x{ "a" : 1 \n}y', 1, 13, meta))).toEqual({ a: 1, _meta: { op: "u", row_id: 7 } });
  });
});

describe.runIf(haveSharedFixtures)("scanRecord on every recorded Airbyte stream", () => {
  it("agrees with JSON.parse on every line of airbyte/records", () => {
    const dir = fixturePath("airbyte", "records");
    let records = 0;
    for (const file of readdirSync(dir)) {
      for (const raw of readFileSync(`${dir}/${file}`, "utf8").split("\n")) {
        if (!raw.trim()) continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          expect(scan(raw), raw).toBeUndefined(); // a comment line: a log line, never a record
          continue;
        }
        // Bare record lines are what a source wraps in a RECORD envelope.
        const line = parsed.type === undefined && "stream" in parsed ? `{"type":"RECORD","record":${raw}}` : raw;
        if (line !== raw) parsed = { type: "RECORD", record: parsed };
        const got = scan(line);
        if (parsed.type !== "RECORD") {
          expect(got, `${file}: ${raw.slice(0, 80)}`).toBeUndefined();
          continue;
        }
        const record = parsed.record as { stream: string; namespace?: string; data: unknown };
        expect(got, `${file}: ${raw.slice(0, 80)}`).toBeDefined();
        expect(got!.stream).toBe(record.stream);
        expect(got!.namespace).toBe(record.namespace || null);
        expect(JSON.parse(got!.data)).toEqual(record.data);
        records++;
      }
    }
    expect(records).toBeGreaterThan(4000);
  });
});
