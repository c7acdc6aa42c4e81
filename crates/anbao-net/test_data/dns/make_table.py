#!/usr/bin/env python3
"""Builds tshark_dns.jsonl: every DNS message Wireshark finds in the
Suricata-Verify captures, with the message bytes and what tshark says about
it, so tests/it/dns.rs can hold our decoder to Wireshark's reading.

Usage: make_table.py /work/shared/data/pcap/suricata-verify > tshark_dns.jsonl

One JSON object per message: file, frame, hex (the DNS message; the TCP
length prefix removed), malformed (tshark flagged the frame), and tshark's id, qr, qname, qtype, rcode (the header
rcode extended by the OPT record's higher bits, RFC 6891 §6.1.3) and the
answer section as [name, type, ttl, data]. `data` is the presentation form
event.rs documents, built here from tshark's per-type fields (A, AAAA, NS,
CNAME, PTR, DNAME, MX, SRV, SOA, TXT); for other types it is RFC 3597 `\\# LEN HEX`
of the record's RDATA bytes as tshark located them. A data of null means
tshark's fields cannot be turned into our form (TXT with bytes tshark
prints its own way).

Frames where the DNS message sits inside an ICMP error or in HTTP/2 (DoH)
are left out: the extractor decodes neither.
"""

import json
import os
import subprocess
import sys


def tshark_json(path):
    out = subprocess.run(
        ["tshark", "-r", path, "-d", "tcp.port==1053,dns", "-d", "udp.port==1053,dns", "-Y", "dns", "-T", "json", "-x", "--no-duplicate-keys", "-J", "frame dns icmp icmpv6"],
        capture_output=True,
        check=False,
    ).stdout
    return json.loads(out or b"[]")


def as_list(value):
    return value if isinstance(value, list) else [value]


def field(tree, name):
    value = tree.get(name)
    if isinstance(value, list):
        return value[0]
    return value


def raw_pos(tree, name):
    raw = tree.get(name + "_raw")
    if raw is None:
        return None
    if isinstance(raw[0], list):
        raw = raw[0]
    return raw[1]


def name_of(text):
    return "." if text == "<Root>" else text


def quoted(strings):
    out = []
    for s in strings:
        if any(ord(c) < 0x20 or ord(c) > 0x7E or c == "\\" for c in s):
            return None
        out.append('"' + s.replace('"', '\\"') + '"')
    return " ".join(out)


def record_entries(section):
    """Records of a section in wire order (duplicate summaries are merged
    into lists by --no-duplicate-keys, so order by byte position)."""
    entries = []
    if not isinstance(section, dict):
        return entries
    for value in section.values():
        for entry in as_list(value):
            if isinstance(entry, dict):
                entries.append(entry)
    return sorted(entries, key=lambda e: raw_pos(e, "dns.resp.type") or 0)


def answer(entry, message, start):
    rtype = int(field(entry, "dns.resp.type"))
    ttl = int(field(entry, "dns.resp.ttl"))
    if "dns.srv.service" in entry:
        name = ".".join(field(entry, k) for k in ("dns.srv.service", "dns.srv.proto", "dns.srv.name"))
    else:
        name = name_of(field(entry, "dns.resp.name"))
    data = None
    if rtype == 1:
        data = field(entry, "dns.a")
    elif rtype == 28:
        data = field(entry, "dns.aaaa")
    elif rtype == 2:
        data = field(entry, "dns.ns")
    elif rtype == 5:
        data = field(entry, "dns.cname")
    elif rtype == 12:
        data = field(entry, "dns.ptr.domain_name")
    elif rtype == 39:
        data = field(entry, "dns.dname")
    elif rtype == 15:
        data = "%s %s" % (field(entry, "dns.mx.preference"), name_of(field(entry, "dns.mx.mail_exchange")))
    elif rtype == 33:
        numbers = [field(entry, k) for k in ("dns.srv.priority", "dns.srv.weight", "dns.srv.port")]
        data = " ".join(numbers + [name_of(field(entry, "dns.srv.target"))])
    elif rtype == 6:
        data = " ".join(
            [name_of(field(entry, "dns.soa.mname")), name_of(field(entry, "dns.soa.rname"))]
            + [
                field(entry, k)
                for k in (
                    "dns.soa.serial_number",
                    "dns.soa.refresh_interval",
                    "dns.soa.retry_interval",
                    "dns.soa.expire_limit",
                    "dns.soa.minimum_ttl",
                )
            ]
        )
    elif rtype == 16:
        data = quoted(as_list(entry.get("dns.txt", [])))
    else:
        length = int(field(entry, "dns.resp.len"))
        at = raw_pos(entry, "dns.resp.len") + 2 - start
        rdata = message[at : at + length]
        data = "\\# %d" % length + ("" if not rdata else " " + rdata.hex().upper())
    if rtype in (2, 5, 12, 39) and data is not None:
        data = name_of(data)
    return [name, rtype, ttl, data]


def messages(path):
    for packet in tshark_json(path):
        layers = packet["_source"]["layers"]
        if "icmp" in layers or "icmpv6" in layers:
            continue
        frame = int(layers["frame"]["frame.number"])
        if "dns" not in layers:
            continue  # DNS inside HTTP/2
        raws = layers["dns_raw"]
        raws = raws if isinstance(raws[0], list) else [raws]
        for tree, raw in zip(as_list(layers["dns"]), raws):
            yield frame, tree, raw, "_ws.malformed" in layers or "_ws.malformed" in tree


def main(folder):
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".pcap"):
            continue
        for frame, tree, raw, malformed in messages(os.path.join(folder, file)):
            message = bytes.fromhex(raw[0])
            start = raw[1]
            if "dns.length" in tree:
                message = message[2:]
                start += 2
            flags = tree.get("dns.flags_tree", {})
            # UPDATE (RFC 2136) has the same layout under other names: the
            # zone is the question, the prerequisites the answer section.
            queries = tree.get("Queries", tree.get("Zone", {}))
            query = next((q for v in queries.values() for q in as_list(v) if isinstance(q, dict)), None)
            row = {
                "file": file,
                "frame": frame,
                "hex": message.hex(),
                "malformed": malformed,
                "id": int(field(tree, "dns.id"), 16),
                "qr": "response" if field(flags, "dns.flags.response") == "1" else "query",
                "qname": None if query is None else name_of(field(query, "dns.qry.name")),
                "qtype": None if query is None else int(field(query, "dns.qry.type")),
            }
            # tshark shows no rcode field for queries; take the header's bits.
            rcode = int(field(tree, "dns.flags"), 16) & 0xF
            for entry in record_entries(tree.get("Additional records", {})):
                if field(entry, "dns.resp.type") == "41":
                    rcode |= int(field(entry, "dns.resp.ext_rcode") or "0", 0) << 4
                    break
            row["rcode"] = rcode
            row["answers"] = [answer(e, message, start) for e in record_entries(tree.get("Answers", tree.get("Prerequisites", {})))]
            print(json.dumps(row, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1])
