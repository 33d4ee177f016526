import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath, haveSharedFixtures } from "../../../test/helpers/fixtures.js";
import { scanSingerRecord, SingerRecordSpan } from "./recordScanner.js";

const span = new SingerRecordSpan();
function scan(line: string) {
  const bytes = Buffer.from(line);
  if (!scanSingerRecord(bytes, span)) return undefined;
  return { stream: span.stream, version: span.version, record: bytes.toString("utf8", span.recordStart, span.recordEnd), hasMeta: span.hasMeta };
}

describe("scanSingerRecord", () => {
  it("takes a line behind the last RECORD's envelope by comparing it, and checks the rest as a whole scan does", () => {
    const s = new SingerRecordSpan();
    const at = (line: string) => {
      const bytes = Buffer.from(line);
      return scanSingerRecord(bytes, s) ? [s.stream, s.version, bytes.toString("utf8", s.recordStart, s.recordEnd), s.hasMeta] : false;
    };
    const head = '{"type": "RECORD", "stream": "users", "record": ';
    expect(at(`${head}{"id": 1}, "version": 7, "time_extracted": "2024-01-01T00:00:00Z"}`)).toEqual(["users", 7, '{"id": 1}', false]);
    expect(s.prefix.toString()).toBe(head);
    expect(at(`${head}{"id": 2, "_meta": 1}, "version": 8}`)).toEqual(["users", 8, '{"id": 2, "_meta": 1}', true]);
    expect(at(`${head}{"id": 3}}`)).toEqual(["users", undefined, '{"id": 3}', false]);
    for (const broken of [`${head}{"id": 4, "x": NaN}}`, `${head}{"id": 4}, "version": "v"}`, `${head}{"id": 4}`, `${head}{"id": 4}} x`, `${head}{"id": 4}, "type": "STATE"}`]) {
      expect(at(broken), broken).toBe(false);
    }
    expect(at(`${head}{"id": 5}, "stream": "orders"}`)).toEqual(["orders", undefined, '{"id": 5}', false]);
    expect(at(`${head}{"id": 6}}`)).toEqual(["users", undefined, '{"id": 6}', false]);
    // A version in the envelope before the record is part of the prefix.
    const versioned = '{"type":"record","stream":"a","version":3,"record":';
    expect(at(`${versioned}{"k":1}}`)).toEqual(["a", 3, '{"k":1}', false]);
    expect(at(`${versioned}{"k":2}}`)).toEqual(["a", 3, '{"k":2}', false]);
    expect(at(`${versioned}{"k":3},"version":4}`)).toEqual(["a", 4, '{"k":3}', false]); // the last version, as JSON.parse reads it
  });

  it("says of every line what a whole scan says, whatever came before it (random lines behind a repeated envelope)", () => {
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n;
    const pick = <T>(xs: T[]) => xs[Math.floor(random(xs.length))]!;
    const heads = ['{"type": "RECORD", "stream": "users", "record": ', '{"type":"record","stream":"t","version":2,"record":', '{"stream": "s", "record": '];
    const bodies = ['{"id": 1}', '{"a": [1, {"b": "}"}], "_meta": {"x": 1}}', "{}", '{"n": 12345678901234567890}'];
    const tails = ["}", ', "version": 1}', ', "version": null, "time_extracted": "t"}', ', "stream": "o"}', ', "type": "RECORD"}', ', "record": {}}', ', "version": 1.5e3}', "} ", ""];
    const cached = new SingerRecordSpan();
    for (let n = 0; n < 5000; n++) {
      let line = pick(heads) + pick(bodies) + pick(tails);
      if (random(4) < 1) {
        const at = Math.floor(random(line.length));
        line = random(2) < 1 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + pick(["{", "}", '"', ",", "x", " "]) + line.slice(at);
      }
      const bytes = Buffer.from(line);
      const fresh = new SingerRecordSpan();
      const expected = scanSingerRecord(bytes, fresh) ? [fresh.stream, fresh.version, fresh.recordStart, fresh.recordEnd, fresh.hasMeta] : false;
      const got = scanSingerRecord(bytes, cached) ? [cached.stream, cached.version, cached.recordStart, cached.recordEnd, cached.hasMeta] : false;
      expect(got, line).toEqual(expected);
    }
  });


  it("reads one line of a buffer of lines, never past its end", () => {
    const broken = ['{"type":"RECORD","stream":"a","record":{"x":"cut', '{"type":"RECORD","stream":"a","record":{"x":1}', '{"type":"RECORD","stream":"a","record":{"x":1},"version":'];
    const good = '{"type":"RECORD","stream":"b","record":{"y":2}}';
    for (const line of broken) {
      const buf = Buffer.from(`${line}\n"}}}1}\n${good}\n`);
      expect(scanSingerRecord(buf, span, 0, line.length), line).toBe(false);
      const start = line.length + 8;
      expect(scanSingerRecord(buf, span, start, start + good.length)).toBe(true);
      expect([span.stream, buf.toString("utf8", span.recordStart, span.recordEnd)]).toEqual(["b", '{"y":2}']);
    }
  });

  it("finds stream, version and the exact record text, whatever the case of the type, the key order and the spacing", () => {
    expect(scan('{"type": "RECORD", "stream": "users", "record": {"id": 1}, "version": 3, "time_extracted": "2024-01-01T00:00:00Z"}')).toEqual({
      stream: "users",
      version: 3,
      record: '{"id": 1}',
      hasMeta: false,
    });
    expect(scan('{"record":{"a":[1,{"b":"}"}]},"stream":"s","type":"record"}')).toEqual({ stream: "s", version: undefined, record: '{"a":[1,{"b":"}"}]}', hasMeta: false });
    expect(scan('  {"type":"Record","stream":"s","record":{},"version":null}  ')?.version).toBeUndefined();
    expect(scan('{"type":"RECORD","stream":"s","record":{"_meta":{"x":1},"id":2}}')?.hasMeta).toBe(true);
  });

  it("reads keys written with escapes, and a stream name with escapes", () => {
    expect(scan('{"t\\u0079pe":"RECORD","str\\u0065am":"s\\"1","re\\u0063ord":{"k":1}}')).toEqual({ stream: 's"1', version: undefined, record: '{"k":1}', hasMeta: false });
  });

  it("passes integers beyond 2^53 and nesting of any depth through byte for byte", () => {
    const deep = "[".repeat(64) + "]".repeat(64);
    const record = `{"id":99999999999999999999,"f":1e400,"d":${deep},"s":"\\u00e9 é"}`;
    expect(scan(`{"type":"RECORD","stream":"s","record":${record}}`)?.record).toBe(record);
  });

  it("declines what is not a well-formed RECORD, leaving it to the slow path", () => {
    for (const line of [
      '{"type":"STATE","value":{}}',
      '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":[]}',
      '{"stream":"s","record":{}}', // no type
      '{"type":"RECORD","record":{}}', // no stream
      '{"type":"RECORD","stream":"s"}', // no record
      '{"type":"RECORD","stream":"s","record":[1]}',
      '{"type":"RECORD","stream":1,"record":{}}',
      '{"type":"RECORD","stream":"s","record":{},"version":"7"}', // a version the slow path reads
      '{"type":"RECORD","stream":"s","record":{"a":1}', // truncated
      '{"type":"RECORD","stream":"s","record":{"a":[1}}}',
      '{"type":"RECORD","stream":"s","record":{}} trailing',
      "not json",
      "",
    ]) {
      expect(scan(line), line).toBeUndefined();
    }
  });
});

describe.runIf(haveSharedFixtures)("scanSingerRecord on every recorded Singer stream", () => {
  it("agrees with JSON.parse on every line of singer/streams", () => {
    const dir = fixturePath("singer", "streams");
    let records = 0;
    for (const file of readdirSync(dir)) {
      for (const raw of readFileSync(`${dir}/${file}`, "utf8").split("\n")) {
        if (!raw.trim()) continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          expect(scan(raw), raw.slice(0, 80)).toBeUndefined();
          continue;
        }
        const got = scan(raw);
        if (String(parsed.type).toUpperCase() !== "RECORD") {
          expect(got, `${file}: ${raw.slice(0, 80)}`).toBeUndefined();
          continue;
        }
        expect(got, `${file}: ${raw.slice(0, 80)}`).toBeDefined();
        expect(got!.stream).toBe(parsed.stream);
        expect(got!.version).toBe(parsed.version ?? undefined);
        expect(JSON.parse(got!.record)).toEqual(parsed.record);
        records++;
      }
    }
    expect(records).toBeGreaterThan(400);
  });
});
