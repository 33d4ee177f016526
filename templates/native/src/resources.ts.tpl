import { defineResource } from "flowcap";
import { fetchPage } from "./api.js";
import { <% resourceCamel %>Schema, type EndpointConfig, type <% resourceType %>State } from "./models.js";

/** How long to wait for new records once caught up. */
const POLL_INTERVAL_MS = 5_000;

/**
 * <% resourceTitle %>, captured incrementally: each page is committed with the id of its last
 * record, so a restarted capture continues after the last committed page.
 */
export function <% resourceCamel %>(config: EndpointConfig) {
  return defineResource({
    name: "<% resource %>",
    key: ["/id"],
    schema: <% resourceCamel %>Schema,
    initialState: { cursor: 0 } as <% resourceType %>State,
    async *capture(ctx) {
      let cursor = ctx.state.cursor;
      while (!ctx.stopping.aborted) {
        const page = await fetchPage(config, cursor);
        if (page.length === 0) {
          if (!(await ctx.sleep(POLL_INTERVAL_MS))) return;
          continue;
        }
        yield* page;
        cursor = page.at(-1)!.id;
        yield ctx.checkpoint({ cursor });
      }
    },
  });
}
