# Run with `npm start` (flowcap preview) or `npm run check` (the conformance suite).
import:
  - acmeCo/flow.yaml

captures:
  acmeCo/<% name %>:
    endpoint:
      local:
        command: [node, dist/main.js]
        config:
          api_key: replace-me
          page_size: 50
    bindings:
      - resource:
          stream: <% resource %>
          replication_method: INCREMENTAL
          replication_key: id
        target: acmeCo/<% resource %>
