#!/usr/bin/env python3
"""Regenerates the reference tables of the capture corpus from Wireshark's
tshark (one pass per file). Run from this folder:

    ./make_corpus_tables.py [../../../../../shared/data/pcap/suricata-verify]

corpus-frames.tsv    file, frames, ip (frames with an IPv4/IPv6 header)
corpus-messages.tsv  file, kind, src, sport, dst, dport, detail: one row per
                     application message tshark finds where the extractor
                     looks for one:
  dns   UDP port 53 datagrams (not quoted in ICMP errors) and each DNS
        message in TCP port 53 streams; detail = DNS id and qr (q/r)
  http  each HTTP request in TCP; detail = "METHOD URI"
  tls   each ClientHello in TCP (TLS records, not the SSLv2 format);
        detail = its random (hex)
"""
import os
import subprocess
import sys

FIELDS = [
    "frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport",
    "dns.id", "dns.flags.response", "http.request.method", "http.request.uri",
    "tls.handshake.type", "tls.handshake.random",
]


# Joins a field's values; URIs may hold commas.
SEP = "\x1f"


def first(v):
    return v.split(SEP)[0] if v else ""


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "../../../../../shared/data/pcap/suricata-verify"
    frames_out = ["file\tframes\tip"]
    messages_out = ["file\tkind\tsrc\tsport\tdst\tdport\tdetail"]
    for name in sorted(os.listdir(folder)):
        if not (name.endswith(".pcap") or name.endswith(".pcapng")):
            continue
        cmd = ["tshark", "-r", os.path.join(folder, name), "-T", "fields", "-E", "separator=\t",
               "-E", "occurrence=a", "-E", "aggregator=" + SEP]
        for f in FIELDS:
            cmd += ["-e", f]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        frames = ip = 0
        for line in out.splitlines():
            row = dict(zip(FIELDS, line.split("\t")))
            frames += 1
            protocols = row["frame.protocols"].split(":")
            src = first(row["ip.src"]) or first(row["ipv6.src"])
            dst = first(row["ip.dst"]) or first(row["ipv6.dst"])
            if "ip" in protocols or "ipv6" in protocols:
                ip += 1
            quoted = "icmp" in protocols or "icmpv6" in protocols
            if row["udp.srcport"] and not quoted:
                sport, dport = first(row["udp.srcport"]), first(row["udp.dstport"])
                if "53" in (sport, dport):
                    ident = first(row["dns.id"])
                    qr = "r" if first(row["dns.flags.response"]) in ("1", "True") else "q"
                    detail = f"{int(ident, 16) if ident.startswith('0x') else ident} {qr}" if ident else ""
                    messages_out.append(f"{name}\tdns\t{src}\t{sport}\t{dst}\t{dport}\t{detail}")
            if row["tcp.srcport"] and not quoted:
                sport, dport = first(row["tcp.srcport"]), first(row["tcp.dstport"])
                if "53" in (sport, dport) and row["dns.id"]:
                    ids = row["dns.id"].split(SEP)
                    qrs = row["dns.flags.response"].split(SEP)
                    for i, ident in enumerate(ids):
                        qr = "r" if i < len(qrs) and qrs[i] in ("1", "True") else "q"
                        value = int(ident, 16) if ident.startswith("0x") else ident
                        messages_out.append(f"{name}\tdns\t{src}\t{sport}\t{dst}\t{dport}\t{value} {qr}")
                methods = [m for m in row["http.request.method"].split(SEP) if m]
                uris = row["http.request.uri"].split(SEP)
                for i, method in enumerate(methods):
                    uri = uris[i] if i < len(uris) else ""
                    messages_out.append(f"{name}\thttp\t{src}\t{sport}\t{dst}\t{dport}\t{method} {uri}")
                types = row["tls.handshake.type"].split(SEP)
                randoms = row["tls.handshake.random"].split(SEP)
                # Randoms come from ClientHello and ServerHello, in order.
                hellos = [t for t in types if t in ("1", "2")]
                for i, t in enumerate(hellos):
                    r = randoms[i] if i < len(randoms) else ""
                    # No random: an SSLv2-format hello, which the extractor does not read.
                    if t == "1" and r:
                        messages_out.append(f"{name}\ttls\t{src}\t{sport}\t{dst}\t{dport}\t{r.replace(':', '')}")
        frames_out.append(f"{name}\t{frames}\t{ip}")
    with open("corpus-frames.tsv", "w") as f:
        f.write("\n".join(frames_out) + "\n")
    with open("corpus-messages.tsv", "w") as f:
        f.write("\n".join(messages_out) + "\n")


if __name__ == "__main__":
    main()
