# <% name %>

<% title %>: a [Singer](https://www.singer.io) tap run as a capture connector for
[Estuary Flow](https://estuary.dev) by [flowcap](https://github.com/flowcap/flowcap)'s Singer shim.

## Configure

| Field | Required | Default | What |
|---|---|---|---|
| `api_key` | yes | | Key for the source's API (secret: never logged) |
| `page_size` | no | 100 | Records per page, and between checkpoints (1 to 1000) |

The config is checked against `src/models.ts`, then handed to the tap unchanged. Bindings take
`{ "stream": "<% resource %>", "replication_method"?, "replication_key"? }`: the stream's
`tap_stream_id`, and how the sync catalog asks the tap to replicate it. The tap's state is kept
in Flow's connector state, each stream's bookmark under its binding's state key.

## Run it locally

```sh
npm install
npm start          # build, then preview the capture in test.flow.yaml (Ctrl-C stops it)
npm test           # build, then the conformance suite and a two-session preview
npm run check      # flowcap check: the protocol conformance table
npm run bundle     # one self-contained file: dist/<% name %>.mjs (the tap stays in runtime/)
```

The tap by itself: `python3 runtime/tap.py --config config.json --discover` (`config.json` holds
the same settings as the capture in `test.flow.yaml`; it is git-ignored, since it will hold your
credentials). Edit `test.flow.yaml` to point the capture at your account.
`npx flowcap discover --source test.flow.yaml` adds bindings for new streams to it, and writes
their collections.

## Where things are

- `runtime/tap.py`: the Singer tap, Python's standard library only. Replace `fetch_page` with the
  source's API, or the whole file with an existing tap (and its command in `src/resources.ts`).
- `src/models.ts`: the config schema. `src/resources.ts`: the tap's command.
- `src/index.ts`: `createSingerConnector(childTap(...))`. `main.ts`: `serve()`.

What the shim does for you: discovery to bindings (keys from `key_properties`), a sync catalog
selecting exactly the bound streams, records captured from their bytes (big integers stay
exact), each `STATE` a checkpoint, `ACTIVATE_VERSION` deletions for full-table streams, `BATCH`
files, and a tap that fails, crashes or is stopped loses nothing after its last `STATE`.

## Ship it

Bundle with `npm run bundle` and run `node --enable-source-maps dist/<% name %>.mjs` with
`runtime/tap.py` beside it, in an image that has `python3` and is labelled
`FLOW_RUNTIME_PROTOCOL=capture` and `FLOW_RUNTIME_CODEC=json` (the flowcap repository's
Dockerfile does all this for `connectors/<name>/`: `--build-arg APT_PACKAGES=python3`).
