#!/usr/bin/env python3
"""tap-<% provider %>: a Singer tap in plain Python 3 (standard library only).

  tap.py --config CONFIG --discover                       print the catalog
  tap.py --config CONFIG [--catalog CATALOG] [--state STATE]   sync the selected streams

One stream, <% resource %>, replicated INCREMENTALly by `id`: its bookmark is the last id sent,
and a STATE follows every page, so an interrupted sync resumes after its last page. The data is
a deterministic in-memory dataset so everything runs offline: replace `fetch_page` with calls to
the source's API (the config's api_key is there for it).
"""
import argparse
import json
import sys

DATASET_SIZE = 250

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "name": {"type": "string"},
    },
    "required": ["id", "created_at", "name"],
}


def emit(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")


def catalog():
    return {
        "streams": [
            {
                "tap_stream_id": "<% resource %>",
                "stream": "<% resource %>",
                "schema": SCHEMA,
                "key_properties": ["id"],
                "metadata": [
                    {"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["id"], "forced-replication-method": "INCREMENTAL", "valid-replication-keys": ["id"]}},
                    {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
                    {"breadcrumb": ["properties", "created_at"], "metadata": {"inclusion": "available"}},
                    {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}},
                ],
            }
        ]
    }


def fetch_page(config, after_id):
    """The records after `after_id`, one page of them. Replace with the source's API."""
    last = min(after_id + int(config.get("page_size", 100)), DATASET_SIZE)
    return [{"id": i, "created_at": "2026-01-01T%02d:%02d:00Z" % (i // 60 % 24, i % 60), "name": "<% resource %> %d" % i} for i in range(after_id + 1, last + 1)]


def selected(entry):
    for md in entry.get("metadata", []):
        if md.get("breadcrumb") == []:
            value = md.get("metadata", {}).get("selected")
            return value is True or str(value).lower() == "true"
    return False


def sync(config, catalog_value, state):
    bookmarks = state.setdefault("bookmarks", {})
    for entry in catalog_value["streams"]:
        if entry["tap_stream_id"] != "<% resource %>" or not selected(entry):
            continue
        emit({"type": "SCHEMA", "stream": "<% resource %>", "schema": SCHEMA, "key_properties": ["id"], "bookmark_properties": ["id"]})
        after = bookmarks.get("<% resource %>", {}).get("id", 0)
        while True:
            page = fetch_page(config, after)
            if not page:
                break
            for record in page:
                emit({"type": "RECORD", "stream": "<% resource %>", "record": record})
            after = page[-1]["id"]
            bookmarks["<% resource %>"] = {"id": after}
            emit({"type": "STATE", "value": state})


def main():
    parser = argparse.ArgumentParser(prog="tap-<% provider %>")
    parser.add_argument("-c", "--config", required=True, help="Config file")
    parser.add_argument("-s", "--state", help="State file")
    parser.add_argument("--catalog", help="Catalog file")
    parser.add_argument("-d", "--discover", action="store_true", help="Print the catalog")
    args = parser.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    if not config.get("api_key"):
        sys.stderr.write("CRITICAL the config has no api_key\n")
        return 1
    if args.discover:
        json.dump(catalog(), sys.stdout, indent=2)
        print()
        return 0
    state = {}
    if args.state:
        with open(args.state) as f:
            state = json.load(f)
    catalog_value = catalog()
    if args.catalog:
        with open(args.catalog) as f:
            catalog_value = json.load(f)
    sync(config, catalog_value, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
