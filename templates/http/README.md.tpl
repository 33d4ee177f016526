# <% name %>

<% title %>: a capture connector for [Estuary Flow](https://estuary.dev) reading an HTTP API with
<%#apiKey%>an API key<%/apiKey%><%#bearer%>a bearer token<%/bearer%><%#basic%>HTTP Basic auth<%/basic%><%#oauth2%>OAuth2<%/oauth2%>, built with [flowcap](https://github.com/flowcap/flowcap).

## Configure

| Field | Required | Default | What |
|---|---|---|---|
<%#apiKey%>
| `api_key` | yes | | The API key, sent as `X-API-Key` (secret: never logged) |
<%/apiKey%>
<%#bearer%>
| `access_token` | yes | | A personal access token, sent as `Authorization: Bearer` (secret: never logged) |
<%/bearer%>
<%#basic%>
| `username` | yes | | The API user, sent with the password as HTTP Basic auth |
| `password` | yes | | Its password (secret: never logged) |
<%/basic%>
<%#oauth2%>
| `credentials` | yes | | Filled by Flow's OAuth sign-in: `client_id`, `client_secret`, `refresh_token` (all secret) |
| `token_url` | no | `https://auth.example.com/oauth/token` | The token endpoint used to refresh access tokens |
<%/oauth2%>
| `base_url` | no | `https://api.example.com` | Base URL of the API |
| `start_date` | no | every record | Backfill only the records updated at or after this time (RFC 3339) |

Bindings take `{ "name": "<% resource %>" }`, and optionally `interval` (how often to poll for changes:
`PT1M` by default, `30s`, `PT5M`) and `schedule` (a cron expression, in UTC, on which to run the
backfill again).

## How it captures

`src/resources.ts` declares `<% resource %>` as an incremental resource with a backfill:

- **Incremental**: every `interval`, it reads the records updated at or after its cursor (the last
  `updated_at` it committed), page by page, and commits each page with the `updated_at` of its last
  record. Records that share the cursor value are read again and dropped, never lost.
- **Backfill**: from the first run, concurrently, it pages through the records updated before the
  time the binding started, committing each page with the cursor of the next one. A restart
  resumes at that page; once done, its state is removed.
- **State**, under `bindingStateV1["<% resource %>"]`: `{ "inc": { "cursor": {"$date": "..."}, "seen": [...] },
  "backfill": { "cutoff": {"$date": "..."}, "next": "<page cursor>" } }`.
- **Re-backfill**: bumping the binding's backfill counter in Flow starts both over, with nothing
  of the old state.

Adapt `src/api.ts` (the API's path, parameters and pagination) and `src/models.ts` (the config and
the record's schema) to your API<%#oauth2%>, and `src/oauth.ts` to your provider (its endpoints and
scopes)<%/oauth2%>.

## Run it locally

`test.flow.yaml` points at `mock/server.ts`, a stand-in for the API on 127.0.0.1:18765 (built on
`flowcap/testing`'s fixture server), so everything runs offline:

```sh
npm install
npm test              # build; spec and discover snapshots, backfill, changes, resume, conformance suite
npm start             # preview the capture against the mock, which changes a record every 2 s (Ctrl-C stops it)
npm run check         # flowcap check against the mock
<%#oauth2%>
npm run lint:oauth    # flowcap oauth lint: the oauth2 block as Flow's host will use it
<%/oauth2%>
npm run bundle        # one self-contained file: dist/<% name %>.mjs
```

`test/connector.test.ts` runs the connector in-process with `flowcap/testing`'s
`createConnectorHarness` against the mock: it checks `snapshots/spec.json` and
`snapshots/discover.json` (after an intended change, `UPDATE_SNAPSHOTS=1 npm test` rewrites them),
a backfill and the changes after it, a backfill resumed from its state, and that no credential
shows in a log line.

<%#oauth2%>
For the real API, set `base_url` and `token_url` in `test.flow.yaml`, then sign in once:

```sh
export FLOWCAP_CLIENT_SECRET=...      # never on the command line
npx flowcap oauth --source test.flow.yaml --client-id <your client id> --write
```

It opens the provider's sign-in page, catches the redirect on http://localhost:16963/ (register it
with your OAuth app), exchanges the code with the connector's own templates and writes the
credentials into `test.flow.yaml`.
<%/oauth2%>
<%^oauth2%>
For the real API, set `base_url` and the credentials in `test.flow.yaml`, and `npm start`.
<%/oauth2%>

## Ship it

Build the image with the Dockerfile of the flowcap repository, or bundle with `npm run bundle` and
run `node --enable-source-maps dist/<% name %>.mjs` in an image labelled
`FLOW_RUNTIME_PROTOCOL=capture` and `FLOW_RUNTIME_CODEC=json`.
