import { defineResource } from "flowcap";
import type { Api } from "./api.js";
import { <% resourceCamel %>Schema, type <% resourceType %>State } from "./models.js";

/** How long to wait before asking for more once all pages are read. */
const POLL_INTERVAL_MS = 30_000;

/** <% resourceTitle %>: pages committed with the cursor of the next one, so a restart resumes there. */
export function <% resourceCamel %>(api: Api) {
  return defineResource({
    name: "<% resource %>",
    key: ["/id"],
    schema: <% resourceCamel %>Schema,
    initialState: { after: "" } as <% resourceType %>State,
    async *capture(ctx) {
      let after = ctx.state.after;
      while (!ctx.stopping.aborted) {
        const page = await api.<% resourceCamel %>(after, ctx.stopping);
        yield* page.results;
        if (page.next) after = page.next;
        yield ctx.checkpoint({ after });
        if (!page.next && !(await ctx.sleep(POLL_INTERVAL_MS))) return;
      }
    },
  });
}
