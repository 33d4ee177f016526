#!/usr/bin/env python3
"""<% title %>: an Airbyte source in plain Python (standard library only).

It follows the Airbyte CLI convention: `spec`, `check --config F`, `discover --config F`,
`read --config F --catalog F [--state F]`, one JSON message per line on stdout. Its one stream,
<% resource %>, is read incrementally by `updated_at` from an in-memory dataset so that it runs
offline: replace `fetch_page` with calls to your API.
"""
import argparse
import json
import sys
from datetime import datetime, timedelta, timezone

DATASET_SIZE = 120
START = datetime(2026, 1, 1, tzinfo=timezone.utc)

SPEC = {
    "documentationUrl": "https://example.com/docs/<% name %>",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "<% title %>",
        "type": "object",
        "required": ["api_key"],
        "properties": {
            "api_key": {"type": "string", "title": "API key", "airbyte_secret": True},
            "page_size": {"type": "integer", "title": "Page size", "default": 25, "minimum": 1},
        },
    },
}

STREAM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")


def log(level, message):
    emit({"type": "LOG", "log": {"level": level, "message": message}})


def load(path, default=None):
    if not path:
        return default
    with open(path) as f:
        return json.load(f)


def fetch_page(config, after):
    """The records updated after `after` (an ISO timestamp), oldest first, one page."""
    size = config.get("page_size", 25)
    out = []
    for i in range(1, DATASET_SIZE + 1):
        updated = (START + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        if after is None or updated > after:
            out.append({"id": i, "name": f"<% resource %> {i}", "updated_at": updated})
            if len(out) == size:
                break
    return out


def read(config, catalog, state):
    cursor = None
    for message in state or []:
        stream = message.get("stream") or {}
        if stream.get("stream_descriptor", {}).get("name") == "<% resource %>":
            cursor = (stream.get("stream_state") or {}).get("updated_at")
    selected = [s["stream"]["name"] for s in catalog.get("streams", [])]
    if "<% resource %>" not in selected:
        return
    while True:
        page = fetch_page(config, cursor)
        if not page:
            return
        now = int(datetime.now(timezone.utc).timestamp() * 1000)
        for record in page:
            emit({"type": "RECORD", "record": {"stream": "<% resource %>", "data": record, "emitted_at": now}})
        cursor = page[-1]["updated_at"]
        emit({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "<% resource %>"}, "stream_state": {"updated_at": cursor}}}})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["spec", "check", "discover", "read"])
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args()
    if args.command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return
    config = load(args.config, {})
    if args.command == "check":
        ok = bool(config.get("api_key"))
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED" if ok else "FAILED", "message": None if ok else "the API key is empty"}})
    elif args.command == "discover":
        stream = {
            "name": "<% resource %>",
            "json_schema": STREAM_SCHEMA,
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["updated_at"],
            "source_defined_primary_key": [["id"]],
        }
        emit({"type": "CATALOG", "catalog": {"streams": [stream]}})
    else:
        log("INFO", "reading <% resource %>")
        read(config, load(args.catalog, {}), load(args.state, []))


if __name__ == "__main__":
    main()
