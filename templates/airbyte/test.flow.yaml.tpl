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
          page_size: 25
    bindings:
      - resource:
          stream: <% resource %>
          syncMode: incremental
          cursorField: [updated_at]
        target: acmeCo/<% resource %>
