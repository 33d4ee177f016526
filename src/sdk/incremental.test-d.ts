import { expectTypeOf, test } from "vitest";
import { defineIncrementalResource } from "./incremental.js";

const schema = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } as const;

test("the cursor type follows initialCursor, widened: 0 makes number cursors", () => {
  defineIncrementalResource({
    name: "events",
    key: ["/id"],
    schema,
    initialCursor: 0,
    async *fetchChanges(cursor) {
      expectTypeOf(cursor).toEqualTypeOf<number>();
      yield { id: 1 };
      yield cursor + 1;
    },
  });
});

test("a resource with a backfill defaults to Date cursors, and its cutoff is one", () => {
  defineIncrementalResource({
    name: "issues",
    key: ["/id"],
    schema,
    async *fetchChanges(since) {
      expectTypeOf(since).toEqualTypeOf<Date>();
      yield since;
    },
    async *fetchPage(page: string | undefined, cutoff) {
      expectTypeOf(cutoff).toEqualTypeOf<Date>();
      yield { id: 1 };
      if (page === undefined) yield "next";
    },
  });
});

test("an initialCursor function returning a Date makes Date cursors", () => {
  defineIncrementalResource({
    name: "issues",
    key: ["/id"],
    schema,
    initialCursor: () => new Date(0),
    async *fetchChanges(since) {
      expectTypeOf(since).toEqualTypeOf<Date>();
      yield since;
    },
    async *fetchPage(page: string | undefined, cutoff) {
      expectTypeOf(cutoff).toEqualTypeOf<Date>();
      if (page === undefined) yield "next";
    },
  });
});
