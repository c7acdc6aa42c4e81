#!/usr/bin/env python3
"""Builds tshark_tls.jsonl: every TLS ClientHello Wireshark finds in the
Suricata-Verify captures (TLS over TCP, and QUIC Initials, which tshark
decrypts), with its bytes and what tshark reads from it, so tests/it/tls.rs
can hold our decoder to Wireshark's reading.

Usage: make_table.py /work/shared/data/pcap/suricata-verify > tshark_tls.jsonl

One JSON object per distinct hello: where (file:frame list), transport
("tcp": hex is the TLS records tshark dissected in the PDU that completes
the hello; "quic": hex is the reassembled CRYPTO handshake message), sni,
alpn (list), and tshark's own ja3_full and ja3.

tshark 4.0 (Debian bookworm) has no JA4 field. ja4 and ja4_r here are
computed by this script from the lists tshark dissected (cipher suites,
extension types, signature algorithms, supported versions, ALPN, all taken
from the bytes tshark marks for each field), following FoxIO's
technical_details/JA4.md: so the parsing is Wireshark's, only the short
formula is ours, written separately from the Rust one.
"""

import hashlib
import json
import os
import subprocess
import sys


def raw_entries(tree, key):
    """(position, bytes) of every `key` field under `tree`, in wire order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key + "_raw":
                    for raw in v if isinstance(v[0], list) else [v]:
                        found.append((raw[1], bytes.fromhex(raw[0])))
                else:
                    walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    return sorted(found, key=lambda e: e[0])


def values16(tree, key):
    return [int.from_bytes(b, "big") for _, b in raw_entries(tree, key)]


def first_value(tree, key):
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key:
                    return v[0] if isinstance(v, list) else v
                found = walk(v)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for item in node:
                found = walk(item)
                if found is not None:
                    return found
        return None

    return walk(tree)


def is_grease(v):
    return v & 0x0F0F == 0x0A0A and v >> 8 == v & 0xFF


VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}


def extension(hello, extension_type):
    """The subtree of the first extension of this type (None without one)."""
    for value in hello.values():
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, dict) and entry.get("tls.handshake.extension.type") == str(extension_type):
                return entry
    return None


def ja4(hello, quic):
    ciphers = [c for c in values16(hello, "tls.handshake.ciphersuite") if not is_grease(c)]
    extensions = [e for e in values16(hello, "tls.handshake.extension.type") if not is_grease(e)]
    # Only signature_algorithms' own list: delegated_credentials (0x0022)
    # carries one too.
    signature_extension = extension(hello, 13) or {}
    signatures = [s for s in values16(signature_extension, "tls.handshake.sig_hash_alg") if not is_grease(s)]
    version_extension = extension(hello, 43) or {}
    supported = [
        v for v in values16(version_extension, "tls.handshake.extensions.supported_version") if not is_grease(v)
    ]
    legacy = values16(hello, "tls.handshake.version")[0]
    version = max(supported) if supported else legacy
    alpn = [b for _, b in raw_entries(extension(hello, 16) or {}, "tls.handshake.extensions_alpn_str")]
    first = alpn[0] if alpn else b""
    if not first:
        alpn_chars = "00"
    elif chr(first[0]).isalnum() and chr(first[-1]).isalnum() and first[0] < 128 and first[-1] < 128:
        alpn_chars = chr(first[0]) + chr(first[-1])
    else:
        alpn_chars = first.hex()[0] + first.hex()[-1]
    a = "%s%s%s%02d%02d%s" % (
        "q" if quic else "t",
        VERSIONS.get(version, "00"),
        "d" if 0 in extensions else "i",
        min(len(ciphers), 99),
        min(len(extensions), 99),
        alpn_chars,
    )
    b_raw = ",".join("%04x" % c for c in sorted(ciphers))
    c_raw = ",".join("%04x" % e for e in sorted(e for e in extensions if e not in (0x0000, 0x0010)))
    if signatures:
        c_raw_full = c_raw + "_" + ",".join("%04x" % s for s in signatures)
    else:
        c_raw_full = c_raw

    def h(text, empty):
        return "000000000000" if empty else hashlib.sha256(text.encode()).hexdigest()[:12]

    return (
        "%s_%s_%s" % (a, h(b_raw, not ciphers), h(c_raw_full, not c_raw)),
        "%s_%s_%s" % (a, b_raw, c_raw_full),
    )


def tls_layers(node, under_quic=False):
    """(tls_raw, tls tree, under QUIC) for every TLS layer in a packet."""
    if isinstance(node, list):
        for item in node:
            yield from tls_layers(item, under_quic)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "tls":
            raws = node.get("tls_raw")
            raws = raws if isinstance(raws[0], list) else [raws]
            for tree, raw in zip(value if isinstance(value, list) else [value], raws):
                yield raw, tree, under_quic
        elif isinstance(value, (dict, list)) and not key.endswith("_raw"):
            yield from tls_layers(value, under_quic or key == "quic")


def client_hellos(tree):
    """Client Hello handshake subtrees of one TLS layer."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("tls.handshake.type") == "1":
                found.append(node)
                return
            for k, v in node.items():
                if not k.endswith("_raw"):
                    walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    return found


def crypto_frames(node):
    """(offset, data) of the CRYPTO frames in a packet's QUIC layers."""
    found = []

    def walk(n):
        if isinstance(n, dict):
            if "quic.crypto.offset" in n and "quic.crypto.crypto_data_raw" in n:
                found.append((int(n["quic.crypto.offset"]), bytes.fromhex(n["quic.crypto.crypto_data_raw"][0])))
            for k, v in n.items():
                if not k.endswith("_raw"):
                    walk(v)
        elif isinstance(n, list):
            for item in n:
                walk(item)

    walk(node)
    return found


def crypto_stream(fragments):
    """The CRYPTO stream from offset 0 as far as it is contiguous."""
    stream = b""
    for offset, data in sorted(fragments):
        if offset <= len(stream):
            stream = stream[:offset] + data if offset + len(data) > len(stream) else stream
    return stream


def hellos(path):
    """tshark's `tls_raw` of a hello inside QUIC is sometimes the last CRYPTO
    frame rather than the reassembled message, so for QUIC the message is
    rebuilt here from the client's CRYPTO frames (the client being whoever
    sent a UDP stream's first packet)."""
    out = subprocess.run(
        [
            "tshark",
            "-r",
            path,
            "-Y",
            "tls.handshake.type == 1 or quic",
            "-T",
            "json",
            "-x",
            "--no-duplicate-keys",
            "-J",
            "frame tcp udp quic tls",
        ],
        capture_output=True,
        check=False,
    ).stdout
    clients = {}
    crypto = {}
    for packet in json.loads(out or b"[]"):
        layers = packet["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        if "udp" in layers:
            stream = layers["udp"]["udp.stream"]
            source = layers["udp"]["udp.srcport"]
            if clients.setdefault(stream, source) == source:
                crypto.setdefault(stream, []).extend(crypto_frames(layers.get("quic", {})))
        for raw, tree, quic in tls_layers(layers):
            for hello in client_hellos(tree):
                if quic:
                    message = crypto_stream(crypto.get(layers["udp"]["udp.stream"], []))
                    message = message[: 4 + int.from_bytes(message[1:4], "big")]
                else:
                    message = bytes.fromhex(raw[0])
                sni = raw_entries(extension(hello, 0) or {}, "tls.handshake.extensions_server_name")
                ja4_hash, ja4_raw = ja4(hello, quic)
                yield frame, {
                    "transport": "quic" if quic else "tcp",
                    "hex": message.hex(),
                    "sni": sni[0][1].decode("utf-8", errors="replace") if sni else None,
                    "alpn": [
                        b.decode("utf-8", errors="replace")
                        for _, b in raw_entries(extension(hello, 16) or {}, "tls.handshake.extensions_alpn_str")
                    ],
                    "ja3_full": first_value(hello, "tls.handshake.ja3_full"),
                    "ja3": first_value(hello, "tls.handshake.ja3"),
                    "ja4": ja4_hash,
                    "ja4_r": ja4_raw,
                }


def main(folder):
    rows = {}
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".pcap"):
            continue
        for frame, fields in hellos(os.path.join(folder, file)):
            key = json.dumps(fields, sort_keys=True)
            row = rows.setdefault(key, {"where": [], **fields})
            row["where"].append("%s:%d" % (file, frame))
    for row in rows.values():
        print(json.dumps(row, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1])
