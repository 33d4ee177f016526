#!/usr/bin/env python3
"""tap-example: a small Singer tap in plain Python 3 (standard library only).

It reads a shop's SQLite database (or, without one, a built-in demo shop in memory) and
follows the Singer specification (https://github.com/singer-io/getting-started):

  tap_example.py --about [--format=json]        what it is, its settings and capabilities
  tap_example.py --config CONFIG --discover     its catalog on stdout
  tap_example.py --config CONFIG [--catalog CATALOG] [--state STATE]
                                                sync the selected streams

Streams:
  orders    INCREMENTAL, replicated by updated_at. The bookmark is {"updated_at", "id"} of the
            last row sent, and rows are read in (updated_at, id) order, so rows sharing a
            timestamp are never skipped. A STATE follows every page.
  products  FULL_TABLE, keyed by sku, versioned: each full sync is a new version (the records
            carry it); ACTIVATE_VERSION is sent before the first version ever and after each
            complete one, so a target deletes the products the new version no longer has. A
            sync cut short resumes its version after the last sku sent (the bookmark keeps both).

Config:
  database    path of the SQLite database (tables orders and products); default: the demo shop
  start_date  orders updated before it are not replicated (default: all)
  page_size   rows per page, and between STATE messages (default 100)
"""
import argparse
import json
import sqlite3
import sys
import time

SETTINGS = {
    "type": "object",
    "title": "Example shop",
    "properties": {
        "database": {"type": "string", "title": "Database", "description": "Path of the shop's SQLite database. Leave it out for the built-in demo shop."},
        "start_date": {"type": "string", "format": "date-time", "title": "Start date", "description": "Orders updated before this are not replicated."},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100, "title": "Page size", "description": "Rows per page, and between checkpoints."},
    },
    "additionalProperties": False,
}

ORDERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "customer": {"type": ["string", "null"]},
        "total": {"type": "number", "minimum": 0},
        "status": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "status", "updated_at"],
}

PRODUCTS_SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "stock": {"type": ["integer", "null"]},
    },
    "required": ["sku", "name", "price"],
}


def log(level, message):
    sys.stderr.write("%s %s\n" % (level, message))
    sys.stderr.flush()


def emit(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")


def field_metadata(schema, keys):
    return [{"breadcrumb": ["properties", name], "metadata": {"inclusion": "automatic" if name in keys else "available"}} for name in schema["properties"]]


def catalog():
    return {
        "streams": [
            {
                "tap_stream_id": "orders",
                "stream": "orders",
                "schema": ORDERS_SCHEMA,
                "key_properties": ["id"],
                "metadata": [
                    {"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["id"], "forced-replication-method": "INCREMENTAL", "valid-replication-keys": ["updated_at"]}}
                ]
                + field_metadata(ORDERS_SCHEMA, ["id", "updated_at"]),
            },
            {
                "tap_stream_id": "products",
                "stream": "products",
                "schema": PRODUCTS_SCHEMA,
                "key_properties": ["sku"],
                "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["sku"], "forced-replication-method": "FULL_TABLE"}}]
                + field_metadata(PRODUCTS_SCHEMA, ["sku"]),
            },
        ]
    }


def demo_shop():
    """The built-in demo shop: 250 orders and 8 products, the same every time."""
    db = sqlite3.connect(":memory:")
    create(db)
    statuses = ["placed", "paid", "shipped", "delivered"]
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
        [(i, "customer-%d" % (i % 17), round(i * 3.25, 2), statuses[i % 4], "2026-01-%02dT%02d:%02d:00Z" % (1 + i // 24 % 28, i % 24, i % 60)) for i in range(1, 251)],
    )
    db.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", [("SKU-%03d" % i, "Product %d" % i, 1.5 * i, i * 10 if i % 3 else None) for i in range(1, 9)])
    db.commit()
    return db


def create(db):
    db.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, stock INTEGER)")


def connect(config):
    if not config.get("database"):
        return demo_shop()
    db = sqlite3.connect(config["database"])
    create(db)
    return db


def selected(entry):
    """Whether the catalog selects a stream: metadata at the root breadcrumb ("true" strings too), or the legacy schema flag."""
    for md in entry.get("metadata", []):
        if md.get("breadcrumb") == []:
            value = md.get("metadata", {}).get("selected")
            if value is not None:
                return value is True or str(value).lower() == "true"
    return entry.get("schema", {}).get("selected") is True


def sync_orders(db, config, bookmark):
    page_size = int(config.get("page_size", 100))
    since = (bookmark.get("updated_at") or config.get("start_date") or "", bookmark.get("id", 0))
    emit({"type": "SCHEMA", "stream": "orders", "schema": ORDERS_SCHEMA, "key_properties": ["id"], "bookmark_properties": ["updated_at"]})
    sent = 0
    while True:
        rows = db.execute(
            "SELECT id, customer, total, status, updated_at FROM orders WHERE updated_at > ? OR (updated_at = ? AND id > ?) ORDER BY updated_at, id LIMIT ?",
            (since[0], since[0], since[1], page_size),
        ).fetchall()
        if not rows:
            break
        for id_, customer, total, status, updated_at in rows:
            emit({"type": "RECORD", "stream": "orders", "record": {"id": id_, "customer": customer, "total": total, "status": status, "updated_at": updated_at}, "time_extracted": now()})
        sent += len(rows)
        since = (rows[-1][4], rows[-1][0])
        yield {"updated_at": since[0], "id": since[1]}
    log("INFO", "orders: %d row(s)" % sent)


def sync_products(db, config, bookmark):
    page_size = int(config.get("page_size", 100))
    emit({"type": "SCHEMA", "stream": "products", "schema": PRODUCTS_SCHEMA, "key_properties": ["sku"]})
    version = bookmark.get("version")
    after = bookmark.get("last_sku", "")
    if version is None or not after:
        first = version is None and not bookmark.get("complete")
        version = int(time.time() * 1000)
        after = ""
        if first:
            # The first version ever: a target may create the table now.
            emit({"type": "ACTIVATE_VERSION", "stream": "products", "version": version})
    sent = 0
    while True:
        rows = db.execute("SELECT sku, name, price, stock FROM products WHERE sku > ? ORDER BY sku LIMIT ?", (after, page_size)).fetchall()
        if not rows:
            break
        for sku, name, price, stock in rows:
            emit({"type": "RECORD", "stream": "products", "record": {"sku": sku, "name": name, "price": price, "stock": stock}, "version": version, "time_extracted": now()})
        sent += len(rows)
        after = rows[-1][0]
        yield {"version": version, "last_sku": after}
    emit({"type": "ACTIVATE_VERSION", "stream": "products", "version": version})
    log("INFO", "products: %d row(s), version %d" % (sent, version))
    yield {"complete": True}


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sync(config, catalog_value, state):
    db = connect(config)
    bookmarks = dict(state.get("bookmarks", {}))
    streams = {"orders": sync_orders, "products": sync_products}
    for entry in catalog_value["streams"]:
        name = entry.get("tap_stream_id")
        if name not in streams or not selected(entry):
            continue
        state["currently_syncing"] = name
        for bookmark in streams[name](db, config, bookmarks.get(name, {})):
            bookmarks[name] = bookmark
            state["bookmarks"] = bookmarks
            emit({"type": "STATE", "value": state})
    state["currently_syncing"] = None
    state["bookmarks"] = bookmarks
    emit({"type": "STATE", "value": state})


def main():
    parser = argparse.ArgumentParser(prog="tap-example", description="A Singer tap for an example shop's SQLite database.")
    parser.add_argument("-c", "--config", help="Config file")
    parser.add_argument("-s", "--state", help="State file")
    parser.add_argument("--catalog", help="Catalog file")
    parser.add_argument("-d", "--discover", action="store_true", help="Print the catalog")
    parser.add_argument("--about", action="store_true", help="Print what the tap is")
    parser.add_argument("--format", default="json", help="Format of --about: json")
    args = parser.parse_args()
    if args.about:
        print(json.dumps({"name": "tap-example", "description": "An example shop", "version": "1.0.0", "capabilities": ["about", "catalog", "discover", "state", "activate-version"], "settings": SETTINGS}, indent=2))
        return 0
    if not args.config:
        parser.error("the following arguments are required: -c/--config")
    with open(args.config) as f:
        config = json.load(f)
    unknown = sorted(set(config) - set(SETTINGS["properties"]))
    if unknown:
        log("CRITICAL", "unknown config keys: %s" % ", ".join(unknown))
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
