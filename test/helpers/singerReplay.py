#!/usr/bin/env python3
"""A Singer tap for tests, in Python's standard library only.

It follows the Singer CLI convention (--config F --discover; --config F [--catalog F |
--properties F] [--state F]) with argparse's habits (unknown arguments: a usage error, exit 2)
and plays what a scenario file says, as a real tap process would: blocking writes to a pipe,
stdout buffered, logs on stderr, an exit status.

The scenario is a JSON file named by the SINGER_SCENARIO environment variable:

  catalog      the catalog printed by --discover (pretty-printed, over many lines)
  discover_noise   lines printed on stdout before the catalog
  about        what --about --format=json prints; absent: --about is an unknown argument
  flags        the catalog argument the tap takes: "catalog" (default), "properties", "none"
  log          a file to which each invocation appends one JSON line: its argv, and the
               parsed --config, --catalog/--properties and --state files with their paths and
               modes
  stderr       lines to write to stderr first
  rewrite_config   a config written back to the --config file before syncing
  sync         what a sync plays, one of:
    {"file": F}       the lines of a recorded Singer stream, byte for byte
    {"lines": [...]}  these lines
    {"counter": {...}}  for each of "streams" (default ["a", "b"]): records {"id": n, "stream": s}
                      for n = bookmark+1 .. total, round robin, a STATE every `every` records with
                      {"bookmarks": {s: {"id": n}}}, resuming from the --state bookmarks; "total":
                      null means forever; "padding" adds a string of that many bytes; "progress":
                      N writes "wrote <n>" to stderr every N records; "type" writes message types
                      in that case ("lower")
    plus, for either:
      "crash_after": N   after N lines, flush stdout, write "crashing" to stderr, exit 3
      "exit": N          the exit status at the end (default 0)
      "hang": true       at the end, flush stdout and wait for ever, writing nothing (a hung
                         source)
      "fail_with": M     end by writing a Python traceback ending in M to stderr, exit 1
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def usage(flags):
    catalog = {"catalog": " [--catalog CATALOG]", "properties": " [-p PROPERTIES]", "none": ""}[flags]
    return "usage: replay-tap [-h] -c CONFIG [-s STATE]%s [-d] [--about] [--format FORMAT]\n" % catalog


def parse(argv, flags):
    opts = {}
    rest = list(argv)
    takes = {"-c": "config", "--config": "config", "-s": "state", "--state": "state"}
    if flags == "catalog":
        takes["--catalog"] = "catalog"
    if flags == "properties":
        takes["-p"] = "properties"
        takes["--properties"] = "properties"
    while rest:
        arg = rest.pop(0)
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif arg in ("-d", "--discover"):
            opts["discover"] = True
        elif arg == "--about":
            opts["about"] = True
        elif arg.startswith("--format"):
            if "=" not in arg:
                rest.pop(0)
        elif arg in takes and rest:
            opts[takes[arg]] = rest.pop(0)
        else:
            sys.stderr.write(usage(flags) + "replay-tap: error: unrecognized arguments: %s\n" % arg)
            sys.exit(2)
    return opts


def main(argv):
    scenario = load(os.environ["SINGER_SCENARIO"])
    flags = scenario.get("flags", "catalog")
    opts = parse(argv[1:], flags)
    if opts.get("help"):
        sys.stdout.write(usage(flags) + "\noptions:\n  -c CONFIG, --config CONFIG  Config file\n  -s STATE, --state STATE  State file\n")
        if flags == "catalog":
            sys.stdout.write("  --catalog CATALOG  Catalog file\n")
        if flags == "properties":
            sys.stdout.write("  -p PROPERTIES, --properties PROPERTIES  Property selections: DEPRECATED, Please use --catalog instead\n")
        return 0
    if opts.get("about"):
        if "about" not in scenario:
            sys.stderr.write(usage(flags) + "replay-tap: error: unrecognized arguments: --about\n")
            return 2
        sys.stdout.write(json.dumps(scenario["about"], indent=2) + "\n")
        return 0
    if "config" not in opts:
        sys.stderr.write(usage(flags) + "replay-tap: error: the following arguments are required: -c/--config\n")
        return 2
    if scenario.get("log"):
        entry = {"argv": argv[1:], "pid": os.getpid(), "discover": bool(opts.get("discover"))}
        for name in ("config", "catalog", "properties", "state"):
            if name in opts:
                entry[name] = load(opts[name])
                entry[name + "_path"] = opts[name]
                entry[name + "_mode"] = oct(os.stat(opts[name]).st_mode & 0o777)
                if name == "state":
                    with open(opts[name]) as f:
                        entry["state_text"] = f.read()
        with open(scenario["log"], "a") as f:
            f.write(json.dumps(entry) + "\n")
    for line in scenario.get("stderr", []):
        sys.stderr.write(line + "\n")
    if opts.get("discover"):
        for line in scenario.get("discover_noise", []):
            sys.stdout.write(line + "\n")
        json.dump(scenario["catalog"], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if scenario.get("rewrite_config") is not None:
        with open(opts["config"], "w") as f:
            json.dump(scenario["rewrite_config"], f)
    state = load(opts["state"]) if "state" in opts else {}
    return sync(scenario.get("sync", {}), state)


def sync(spec, state):
    crash_after = spec.get("crash_after")
    written = [0]

    def out(line):
        sys.stdout.write(line + "\n")
        written[0] += 1
        if crash_after is not None and written[0] >= crash_after:
            sys.stdout.flush()
            sys.stderr.write("crashing\n")
            sys.stderr.flush()
            os._exit(3)

    if "file" in spec:
        with open(spec["file"], "rb") as f:
            for raw in f:
                out(raw.decode("utf-8").rstrip("\n"))
    elif "lines" in spec:
        for line in spec["lines"]:
            out(line)
    elif "counter" in spec:
        counter(spec["counter"], state, out)
    if spec.get("fail_with"):
        sys.stdout.flush()
        sys.stderr.write("Traceback (most recent call last):\n  File \"tap.py\", line 3, in <module>\n    sync()\n%s\n" % spec["fail_with"])
        return 1
    if spec.get("hang"):
        sys.stdout.flush()
        import time
        while True:
            time.sleep(3600)
    return spec.get("exit", 0)


def counter(spec, state, out):
    streams = spec.get("streams", ["a", "b"])
    total = spec.get("total")
    every = spec.get("every", 10)
    padding = "x" * spec.get("padding", 0)
    progress = spec.get("progress")
    lower = spec.get("type") == "lower"
    t = (lambda s: s.lower()) if lower else (lambda s: s)
    bookmarks = dict(state.get("bookmarks", {})) if isinstance(state, dict) else {}
    cursor = min([bookmarks.get(s, {}).get("id", 0) for s in streams]) if streams else 0
    for s in streams:
        out(json.dumps({"type": t("SCHEMA"), "stream": s, "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "stream": {"type": "string"}}}, "key_properties": ["id"]}, separators=(",", ":")))
    n = cursor
    written = 0
    while total is None or n < total:
        n += 1
        for s in streams:
            record = {"id": n, "stream": s}
            if padding:
                record["padding"] = padding
            out(json.dumps({"type": t("RECORD"), "stream": s, "record": record}, separators=(",", ":")))
            written += 1
            if progress and written % progress == 0:
                sys.stdout.flush()
                sys.stderr.write("wrote %d\n" % written)
                sys.stderr.flush()
        if n % every == 0:
            for s in streams:
                bookmarks[s] = {"id": n}
            out(json.dumps({"type": t("STATE"), "value": {"bookmarks": bookmarks}}, separators=(",", ":")))
    for s in streams:
        bookmarks[s] = {"id": n}
    out(json.dumps({"type": t("STATE"), "value": {"bookmarks": bookmarks}}, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
