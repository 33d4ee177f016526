import { defineResource } from "flowcap";
import { createApi } from "./api.js";
import { <% resourceCamel %>Schema, type EndpointConfig, type <% resourceType %>State } from "./models.js";

/** How long to wait before asking for more once all pages are read. */
const POLL_INTERVAL_MS = 30_000;

/** <% resourceTitle %>: pages committed with the cursor of the next one, so a restart resumes there. */
export function <% resourceCamel %>(config: EndpointConfig) {
  return defineResource({
    name: "<% resource %>",
    key: ["/id"],
    schema: <% resourceCamel %>Schema,
    initialState: { after: "" } as <% resourceType %>State,
    async *capture(ctx) {
      const api = createApi(config, ctx.log, ctx.stopping);
      let after = ctx.state.after;
      while (!ctx.stopping.aborted) {
        const page = await api.<% resourceCamel %>(after);
        yield* page.results;
        if (page.next) after = page.next;
        yield ctx.checkpoint({ after });
        if (!page.next && !(await ctx.sleep(POLL_INTERVAL_MS))) return;
      }
    },
  });
}
