#!/usr/bin/env python3
"""An Airbyte source for tests, in Python's standard library only.

It follows the Airbyte CLI convention (spec, check --config F, discover --config F,
read --config F --catalog F [--state F]) and plays what a scenario file says, as a real source
process would: blocking writes to a pipe, stdout buffered, logs on stderr, an exit status.

The scenario is a JSON file named by the REPLAY_SCENARIO environment variable:

  spec       the ConnectorSpecification printed by `spec`
  catalog    the AirbyteCatalog printed by `discover`
  check      the connectionStatus printed by `check` (default SUCCEEDED)
  log        a file to which each invocation appends one JSON line: the command, the names
             of its environment variables, and the parsed --config, --catalog and --state
             files it was given
  control    a config to send as a CONTROL connectorConfig message before answering
  read       what `read` plays, one of:
    {"file": F}          the lines of a recorded message stream, byte for byte; a bare
                         AirbyteRecordMessage line ({"stream", "data", ...}) is wrapped in a
                         RECORD envelope by string concatenation, so numbers keep every digit
    {"counter": {...}}   records {"id": n, "stream": s} for n = cursor+1 .. total, a STATE every
                         `every` records (of `type` STREAM, GLOBAL or LEGACY), resuming from
                         the cursor in --state; "padding" adds a string of that many bytes;
                         "total": null means forever; "progress": N writes "wrote <n>" to
                         stderr every N records
    plus, for either:
      "crash_after": N   after N lines, flush stdout, write "crashing" to stderr, exit 3
      "exit": N          the exit status at the end (default 0)
      "hang": true       at the end, flush stdout and wait for ever, writing nothing (a hung
                         source)
      "stderr": [..]     lines to write to stderr first
      "trace_error": M   end with a TRACE ERROR message M
      "stream_status": true   emit STREAM_STATUS COMPLETE for every stream at the end
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def main(argv):
    scenario = load(os.environ["REPLAY_SCENARIO"])
    command = argv[1]
    opts = {}
    i = 2
    while i < len(argv):
        opts[argv[i].lstrip("-")] = argv[i + 1]
        i += 2
    if scenario.get("log"):
        entry = {"command": command, "pid": os.getpid(), "env": sorted(os.environ)}
        for name in ("config", "catalog", "state"):
            if name in opts:
                entry[name] = load(opts[name])
                entry[name + "_path"] = opts[name]
                entry[name + "_mode"] = oct(os.stat(opts[name]).st_mode & 0o777)
        with open(scenario["log"], "a") as f:
            f.write(json.dumps(entry) + "\n")
    if scenario.get("control") is not None and command != "spec":
        emit({"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1, "connectorConfig": {"config": scenario["control"]}}})
    if command == "spec":
        emit({"type": "SPEC", "spec": scenario["spec"]})
    elif command == "check":
        emit({"type": "LOG", "log": {"level": "INFO", "message": "checking"}})
        emit({"type": "CONNECTION_STATUS", "connectionStatus": scenario.get("check", {"status": "SUCCEEDED"})})
    elif command == "discover":
        emit({"type": "CATALOG", "catalog": scenario["catalog"]})
    elif command == "read":
        return read(scenario.get("read", {}), opts)
    else:
        sys.stderr.write("unknown command %s\n" % command)
        return 2
    return 0


def read(spec, opts):
    for line in spec.get("stderr", []):
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    crash_after = spec.get("crash_after")
    written = 0

    def out(text):
        nonlocal written
        if crash_after is not None and written >= crash_after:
            sys.stdout.flush()
            sys.stderr.write("crashing\n")
            sys.stderr.flush()
            os._exit(3)
        sys.stdout.write(text + "\n")
        written += 1

    if "file" in spec:
        with open(spec["file"], encoding="utf-8") as f:
            for raw in f:
                raw = raw.rstrip("\n")
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict) and "type" not in parsed and "stream" in parsed and "data" in parsed:
                    raw = '{"type":"RECORD","record":' + raw + "}"
                out(raw)
    elif "counter" in spec:
        counter(spec["counter"], opts, out)
    if spec.get("stream_status"):
        catalog = load(opts["catalog"])
        for s in catalog["streams"]:
            out(json.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": {"stream_descriptor": {"name": s["stream"]["name"]}, "status": "COMPLETE"}}}))
    if spec.get("trace_error"):
        out(json.dumps({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1, "error": {"message": spec["trace_error"], "failure_type": "system_error"}}}))
    sys.stdout.flush()
    if spec.get("hang"):
        sys.stdout.flush()
        import time
        while True:
            time.sleep(3600)
    return spec.get("exit", 0)


def counter(spec, opts, out):
    catalog = load(opts["catalog"])
    streams = [s["stream"]["name"] for s in catalog["streams"]]
    state_type = spec.get("type", "STREAM")
    every = spec.get("every", 10)
    total = spec.get("total", 100)
    padding = "x" * spec.get("padding", 0)
    cursors = {s: 0 for s in streams}
    if "state" in opts:
        given = load(opts["state"])
        if state_type == "LEGACY":
            for s in streams:
                cursors[s] = given.get(s, {}).get("cursor", 0)
        else:
            for message in given:
                entries = [message["stream"]] if message["type"] == "STREAM" else message["global"]["stream_states"]
                for e in entries:
                    if e["stream_descriptor"]["name"] in cursors:
                        cursors[e["stream_descriptor"]["name"]] = e["stream_state"]["cursor"]

    def state():
        if state_type == "STREAM":
            for s in streams:
                out(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": s}, "stream_state": {"cursor": cursors[s]}}}}))
        elif state_type == "GLOBAL":
            out(json.dumps({"type": "STATE", "state": {"type": "GLOBAL", "global": {"shared_state": {"lsn": sum(cursors.values())}, "stream_states": [{"stream_descriptor": {"name": s}, "stream_state": {"cursor": cursors[s]}} for s in streams]}}}))
        else:
            out(json.dumps({"type": "STATE", "state": {"data": {s: {"cursor": cursors[s]} for s in streams}}}))

    progress = spec.get("progress")
    n = min(cursors.values()) if cursors else 0
    while total is None or n < total:
        n += 1
        if progress and n % progress == 0:
            sys.stderr.write("wrote %d\n" % n)
            sys.stderr.flush()
        for s in streams:
            if cursors[s] >= n:
                continue
            record = {"id": n, "stream": s}
            if padding:
                record["padding"] = padding
            out(json.dumps({"type": "RECORD", "record": {"stream": s, "data": record, "emitted_at": 1}}, separators=(",", ":")))
            cursors[s] = n
        if n % every == 0:
            state()
    state()


if __name__ == "__main__":
    try:
        code = main(sys.argv)
        sys.stdout.flush()
    except BrokenPipeError:
        code = 1
    sys.exit(code)
