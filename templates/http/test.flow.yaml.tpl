# Points at the mock API of mock/server.ts (`npm start` and `npm run check` start it). For the
# real API, set base_url<%#oauth2%> and token_url<%/oauth2%> and the credentials<%#oauth2%>, which you get with:
#   FLOWCAP_CLIENT_SECRET=... npx flowcap oauth --source test.flow.yaml --client-id <id> --write<%/oauth2%>.
import:
  - acmeCo/flow.yaml

captures:
  acmeCo/<% name %>:
    endpoint:
      local:
        command: [node, dist/main.js]
        config:
          base_url: http://127.0.0.1:18765
<%#apiKey%>
          api_key: demo-api-key-3c9f1e
<%/apiKey%>
<%#bearer%>
          access_token: demo-access-token-3c9f1e
<%/bearer%>
<%#basic%>
          username: demo-user
          password: demo-password-3c9f1e
<%/basic%>
<%#oauth2%>
          token_url: http://127.0.0.1:18765/oauth/token
          credentials:
            credentials_title: OAuth Credentials
            client_id: demo-client
            client_secret: demo-secret-3c9f1e
            refresh_token: demo-refresh-token-3c9f1e
<%/oauth2%>
    bindings:
      - resource:
          name: <% resource %>
          # Poll for changes every 10 seconds rather than the resource's default minute.
          interval: 10s
        target: acmeCo/<% resource %>
