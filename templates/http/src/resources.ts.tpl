import { defineIncrementalResource, type PaginationCursor } from "flowcap";
import type { Api } from "./api.js";
import { <% resourceCamel %>Schema } from "./models.js";

/**
 * <% resourceTitle %>, captured incrementally by `updated_at`, with a backfill of what came before.
 *
 * - `fetchChanges` reads the records updated at or after the committed cursor and yields each
 *   page's records, then the `updated_at` of its last one: Flow commits them together. The
 *   capture polls again every `interval` (a binding may set its own).
 * - `fetchPage` backfills the records updated before the cutoff (the time the binding started),
 *   concurrently from the first run; each page's records are committed with the cursor of the
 *   next page, so a restart resumes there. When it returns without one, the backfill is done.
 * - `cursorField` lets the layer drop the records an inclusive poll returns again, and the
 *   backfill's records that are newer than its cutoff (the incremental capture has those).
 * - Bumping the binding's backfill counter in Flow starts both over.
 */
export function <% resourceCamel %>(api: Api) {
  return defineIncrementalResource({
    name: "<% resource %>",
    key: ["/id"],
    schema: <% resourceCamel %>Schema,
    cursorField: "/updated_at",
    interval: "PT1M",
    async *fetchChanges(since, ctx) {
      for await (const page of api.changedSince(since, ctx.stopping)) {
        yield* page.items;
        const last = page.items.at(-1);
        if (last) yield new Date(last.updated_at);
      }
    },
    async *fetchPage(page: PaginationCursor | undefined, cutoff, ctx) {
      for await (const { items, next } of api.updatedBefore(cutoff, page, ctx.stopping)) {
        yield* items;
        if (next !== undefined) yield next;
      }
    },
  });
}
