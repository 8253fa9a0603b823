#!/usr/bin/env bash
# grey-report's exports (tools/export.h) from reports of real runs on the simulated driver:
# --perfetto validated against tests/integration/trace_event.schema.json (the Trace Event
# Format, with python3-jsonschema) and checked for what it must show (a counter track per process
# and device ending at 0, one slice per buffer named by its call site, duplicates marked, the peak
# and the optimal peak); --pytorch unpickled with Python's pickle and the fields
# pytorch.org/memory_viz reads checked (segments with blocks and frames, device_traces with
# alloc and free_completed per buffer). Run after `make` (make export-integration does both).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=8GiB GREY_SIM_KERNEL_US=1
work=$(mktemp -d /tmp/grey-export.XXXXXX)
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey
unset GREY_DEDUP GREY_REPORT_DIR GREY_TRACK_SITES GREY_STACK_DEPTH
trap 'rm -rf "$work"' EXIT
SCHEMA=$root/tests/integration/trace_event.schema.json

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# py NAME -- PYTHON...: the Python program (argv: the files) prints nothing and exits 0.
py() {
    local name=$1; shift 2
    if python3 - "$@" >"$work/py.out" 2>&1; then ok "$name"; else fail "$name"; sed 's/^/      /' "$work/py.out" | tail -15; fi
}

echo "== a job with duplicates (prog_dedup upload: three identical 8 MiB buffers and one other)"
R=$work/dedup.json
"$B/bin/grey-run" --quiet --dedup --report "$R" -- "$B/tests/integration/prog_dedup" upload linked 0 >/dev/null 2>&1 ||
    fail "prog_dedup under grey-run"
if "$B/bin/grey-report" --perfetto "$work/dedup.trace.json" "$R" 2>"$work/err"; then ok "--perfetto writes a trace"
else fail "--perfetto"; cat "$work/err"; fi

py "the trace is valid against the trace-event schema" -- "$SCHEMA" "$work/dedup.trace.json" <<'PY'
import json, sys, jsonschema
schema, trace = (json.load(open(p)) for p in sys.argv[1:3])
jsonschema.Draft7Validator.check_schema(schema)
jsonschema.validate(trace, schema)
PY

py "the schema is strict enough to refuse a broken trace" -- "$SCHEMA" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
bad = [{"traceEvents": [{"ph": "b", "name": "x", "pid": 1, "tid": 0, "ts": 1}]},        # async without id
       {"traceEvents": [{"ph": "C", "name": "x", "pid": 1, "tid": 0, "ts": 1, "args": {"b": "1"}}]},
       {"traceEvents": [{"ph": "Q", "name": "x", "pid": 1, "tid": 0, "ts": 1}]},
       {"traceEvents": [{"ph": "X", "name": "x", "pid": 1, "tid": 0}]},
       {"events": []}]
for b in bad:
    try:
        jsonschema.validate(b, schema)
    except jsonschema.ValidationError:
        continue
    sys.exit("accepted: %r" % b)
PY

py "the trace: a counter per process and device topping at the peak; each buffer a slice; duplicates and peaks marked" -- "$work/dedup.trace.json" "$R" <<'PY'
import json, sys
t, r = (json.load(open(p)) for p in sys.argv[1:3])
ev = t["traceEvents"]
pid = r["processes"][0]["pid"]
names = {(e["name"], e["args"]["name"]) for e in ev if e["ph"] == "M"}
assert ("thread_name", "GPU 0") in names, names
assert any(n == "process_name" and "prog_dedup" in v for n, v in names), names
counters = [e for e in ev if e["ph"] == "C" and e["pid"] == pid and e["name"] == "GPU 0 bytes"]
assert counters, "no counter track"
assert max(c["args"]["bytes"] for c in counters) == r["peak"]["bytes"], "the counter's top is the peak"
begins = [e for e in ev if e["ph"] == "b"]
ends = {e["id"] for e in ev if e["ph"] == "e"}
assert len(begins) == len(r["timeline"]["buffers"]) == 4, len(begins)
assert {b["id"] for b in begins} == ends, "every slice ends"
dups = [b for b in begins if "duplicate" in b["cat"].split(",")]
assert len(dups) == 3 and all(b["name"].startswith("[dup] load_weights") for b in dups), [b["name"] for b in dups]
assert [b for b in begins if b not in dups][0]["name"].startswith("load_other"), "the fourth named by its site"
marks = [e["name"] for e in ev if e["ph"] == "i"]
assert any(m.startswith("peak 32.0 MiB") for m in marks), marks
PY

echo "== the HTML page's memory over time"
if "$B/bin/grey-report" --html "$work/dedup.html" "$R" 2>"$work/err"; then ok "--html writes the page"; else fail "--html"; cat "$work/err"; fi
py "memory over time: bands by call site, the duplicates' band orange at 24 of 32 MiB, the top at the peak, self-contained" -- "$work/dedup.html" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
assert '<div class="pictures">' in h and 'class="chart"' in h and 'class="timeline"' in h, "both pictures side by side"
bands = re.findall(r'<polygon class="([^"]*)" fill="([^"]*)" points="([^"]*)"><title>([^<]*)</title>', h)
assert len(bands) == 2, [b[3] for b in bands]          # load_weights (its three stacks merged) and load_other
top = {title: min(float(p.split(",")[1]) for p in pts.split()) for cls, fill, pts, title in bands}
dup = [b for b in bands if b[0] == "band dup"]
assert len(dup) == 1 and dup[0][3].startswith("load_weights (prog_dedup.c:") and dup[0][1] == "#e8590c", dup
assert abs(top[dup[0][3]] - 220 * (1 - 24 / 32)) < 0.5, top   # 3 x 8 MiB of a 32 MiB peak, drawn first
assert min(top.values()) == 0.0, top                           # the stack reaches the peak
assert "Memory over time by call site (peak 32.0 MiB" in h
assert not re.search(r'<script|<link|<img|src=|href="http', h), "nothing external"
PY

echo "== a PyTorch snapshot of a job that leaks one buffer (prog_waste leak)"
L=$work/leak.json
"$B/bin/grey-run" --quiet --dedup --report "$L" -- "$B/tests/integration/prog_waste" leak >"$work/leak.out" 2>&1 ||
    fail "prog_waste leak under grey-run"
subject=$(sed -n 's/^buffer subject //p' "$work/leak.out")
if "$B/bin/grey-report" --pytorch "$work/leak.pickle" "$L" 2>"$work/err"; then ok "--pytorch writes a snapshot"
else fail "--pytorch"; cat "$work/err"; fi
py "the snapshot unpickles with the fields memory_viz reads" -- "$work/leak.pickle" "$subject" <<'PY'
import pickle, sys
s = pickle.load(open(sys.argv[1], "rb"))
subject = int(sys.argv[2], 16)
assert set(s) >= {"segments", "device_traces"}, s.keys()
segs = s["segments"]
assert len(segs) == 1, "one buffer was live at the end: %d segments" % len(segs)
seg = segs[0]
for k, t in [("device", int), ("address", int), ("total_size", int), ("allocated_size", int),
             ("active_size", int), ("stream", int), ("segment_type", str), ("blocks", list)]:
    assert isinstance(seg[k], t), (k, seg.get(k))
assert seg["address"] == subject and seg["total_size"] == 1 << 20, seg
blk = seg["blocks"][0]
assert blk["state"] == "active_allocated" and blk["size"] == 1 << 20 and blk["address"] == subject, blk
assert blk["frames"][0]["name"] == "alloc_subject" and blk["frames"][0]["filename"].endswith("prog_waste.c"), blk["frames"][0]
assert isinstance(blk["frames"][0]["line"], int) and blk["frames"][0]["line"] > 0
tr = s["device_traces"]
assert isinstance(tr, list) and len(tr) == 1, "one device"
acts = [e["action"] for e in tr[0]]
assert acts.count("alloc") == 2 and acts.count("free_completed") == 1, acts
assert all(isinstance(e["addr"], int) and isinstance(e["size"], int) and isinstance(e["time_us"], int) for e in tr[0])
times = [e["time_us"] for e in tr[0]]
assert times == sorted(times), "in time order"
allocs = {e["addr"] for e in tr[0] if e["action"] == "alloc"}
frees = {e["addr"] for e in tr[0] if e["action"] == "free_completed"}
assert subject in allocs and subject not in frees, "the leaked buffer is allocated, never freed"
PY

echo "== refusals"
echo '{"grey_report": 1, "reclaimable_bytes": 0, "groups": [], "processes": []}' >"$work/old.json"
if "$B/bin/grey-report" --perfetto "$work/old.trace" "$work/old.json" 2>"$work/err"; then fail "a report without a timeline refused"
else grep -q "no timeline" "$work/err" && [ ! -e "$work/old.trace" ] && ok "a report without a timeline is refused, no file left" ||
    { fail "refusal message"; cat "$work/err"; }; fi
if "$B/bin/grey-report" --perfetto a --pytorch b "$R" 2>"$work/err"; then fail "two outputs refused"
else grep -q "choose one of" "$work/err" && ok "--perfetto and --pytorch together are refused" || fail "two outputs message"; fi

finish export-integration
