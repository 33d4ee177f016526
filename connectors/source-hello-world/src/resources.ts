import { defineResource } from "flowcap";
import { dueGreetings, greeting } from "./api.js";
import { greetingSchema, type EndpointConfig, type GreetingState } from "./models.js";

/**
 * The one resource: greetings at `config.rate` per second, counting on from the committed state.
 *
 * A raw `defineResource`, not an incremental resource: there is no source to poll here, the
 * greetings are made on a clock. An incremental resource polls a log every `interval` and would
 * turn the steady rate into a burst per interval, and its state (`{"inc": {"cursor": N}}`)
 * would replace the `{"count": N}` that `flowcap preview --initial-state` examples use.
 */
export function greetings(config: EndpointConfig) {
  return defineResource({
    name: "greetings",
    key: ["/count"],
    schema: greetingSchema,
    initialState: { count: 0 } as GreetingState,
    async *capture(ctx) {
      let count = ctx.state.count;
      const start = Date.now();
      let sent = 0;
      ctx.log.info("producing greetings", { rate: config.rate, from: count + 1 });
      while (!ctx.stopping.aborted) {
        const due = dueGreetings(config.rate, Date.now() - start, sent);
        if (due <= 0) {
          // Sleep until the next greeting is due.
          const nextAtMs = ((sent + 1) * 1000) / config.rate;
          if (!(await ctx.sleep(nextAtMs - (Date.now() - start)))) return;
          continue;
        }
        const now = new Date();
        for (let i = 0; i < due; i++) yield greeting(++count, now);
        sent += due;
        yield ctx.checkpoint({ count });
      }
    },
  });
}
