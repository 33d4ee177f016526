# <% name %>

<% title %>: an [Airbyte](https://airbyte.com) source run as a capture connector for
[Estuary Flow](https://estuary.dev) by [flowcap](https://github.com/flowcap/flowcap)'s Airbyte shim.

The source is `runtime/source.py` (Python, standard library only). `main.ts` runs it as a child
process with the Airbyte CLI convention; to wrap another Airbyte source, change the argv there
(`["python3", "-m", "source_foo"]`, `["node", "bin/main"]`, a binary...).

## Configure

The endpoint config is the source's own `connectionSpecification`, passed to it unchanged
(`src/models.ts` declares the same schema for TypeScript, with its type `EndpointConfig`; the
tests check the two agree):

| Field | Required | Default | What |
|---|---|---|---|
| `api_key` | yes | | Key for the source's API (`airbyte_secret`: never logged) |
| `page_size` | no | 25 | Records per page |

Bindings take `{ "stream": "<% resource %>", "syncMode": "incremental", "cursorField": ["updated_at"] }`.
The source's STREAM state is kept under each binding's state key and handed back on the next `read`.

## Run it locally

```sh
npm install
npm start          # build, then preview the capture in test.flow.yaml
npm test           # build, then the conformance suite and a resumed two-session preview
npm run check      # flowcap check: the protocol conformance table
npm run bundle     # dist/<% name %>.mjs; ship it with runtime/source.py beside it
```

## Ship it

The bundle runs the source from `source.py` beside it (or `../runtime/source.py`). In an image,
copy `runtime/` next to the bundle and install `python3`; the flowcap repository's Dockerfile does
both (`connectors/<name>/runtime/`, `--build-arg APT_PACKAGES=python3`).
