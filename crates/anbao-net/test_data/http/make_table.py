#!/usr/bin/env python3
"""Builds tshark_http.jsonl: every HTTP/1.x request Wireshark finds in the
Suricata-Verify captures, with the request's bytes (as Wireshark's HTTP
dissector delimited them after TCP reassembly; cut 32 bytes after the first
empty line, or at 4 KiB) and what tshark reads from it, so tests/it/http.rs can hold our
decoder to Wireshark's reading.

Usage: make_table.py /work/shared/data/pcap/suricata-verify > tshark_http.jsonl

One JSON object per distinct request: where (file:frame of every capture
that carries exactly these bytes), hex, and tshark's method, uri, host and
user_agent (the first of each; null when absent). Method, URI and header
values come from the bytes tshark marks for the field (lossy UTF-8), not
its display strings, so escaping cannot differ.
"""

import json
import os
import subprocess
import sys

MAX_BYTES = 4096


def as_list(value):
    return value if isinstance(value, list) else [value]


def raw_bytes(tree, name):
    raw = tree.get(name + "_raw")
    if raw is None:
        return None
    if isinstance(raw[0], list):
        raw = raw[0]
    return bytes.fromhex(raw[0])


def text(data):
    return None if data is None else data.decode("utf-8", errors="replace")


def header_value(line):
    """The value of a raw `Name: value\\r\\n` line, trimmed of spaces and tabs."""
    if line is None:
        return None
    value = line.split(b":", 1)[1]
    return value.rstrip(b"\r\n").strip(b" \t")


def cut_after_head(data):
    """The request cut 32 bytes after the first empty line (any body beyond
    that proves nothing about a head decoder), or at MAX_BYTES."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n") for i in [data.find(sep)] if i >= 0]
    return data[: min(ends) + 32] if ends else data[:MAX_BYTES]


def requests(path):
    out = subprocess.run(
        ["tshark", "-r", path, "-Y", "http.request", "-T", "json", "-x", "--no-duplicate-keys", "-J", "frame http"],
        capture_output=True,
        check=False,
    ).stdout
    for packet in json.loads(out or b"[]"):
        layers = packet["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        raws = layers["http_raw"]
        raws = raws if isinstance(raws[0], list) else [raws]
        for tree, raw in zip(as_list(layers["http"]), raws):
            if tree.get("http.request") != "1":
                continue
            line = next(v for v in tree.values() if isinstance(v, dict) and "http.request.method" in v)
            yield frame, cut_after_head(bytes.fromhex(raw[0])), {
                "method": text(raw_bytes(line, "http.request.method")),
                "uri": text(raw_bytes(line, "http.request.uri")),
                "host": text(header_value(raw_bytes(tree, "http.host"))),
                "user_agent": text(header_value(raw_bytes(tree, "http.user_agent"))),
            }


def main(folder):
    rows = {}
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".pcap"):
            continue
        for frame, data, fields in requests(os.path.join(folder, file)):
            key = (data, json.dumps(fields, sort_keys=True))
            row = rows.setdefault(key, {"where": [], "hex": data.hex(), **fields})
            row["where"].append("%s:%d" % (file, frame))
    for row in rows.values():
        print(json.dumps(row, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1])
