# Points at the mock API in mock/server.mjs (`npm start` and `npm run check` start it). For the
# real API, set base_url and token_url, and get credentials with:
#   FLOWCAP_CLIENT_SECRET=... npx flowcap oauth --source test.flow.yaml --client-id <id> --write
import:
  - acmeCo/flow.yaml

captures:
  acmeCo/<% name %>:
    endpoint:
      local:
        command: [node, dist/main.js]
        config:
          base_url: http://127.0.0.1:18765
          token_url: http://127.0.0.1:18765/oauth/token
          credentials:
            credentials_title: OAuth Credentials
            client_id: demo-client
            client_secret: demo-secret
            refresh_token: demo-refresh-token
    bindings:
      - resource:
          name: <% resource %>
        target: acmeCo/<% resource %>
