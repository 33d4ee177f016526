# <% name %>

<% title %>: a capture connector for [Estuary Flow](https://estuary.dev) reading an HTTP API with
OAuth2, built with [flowcap](https://github.com/flowcap/flowcap).

## Configure

| Field | Required | Default | What |
|---|---|---|---|
| `credentials` | yes | | Filled by Flow's OAuth sign-in: `client_id`, `client_secret`, `refresh_token` (all secret) |
| `base_url` | no | `https://api.example.com` | Base URL of the API |
| `token_url` | no | `https://auth.example.com/oauth/token` | The token endpoint used to refresh access tokens |

Bindings take `{ "name": "<% resource %>" }`; each binding's state is `{ "after": <cursor> }`.

Adapt `src/oauth.ts` (the provider's endpoints and scopes) and `src/api.ts` (the API's paths and
pagination) to your API.

## Run it locally

`test.flow.yaml` points at `mock/server.mjs`, a stand-in for the provider and the API on
127.0.0.1:18765, so everything runs offline:

```sh
npm install
npm test              # build; oauth lint, conformance suite and a two-session preview against the mock
npm start             # preview the capture against the mock (Ctrl-C stops it)
npm run check         # flowcap check against the mock
npm run lint:oauth    # flowcap oauth lint: the oauth2 block as Flow's host will use it
npm run bundle        # one self-contained file: dist/<% name %>.mjs
```

For the real API, set `base_url` and `token_url` in `test.flow.yaml`, then sign in once:

```sh
export FLOWCAP_CLIENT_SECRET=...      # never on the command line
npx flowcap oauth --source test.flow.yaml --client-id <your client id> --write
```

It opens the provider's sign-in page, catches the redirect on http://localhost:16963/ (register it
with your OAuth app), exchanges the code with the connector's own templates and writes the
credentials into `test.flow.yaml`.

## Ship it

Build the image with the Dockerfile of the flowcap repository, or bundle with `npm run bundle` and
run `node --enable-source-maps dist/<% name %>.mjs` in an image labelled
`FLOW_RUNTIME_PROTOCOL=capture` and `FLOW_RUNTIME_CODEC=json`.
