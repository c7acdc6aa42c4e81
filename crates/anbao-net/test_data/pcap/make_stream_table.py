#!/usr/bin/env python3
"""Regenerates corpus-streams.tsv: every TCP stream of the corpus as
Wireshark's "Follow TCP stream" (tshark -z follow,tcp,raw) puts it
together. Run from this folder:

    ./make_stream_table.py [../../../../../shared/data/pcap/suricata-verify]

Columns: file, stream index, then for each direction (node 0 -> node 1,
node 1 -> node 0): sender address, sender port, byte count, SHA-256 of the
bytes. The tests reassemble the same streams and compare.
"""
import hashlib
import os
import re
import subprocess
import sys


def endpoint(text):
    m = re.match(r"^\[?(.*?)\]?:(\d+)$", text.strip())
    return m.group(1), m.group(2)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "../../../../../shared/data/pcap/suricata-verify"
    rows = ["file\tstream\tsrc0\tsport0\tlen0\tsha0\tsrc1\tsport1\tlen1\tsha1"]
    for name in sorted(os.listdir(folder)):
        if not (name.endswith(".pcap") or name.endswith(".pcapng")):
            continue
        path = os.path.join(folder, name)
        ids = subprocess.run(["tshark", "-r", path, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream"],
                             capture_output=True, text=True).stdout.split()
        streams = sorted({int(i) for i in ids})
        if not streams:
            continue
        cmd = ["tshark", "-r", path, "-q"]
        for s in streams:
            cmd += ["-z", f"follow,tcp,raw,{s}"]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        for block in out.split("===================================================================\n"):
            lines = block.splitlines()
            header = {}
            data = [bytearray(), bytearray()]
            for line in lines:
                if line.startswith("Filter: tcp.stream eq "):
                    header["stream"] = line.split()[-1]
                elif line.startswith("Node 0: "):
                    header[0] = endpoint(line[8:])
                elif line.startswith("Node 1: "):
                    header[1] = endpoint(line[8:])
                elif line.startswith("Follow:") or not line.strip():
                    continue
                elif line.startswith("\t"):
                    data[1] += bytes.fromhex(line.strip())
                else:
                    data[0] += bytes.fromhex(line.strip())
            if "stream" not in header:
                continue
            cols = [name, header["stream"]]
            for side in (0, 1):
                cols += [header[side][0], header[side][1], str(len(data[side])),
                         hashlib.sha256(bytes(data[side])).hexdigest()]
            rows.append("\t".join(cols))
    with open("corpus-streams.tsv", "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
