# <% name %>

<% title %>: a capture connector for [Estuary Flow](https://estuary.dev), built with
[flowcap](https://github.com/flowcap/flowcap).

## Configure

| Field | Required | Default | What |
|---|---|---|---|
| `api_key` | yes | | Key for the source's API (secret: never logged) |
| `page_size` | no | 100 | Records fetched per request (1 to 1000) |

Bindings take a resource config `{ "name": "<% resource %>" }`. The connector's state per binding
is `{ "cursor": <last committed id> }` under `bindingStateV1[<stateKey>]`.

## Run it locally

```sh
npm install
npm start          # build, then preview the capture in test.flow.yaml (Ctrl-C stops it)
npm test           # build, then the conformance suite and a two-session preview
npm run check      # flowcap check: the protocol conformance table
npm run bundle     # one self-contained file: dist/<% name %>.mjs
```

Edit `test.flow.yaml` to point the capture at your account. `npx flowcap discover --source
test.flow.yaml` adds bindings for new resources to it.

## Where things are

- `src/models.ts`: the config schema and the document schema (types are inferred from them).
- `src/api.ts`: the source's API. Replace the in-memory dataset with real requests.
- `src/resources.ts`: the `<% resource %>` resource: pages committed with their cursor.
- `src/index.ts`: `defineConnector`. `main.ts`: `serve()`.

## Ship it

Build the image with the Dockerfile of the flowcap repository, or bundle with `npm run bundle` and
run `node --enable-source-maps dist/<% name %>.mjs` in an image labelled
`FLOW_RUNTIME_PROTOCOL=capture` and `FLOW_RUNTIME_CODEC=json`.
